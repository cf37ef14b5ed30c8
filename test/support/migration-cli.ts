import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CliRun {
  code: number | null;
  output: string;
  ms: number;
}

export interface CliOptions {
  /** The checkout whose build runs (default: this one). */
  cwd?: string;
  /** Called with each line the command prints, as it prints it. */
  onLine?: (line: string) => void;
}

/**
 * The image's migration command, as the Kubernetes Job runs it: the compiled data source, no TypeScript
 * tooling. `env` is the whole environment besides PATH and NODE_ENV=test.
 */
export function migrationCli(
  command: 'migration:run' | 'migration:revert',
  env: Record<string, string>,
  options: CliOptions = {},
): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['node_modules/typeorm/cli.js', command, '-d', 'dist/database/data-source.js'],
    {
      cwd: options.cwd ?? ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (options.onLine) chunk.toString().split('\n').forEach(options.onLine);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output, ms: Date.now() - started })));
}
