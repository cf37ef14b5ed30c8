import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/configuration';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/run-migrations';
import { TEMPLATE_DATABASE, withDatabaseName } from './database';

/**
 * Once per `npm test`: a fresh PostgreSQL cluster on a free port (or TEST_DATABASE_URL's server), and a
 * migrated template database that every test file clones into a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  // The e2e tests run the built service: build it unless dist/ is current.
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-if-stale.js')], { stdio: 'inherit' });

  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const parent = await mkdtemp(join(tmpdir(), 'tasks-api-test-'));
    await chmod(parent, 0o755); // as root, the server runs as the `postgres` user and must reach its folder
    const dataDir = join(parent, 'pg');
    const server = await startEmbeddedPostgres({ dataDir, port: 0, database: 'postgres', persistent: false });
    (globalThis as { __TEST_PG__?: typeof server }).__TEST_PG__ = server;
    adminUrl = server.url;
  }
  process.env.TEST_ADMIN_URL = adminUrl;

  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabaseName(adminUrl, TEMPLATE_DATABASE);
  await runMigrations(loadConfig({ NODE_ENV: 'test', DATABASE_URL: templateUrl }).database);
}
