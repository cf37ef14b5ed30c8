import type { Client } from 'pg';

/** Every seeded account has this password, hashed once (see `seedUsers`). */
export const BENCH_PASSWORD = 'bench-password-0123';

export const emailOf = (n: number) => `bench-user-${n}@bench.test`;

// Title and description words. Each appears in roughly one task in six, so a one-word search matches a
// couple of a user's tasks at 10 per user and a couple of dozen at 100.
const WORDS = [
  'report',
  'budget',
  'invoice',
  'meeting',
  'review',
  'deploy',
  'release',
  'client',
  'design',
  'draft',
  'quarterly',
  'migrate',
  'database',
  'backup',
  'onboarding',
  'hiring',
  'interview',
  'roadmap',
  'feedback',
  'contract',
  'renewal',
  'audit',
  'security',
  'patch',
  'server',
  'newsletter',
  'campaign',
  'launch',
  'presentation',
  'slides',
  'workshop',
  'training',
  'expenses',
  'receipts',
  'taxes',
  'payroll',
  'vendor',
  'shipping',
  'warehouse',
  'inventory',
  'dentist',
  'groceries',
  'garden',
  'birthday',
  'flight',
  'hotel',
  'passport',
  'insurance',
  'mortgage',
  'library',
  'refactor',
  'benchmark',
  'documentation',
  'support',
  'ticket',
  'customer',
  'analytics',
  'dashboard',
  'metrics',
  'kubernetes',
];

/** One-word and two-word queries the search scenario rotates through. */
export const SEARCH_TERMS = ['report', 'invoice', 'meeting', 'deploy', 'budget review', 'client contract'];

/**
 * Set-based seeding: one INSERT … SELECT for the users and one for their tasks, so 100k tasks take
 * seconds and 1M well under a minute or two. `uuidv7()` (PostgreSQL 18) keeps ids time-ordered like the
 * app's; older servers get random UUIDs.
 */
export async function seedUsers(db: Client, users: number, passwordHash: string): Promise<void> {
  const id = (await hasUuidV7(db)) ? `uuidv7(created - now())` : 'gen_random_uuid()';
  await db.query(
    `INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
     SELECT ${id}, 'bench-user-' || n || '@bench.test', 'Bench User ' || n, $1, created, created
     FROM (SELECT n, now() - random() * interval '730 days' AS created FROM generate_series(1, $2) AS n OFFSET 0) s`,
    [passwordHash, users],
  );
}

/**
 * Adds `perUser` tasks to every user: created over the last year, 40% completed (some time after their
 * creation), 30% without a due date, priorities 30/50/20 low/medium/high, titles of three to five
 * words and (70% of them) descriptions of eight to fifteen, for the full-text search.
 */
export async function seedTasks(db: Client, perUser: number): Promise<void> {
  const id = (await hasUuidV7(db)) ? `uuidv7(created - now())` : 'gen_random_uuid()';
  // `OFFSET 0` keeps the volatile columns from being inlined (and re-evaluated) into the outer query;
  // each word sub-select refers to `g`, so it is re-run for every row rather than once.
  await db.query(
    `WITH vocabulary AS (SELECT $2::text[] AS w, cardinality($2::text[]) AS n)
     INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_date, priority,
                        created_at, updated_at, version)
     SELECT ${id}, user_id, title, description, completed,
            CASE WHEN completed THEN finished END, due_date, priority,
            created, CASE WHEN completed THEN finished ELSE created END, CASE WHEN completed THEN 2 ELSE 1 END
     FROM (
       SELECT user_id,
              created,
              random() < 0.4 AS completed,
              LEAST(now(), created + random() * interval '20 days') AS finished,
              CASE WHEN random() < 0.3 THEN NULL
                   ELSE (created + (random() * 90 - 10) * interval '1 day')::date END AS due_date,
              (ARRAY['low', 'low', 'low', 'medium', 'medium', 'medium', 'medium', 'medium', 'high', 'high'])
                [1 + floor(random() * 10)::int] AS priority,
              initcap(array_to_string(ARRAY(
                SELECT v.w[1 + floor(random() * v.n)::int] FROM generate_series(1, 3 + g % 3)), ' ')) AS title,
              CASE WHEN random() < 0.3 THEN NULL ELSE array_to_string(ARRAY(
                SELECT v.w[1 + floor(random() * v.n)::int] FROM generate_series(1, 8 + g % 8)), ' ') || '.' END
                AS description
       FROM (
         SELECT u.id AS user_id, g, now() - random() * interval '365 days' AS created
         FROM users u CROSS JOIN generate_series(1, $1) AS g
         OFFSET 0
       ) base
       CROSS JOIN vocabulary v
       OFFSET 0
     ) s`,
    [perUser, WORDS],
  );
}

async function hasUuidV7(db: Client): Promise<boolean> {
  const { rows } = await db.query<{ v: number }>(`SELECT current_setting('server_version_num')::int AS v`);
  return rows[0].v >= 180000;
}
