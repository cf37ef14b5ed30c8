import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Full-text search is always for one user. A GIN index on (user_id, document) — btree_gin lets GIN index
 * the uuid — finds that user's matching tasks directly; the plain document index made PostgreSQL read
 * every one of the user's tasks and compute to_tsvector for each, a cost that grew with the user's tasks.
 * btree_gin ships with PostgreSQL and is available on Neon.
 */
export class UserScopedSearchIndex1795420000003 implements MigrationInterface {
  name = 'UserScopedSearchIndex1795420000003';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`);
    await db.query(`
      -- squawk-ignore require-concurrent-index-deletion -- applied before the linter; a new database has no tasks yet
      DROP INDEX tasks_search_idx`);
    await db.query(`
      -- squawk-ignore require-concurrent-index-creation -- applied before the linter; a new database has no tasks yet
      CREATE INDEX tasks_search_idx ON tasks
      USING gin (user_id, to_tsvector('english'::regconfig, title || ' ' || COALESCE(description, '')))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX tasks_search_idx`);
    await db.query(`
      CREATE INDEX tasks_search_idx ON tasks
      USING gin (to_tsvector('english'::regconfig, title || ' ' || COALESCE(description, '')))`);
    await db.query(`DROP EXTENSION IF EXISTS btree_gin`);
  }
}
