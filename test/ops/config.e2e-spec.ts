import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from '../support/app';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');
const PASSWORD = 'pw-that-must-never-be-printed';

// jest.config.js sets testTimeout on the e2e project, where Jest ignores it (it reads only the top-level
// option), so hooks and tests would get 5 s: too little for starting services under a parallel run.
jest.setTimeout(60_000);

interface Outcome {
  code: number | null;
  lines: string[];
  ms: number;
}

/** Runs the built service with only PATH and `env`, and collects what it printed until it exited. */
function boot(env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    // A service that does not stop by itself fails the test rather than hanging it.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const lines = output.split('\n').filter((line) => line.trim() !== '');
      resolve({ code, lines, ms: Date.now() - started });
    });
  });
}

function expectOneLineNaming(outcome: Outcome, variable: string): void {
  expect(outcome.code).not.toBe(0);
  expect(outcome.code).not.toBeNull();
  expect(outcome.ms).toBeLessThan(10_000);
  expect(outcome.lines).toEqual([expect.stringContaining(variable)]);
  expect(outcome.lines.join('\n')).not.toContain(PASSWORD);
}

describe('start-up configuration in production', () => {
  const url = `postgres://tasks:${PASSWORD}@db.example.com:5432/tasks`;

  it('refuses to start without DATABASE_URL, in one line naming it', async () => {
    expectOneLineNaming(await boot({ NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET }), 'DATABASE_URL');
  });

  it('refuses to start without JWT_SECRET, in one line naming it', async () => {
    expectOneLineNaming(await boot({ NODE_ENV: 'production', DATABASE_URL: url }), 'JWT_SECRET');
  });

  it('refuses a JWT_SECRET of 10 characters', async () => {
    const outcome = await boot({ NODE_ENV: 'production', DATABASE_URL: url, JWT_SECRET: '0123456789' });
    expectOneLineNaming(outcome, 'JWT_SECRET');
    expect(outcome.lines[0]).not.toContain('0123456789');
  });

  it('refuses a DATABASE_URL that is not PostgreSQL', async () => {
    expectOneLineNaming(
      await boot({ NODE_ENV: 'production', DATABASE_URL: 'mysql://x', JWT_SECRET: TEST_JWT_SECRET }),
      'DATABASE_URL',
    );
  });

  it('refuses TRUST_PROXY=true (any sender may set the client address), in one line naming it', async () => {
    const outcome = await boot({
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET: TEST_JWT_SECRET,
      TRUST_PROXY: 'true',
    });
    expectOneLineNaming(outcome, 'TRUST_PROXY');
    expect(outcome.lines[0]).toMatch(/refused in production/);
  });

  it('refuses a TRUST_PROXY entry that is not an address or CIDR, naming the entry', async () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: url,
      JWT_SECRET: TEST_JWT_SECRET,
      TRUST_PROXY: '10.0.0.0/8,10.0.0.0/33',
    };
    const outcome = await boot(env);
    expectOneLineNaming(outcome, 'TRUST_PROXY');
    expect(outcome.lines[0]).toContain('"10.0.0.0/33"');
  });

  it('names the first problem when there are several', async () => {
    const outcome = await boot({ NODE_ENV: 'production' });
    expectOneLineNaming(outcome, 'DATABASE_URL');
  });

  it('refuses a pooled (PgBouncer) host given startup parameters, naming the parameter, before connecting', async () => {
    const pooled = `postgres://tasks:${PASSWORD}@ep-x-pooler.example.com/db?options=-c%20statement_timeout%3D5s`;
    const outcome = await boot({ NODE_ENV: 'production', DATABASE_URL: pooled, JWT_SECRET: TEST_JWT_SECRET });
    expectOneLineNaming(outcome, 'DATABASE_URL');
    expect(outcome.lines[0]).toMatch(/startup parameter options/);
    expect(outcome.lines[0]).not.toMatch(/^\s+at /);
  });

  it('gives up on an unreachable database after DB_STARTUP_RETRY_MS without printing its password', async () => {
    // A valid configuration gets past validation: what fails here is the connection, not a variable.
    const outcome = await boot({
      NODE_ENV: 'production',
      DATABASE_URL: `postgres://tasks:${PASSWORD}@127.0.0.1:1/db`,
      JWT_SECRET: TEST_JWT_SECRET,
      DB_STARTUP_RETRY_MS: '0',
      DB_CONNECT_TIMEOUT_MS: '500',
    });
    expect(outcome.code).not.toBe(0);
    expect(outcome.code).not.toBeNull();
    expect(outcome.ms).toBeLessThan(10_000);
    const output = outcome.lines.join('\n');
    expect(output).toMatch(/ECONNREFUSED/);
    expect(output).not.toMatch(/Configuration error/);
    expect(output).not.toContain(PASSWORD);
  });
});
