import { Client } from 'pg';
import { TEMPLATE_DATABASE } from './database';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __TEST_PGBOUNCER__?: { close(): Promise<void> } }).__TEST_PGBOUNCER__?.close();
  const server = (globalThis as { __TEST_PG__?: { stop(): Promise<void> } }).__TEST_PG__;
  if (server) {
    await server.stop();
    return;
  }
  const admin = new Client({ connectionString: process.env.TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
  await admin.end();
}
