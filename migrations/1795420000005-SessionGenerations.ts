import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens become `<session id>.<generation>.<MAC>`: the session keeps its current generation and
 * a random nonce (with JWT_SECRET, the key of its MACs), so any genuinely issued older token is
 * recognised however many rotations ago it was replaced. `authenticated_at` is when the session last
 * proved the password.
 *
 * Expand only: during a rolling update the previous release runs on this schema. It still inserts
 * `refresh_token_hash` and rotates through `rotated_token_hashes`, so both stay (the new release writes
 * neither, hence nullable); they are dropped in a later release. The new columns take its INSERTs as
 * they are: a constant default or NULL, added without rewriting the table. Sessions that existed
 * before get `-infinity` as their password proof (none is known); new rows get now().
 */
export class SessionGenerations1795420000005 implements MigrationInterface {
  name = 'SessionGenerations1795420000005';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- squawk-ignore ban-drop-not-null -- expand step: the new release stops writing it, the previous still does
      ALTER TABLE sessions ALTER COLUMN refresh_token_hash DROP NOT NULL`);
    await db.query(`
      -- squawk-ignore prefer-bigint-over-int -- one step per refresh: 2^31 refreshes cannot fit in a session's lifetime
      ALTER TABLE sessions ADD COLUMN refresh_generation integer NOT NULL DEFAULT 0`);
    await db.query(`ALTER TABLE sessions ADD COLUMN refresh_key_nonce bytea`);
    await db.query(`ALTER TABLE sessions ADD COLUMN authenticated_at timestamptz NOT NULL DEFAULT '-infinity'`);
    await db.query(`ALTER TABLE sessions ALTER COLUMN authenticated_at SET DEFAULT now()`);
  }

  // Sessions opened by the new release have no refresh_token_hash, and the previous release cannot read
  // their tokens anyway: they go, and their users sign in again.
  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM sessions WHERE refresh_token_hash IS NULL`);
    await db.query(`ALTER TABLE sessions DROP COLUMN authenticated_at`);
    await db.query(`ALTER TABLE sessions DROP COLUMN refresh_key_nonce`);
    await db.query(`ALTER TABLE sessions DROP COLUMN refresh_generation`);
    await db.query(`ALTER TABLE sessions ALTER COLUMN refresh_token_hash SET NOT NULL`);
  }
}
