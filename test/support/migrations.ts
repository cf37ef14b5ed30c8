import type { Pool } from 'pg';
import { loadConfig } from '../../src/config/configuration';
import type { DatabaseConfig } from '../../src/config/database.config';

// What test/ops/schema and test/ops/migrations check a database against.

export const MIGRATIONS = [
  'InitialSchema1795420000000',
  'IdempotencyKeys1795420000001',
  'SessionRotatedTokens1795420000002',
  'UserScopedSearchIndex1795420000003',
  'BucketedSearchIndex1795420000004',
  'SessionGenerations1795420000005',
  'RateLimits1795420000006',
];
export const TABLES = ['idempotency_keys', 'rate_limits', 'sessions', 'tasks', 'users'];

export function databaseConfig(url: string): DatabaseConfig {
  return loadConfig({ NODE_ENV: 'test', DATABASE_URL: url }).database;
}

export async function appliedMigrations(pool: Pool): Promise<string[]> {
  const exists = await pool.query(`SELECT to_regclass('public.migrations') IS NOT NULL AS present`);
  if (!exists.rows[0].present) return [];
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
  return rows.map((row) => row.name);
}

export async function publicTables(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'migrations'
      ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}
