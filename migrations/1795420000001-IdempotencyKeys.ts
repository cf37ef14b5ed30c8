import type { MigrationInterface, QueryRunner } from 'typeorm';

export class IdempotencyKeys1795420000001 implements MigrationInterface {
  name = 'IdempotencyKeys1795420000001';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        -- squawk-ignore prefer-text-field -- SPEC §3: keys of 1-255 characters; widening it only changes the catalog
        key varchar(255) NOT NULL,
        request_hash bytea NOT NULL,
        -- squawk-ignore prefer-text-field -- fits 'in_progress', the longest status; the CHECK below lists them
        status varchar(11) NOT NULL,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key),
        CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
        CONSTRAINT idempotency_keys_status_check CHECK (status IN ('in_progress', 'completed'))
      )`);
    // Expired keys are purged by age.
    await db.query(`CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
  }
}
