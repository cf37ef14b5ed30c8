import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';

export const TEMPLATE_DATABASE = 'tasks_test_template';

export function adminUrl(): string {
  const url = process.env.TEST_ADMIN_URL;
  if (!url) throw new Error('TEST_ADMIN_URL is not set: run e2e tests through jest (global-setup.ts)');
  return url;
}

export function withDatabaseName(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool for the test's own assertions on database state. */
  pool: Pool;
  drop(): Promise<void>;
}

/** A database of the test file's own, cloned from the migrated template (or empty). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `tasks_test_${randomBytes(6).toString('hex')}`;
  await admin((client) =>
    client.query(`CREATE DATABASE ${name}${options.migrated === false ? '' : ` TEMPLATE ${TEMPLATE_DATABASE}`}`),
  );
  const url = withDatabaseName(adminUrl(), name);
  const pool = new Pool({ connectionString: url, max: 4 });
  // An idle assertion connection that the server closes is not a test failure; the pool replaces it.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    drop: async () => {
      await pool.end();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
