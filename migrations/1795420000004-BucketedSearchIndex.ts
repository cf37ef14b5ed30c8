import type { MigrationInterface, QueryRunner } from 'typeorm';

const DOCUMENT = `to_tsvector('english'::regconfig, title || ' ' || COALESCE(description, ''))`;

/**
 * A search function: `text` (a tsvector's or tsquery's text form, lexemes quoted, quotes inside doubled)
 * with each lexeme prefixed by the owner's bucket, the last three hex digits of the user id (random in
 * UUIDs v4 and v7): 4,096 buckets. PL/pgSQL, so that the planner costs a call as a whole (about 25 µs,
 * COST 3000) instead of inlining it at to_tsvector's far lower estimate, which made filtering all of a
 * user's tasks through it look cheaper than the index. Names are qualified: index builds run with
 * search_path = pg_catalog.
 */
const searchFunction = (signature: string, returns: string, text: string) => `
  CREATE OR REPLACE FUNCTION ${signature} RETURNS ${returns}
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 3000
  AS $$ BEGIN
    RETURN pg_catalog.regexp_replace(${text}, '''((?:[^'']|'''')*)''',
      '''' || pg_catalog.right(user_id::text, 3) || ':\\1''', 'g')::${returns};
  END $$`;

/**
 * Full-text search stays flat as a user's tasks grow. On (user_id, document) GIN intersects the user's
 * entries with each word's posting list over the whole table: a word in one task of six holds 170,000
 * tasks at 1M, decoded on every search (0.9 ms for one word, 5.5 ms for two). Its lexemes now carry
 * the owner's bucket ("3fa:report"), so a word's list holds only its bucket's tasks (about 40 at 1M)
 * and the user's own entries pick theirs: 0.1 ms. The query gets the same prefix, so stemming,
 * phrases, exclusions and "or" mean what they meant. Built CONCURRENTLY: writes go on meanwhile.
 */
export class BucketedSearchIndex1795420000004 implements MigrationInterface {
  name = 'BucketedSearchIndex1795420000004';
  transaction = false;

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      searchFunction(
        'tasks_search_document(user_id uuid, title text, description text)',
        'tsvector',
        `pg_catalog.${DOCUMENT}::text`,
      ),
    );
    await db.query(
      searchFunction(
        'tasks_search_query(user_id uuid, q text)',
        'tsquery',
        `pg_catalog.websearch_to_tsquery('english'::regconfig, q)::text`,
      ),
    );
    // An interrupted earlier run may have left an invalid index behind, or the old one dropped.
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_search_bucketed_idx`);
    await db.query(`
      -- squawk-ignore prefer-robust-stmts -- the DROP above makes a rerun safe; IF NOT EXISTS keeps an INVALID index
      CREATE INDEX CONCURRENTLY tasks_search_bucketed_idx ON tasks
      USING gin (user_id, tasks_search_document(user_id, title, description)) WITH (fastupdate = off)`);
    await db.query(`DROP INDEX CONCURRENTLY IF EXISTS tasks_search_idx`);
    await db.query(`ALTER INDEX tasks_search_bucketed_idx RENAME TO tasks_search_idx`);
  }

  // TypeORM reverts in a transaction whatever `transaction` says, so the old index is built in place.
  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX tasks_search_idx`);
    await db.query(`CREATE INDEX tasks_search_idx ON tasks USING gin (user_id, ${DOCUMENT})`);
    await db.query(`DROP FUNCTION tasks_search_query(uuid, text)`);
    await db.query(`DROP FUNCTION tasks_search_document(uuid, text, text)`);
  }
}
