import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

export interface PreviousRelease {
  commit: string;
  /** The release's checkout, installed and built. */
  dir: string;
  main: string;
  /** What preparing it took: 0 when a build of that commit was cached. */
  preparedMs: number;
}

/**
 * The release named in release/previous, checked out from this repository's history, installed with its
 * own lockfile (from the npm cache where it can) and built, as its image would be. A build is kept per
 * commit under ~/.cache/tasks-api/releases/, beside the Node.js CI caches, so only the first run pays.
 */
export async function previousRelease(): Promise<PreviousRelease> {
  const commit = (await readFile(join(ROOT, 'release', 'previous'), 'utf8')).trim();
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`release/previous must hold a full commit hash, not "${commit}"`);
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tasks-api', 'releases');
  const dir = join(cache, commit);
  const main = join(dir, 'dist', 'main.js');
  if (existsSync(join(dir, '.built'))) return { commit, dir, main, preparedMs: 0 };

  const started = Date.now();
  try {
    await run('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: ROOT });
  } catch {
    throw new Error(`release/previous names ${commit}, which this clone does not have: fetch its full history`);
  }
  // Built beside its final place and moved there when complete: a concurrent run never sees half a build.
  const building = `${dir}.${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  try {
    await run('git', ['archive', '--output', join(building, 'source.tar'), commit], { cwd: ROOT });
    await run('tar', ['-xf', 'source.tar'], { cwd: building });
    await rm(join(building, 'source.tar'));
    const npm = (args: string[]) =>
      run('npm', args, { cwd: building, env: { ...process.env, NODE_ENV: 'development' }, maxBuffer: 64 << 20 });
    await npm(['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    await npm(['run', 'build']);
    await writeFile(join(building, '.built'), `${commit}\n`);
    if (!existsSync(join(dir, '.built'))) {
      await rm(dir, { recursive: true, force: true });
      await rename(building, dir);
    }
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return { commit, dir, main, preparedMs: Date.now() - started };
}
