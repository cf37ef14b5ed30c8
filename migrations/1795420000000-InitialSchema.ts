import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795420000000 implements MigrationInterface {
  name = 'InitialSchema1795420000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.updated_at := now();
        RETURN NEW;
      END
      $$`);

    await db.query(`
      CREATE TABLE users (
        id uuid NOT NULL,
        -- squawk-ignore prefer-text-field -- SPEC §2 sets the length; widening it only changes the catalog
        email varchar(254) NOT NULL,
        -- squawk-ignore prefer-text-field -- SPEC §2 sets the length; widening it only changes the catalog
        name varchar(100) NOT NULL,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_pkey PRIMARY KEY (id),
        CONSTRAINT users_name_check CHECK (char_length(name) BETWEEN 1 AND 100)
      )`);
    await db.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);
    await db.query(`
      CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
      FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()`);

    await db.query(`
      CREATE TABLE sessions (
        id uuid NOT NULL,
        user_id uuid NOT NULL,
        refresh_token_hash bytea NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        -- squawk-ignore prefer-text-field -- SPEC §2 sets the length; widening it only changes the catalog
        user_agent varchar(512),
        ip inet,
        CONSTRAINT sessions_pkey PRIMARY KEY (id),
        CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      )`);
    await db.query(`CREATE INDEX sessions_user_id_idx ON sessions (user_id)`);

    await db.query(`
      CREATE TABLE tasks (
        id uuid NOT NULL,
        user_id uuid NOT NULL,
        -- squawk-ignore prefer-text-field -- SPEC §2 sets the length; widening it only changes the catalog
        title varchar(200) NOT NULL,
        description text,
        completed boolean NOT NULL DEFAULT false,
        completed_at timestamptz,
        due_date date,
        -- squawk-ignore prefer-text-field -- SPEC §2 sets the length; widening it only changes the catalog
        priority varchar(6) NOT NULL DEFAULT 'medium',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        -- squawk-ignore prefer-bigint-over-int -- one task's edit count: 2^31 edits of one task are out of reach
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT tasks_pkey PRIMARY KEY (id),
        CONSTRAINT tasks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
        CONSTRAINT tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
        CONSTRAINT tasks_description_check CHECK (char_length(description) <= 2000),
        CONSTRAINT tasks_priority_check CHECK (priority IN ('low', 'medium', 'high')),
        CONSTRAINT tasks_completed_at_check CHECK (completed = (completed_at IS NOT NULL))
      )`);
    // One index per sort order, each led by the owner so every list query is a range scan of one user's
    // rows; backward scans serve the opposite direction. Tasks without a due date sort as 'infinity'.
    await db.query(`CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at DESC, id DESC)`);
    await db.query(`CREATE INDEX tasks_user_due_idx ON tasks (user_id, (COALESCE(due_date, 'infinity'::date)), id)`);
    await db.query(`CREATE INDEX tasks_user_title_idx ON tasks (user_id, title, id)`);
    await db.query(`CREATE INDEX tasks_user_completed_due_idx ON tasks (user_id, completed, due_date)`);
    await db.query(`
      CREATE INDEX tasks_search_idx ON tasks
      USING gin (to_tsvector('english'::regconfig, title || ' ' || COALESCE(description, '')))`);
    await db.query(`
      CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks
      FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION set_updated_at()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE tasks`);
    await db.query(`DROP TABLE sessions`);
    await db.query(`DROP TABLE users`);
    await db.query(`DROP FUNCTION set_updated_at()`);
  }
}
