import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/configuration';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/run-migrations';
import { TEMPLATE_DATABASE, withDatabaseName } from './database';
import { PgBouncer } from './pgbouncer';

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

  if (process.env.TEST_PGBOUNCER === '1') await startPgBouncer(adminUrl);
}

/**
 * `npm run test:pgbouncer`: PgBouncer in transaction mode with a small server pool, like Neon's pooler,
 * in front of the same server; test/support/app.ts points DATABASE_URL at it.
 */
async function startPgBouncer(adminUrl: string): Promise<void> {
  const admin = new URL(adminUrl);
  const bouncer = await PgBouncer.start({
    target: { host: admin.hostname, port: Number(admin.port) },
    user: decodeURIComponent(admin.username),
    secret: await PgBouncer.secretOf(adminUrl, decodeURIComponent(admin.username)),
    poolMode: 'transaction',
    defaultPoolSize: 5,
  });
  (globalThis as { __TEST_PGBOUNCER__?: PgBouncer }).__TEST_PGBOUNCER__ = bouncer;
  process.env.TEST_PGBOUNCER_PORT = String(bouncer.port);
  console.log(`\nPgBouncer (transaction mode, default_pool_size 5) on port ${bouncer.port}`);
}
