import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hashes of a session's recently rotated refresh tokens. Only a token that really was issued and
 * rotated counts as reuse (and revokes the session); a made-up token for a known session id is just
 * refused, so the id printed in access tokens cannot be used to sign anyone out.
 */
export class SessionRotatedTokens1795420000002 implements MigrationInterface {
  name = 'SessionRotatedTokens1795420000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE sessions ADD COLUMN rotated_token_hashes bytea[] NOT NULL DEFAULT '{}'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE sessions DROP COLUMN rotated_token_hashes`);
  }
}
