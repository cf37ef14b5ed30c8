import { listStatement as pageStatement, statsStatement, type TaskFilter } from '../../../src/tasks/task-statements';
import { SORTS, sortSpec, type Sort } from '../../../src/tasks/task-sort';
import { startTestApp, type TestApp } from '../../support/app';
import { NO_THROTTLING, registerUser, uniqueEmail } from '../../support/auth';

// The statements are TasksRepository's own (src/tasks/task-statements.ts). "Drift" tests compare them
// with what the API answers.
const USERS = 1_000;
const TASKS_PER_USER = 100;

type Filter = TaskFilter;

interface Position {
  value: string;
  id: string;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** One page, as TasksRepository.list asks for it. */
function listStatement(
  userId: string,
  filter: Filter,
  sort: Sort,
  after: Position | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  return pageStatement(userId, { filter, sort: sortSpec(sort), after, limit });
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const indexNames = (plan: PlanNode) => nodes(plan).map((node) => node['Index Name']);

function utcDate(days: number): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

let t: TestApp;
let owner: { id: string; token: string };
let sampleUserId: string;

async function explain(text: string, values: unknown[]): Promise<PlanNode> {
  const { rows } = await t.db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (FORMAT JSON) ${text}`,
    values,
  );
  return rows[0]['QUERY PLAN'][0].Plan;
}

/**
 * The plan a prepared statement settles on: the service runs these statements prepared
 * (src/database/statement-runner.ts), and after a few executions PostgreSQL may keep one generic plan,
 * made without the parameters' values.
 */
async function explainGeneric(text: string): Promise<PlanNode> {
  const { rows } = await t.db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
    `EXPLAIN (GENERIC_PLAN, FORMAT JSON) ${text}`,
  );
  return rows[0]['QUERY PLAN'][0].Plan;
}

const seqScansOnTasks = (plan: PlanNode) =>
  nodes(plan).filter((node) => node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'tasks');

/** The keyset position after the user's 10th task in this sort order: a realistic cursor for any filter. */
async function positionAfterTen(userId: string, sort: Sort): Promise<Position> {
  const { text, values } = listStatement(userId, {}, sort, undefined, 10);
  const { rows } = await t.db.pool.query<{ id: string; cursorValue: string }>(text, values);
  expect(rows.length).toBeGreaterThan(10);
  return { value: rows[9].cursorValue, id: rows[9].id };
}

const FILTERS: [string, Filter][] = [
  ['no filter', {}],
  ['completed=true', { completed: true }],
  ['completed=false', { completed: false }],
  ['priority=high', { priority: 'high' }],
  ['dueBefore', { dueBefore: utcDate(7) }],
  ['dueAfter', { dueAfter: utcDate(-7) }],
  ['dueAfter and dueBefore', { dueAfter: utcDate(-7), dueBefore: utcDate(7) }],
  ['q', { q: 'report' }],
  ['q with a phrase and an exclusion', { q: '"quarterly report" -invoice' }],
  ['every filter', { completed: false, priority: 'high', dueAfter: utcDate(-30), dueBefore: utcDate(30), q: 'report' }],
];

const PAGES = ['the first page', 'a later page (keyset condition)'] as const;
const CASES = SORTS.flatMap((sort) =>
  FILTERS.flatMap(([name, filter]) => PAGES.map((page) => [page, sort, name, filter] as const)),
);

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
  const account = await registerUser(t.api, { email: uniqueEmail('owner'), name: 'owner' });
  owner = { id: account.user.id, token: account.accessToken };

  // Set-based seeding: 1,000 users with 100 tasks each (the registered owner among them), in two statements.
  await t.db.pool.query(
    `INSERT INTO users (id, email, name, password_hash)
     SELECT gen_random_uuid(), 'seed-' || n || '@example.com', 'Seed ' || n, 'not-a-password-hash'
     FROM generate_series(1, $1::int - 1) n`,
    [USERS],
  );
  await t.db.pool.query(
    `INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_date, priority,
                        created_at, updated_at)
     SELECT gen_random_uuid(), u.id,
            (ARRAY['write', 'review', 'call', 'buy', 'plan', 'fix', 'email', 'clean'])[1 + g % 8] || ' ' ||
              (ARRAY['quarterly report', 'invoice', 'plumber', 'groceries', 'trip', 'bug', 'client', 'garage'])
                [1 + (g * 3 + u.n) % 8] || ' ' || g,
            CASE WHEN g % 3 = 0 THEN 'notes ' || md5(u.n || ':' || g) END,
            g % 4 = 0,
            CASE WHEN g % 4 = 0 THEN now() - g * interval '1 hour' END,
            CASE WHEN g % 5 = 0 THEN NULL
                 ELSE (now() AT TIME ZONE 'UTC')::date + ((g * 13 + u.n) % 120 - 60) END,
            (ARRAY['low', 'medium', 'high'])[1 + (g + u.n) % 3],
            now() - ((g * 1000 + u.n) * interval '1 minute'),
            now() - ((g * 997 + u.n * 7) * interval '1 second')
     FROM (SELECT id, row_number() OVER (ORDER BY id)::int AS n FROM users) u
     CROSS JOIN generate_series(1, $1::int) g`,
    [TASKS_PER_USER],
  );
  await t.db.pool.query('ANALYZE users');
  // VACUUM as autovacuum would after such a load: it also records the GIN index's entry counts, without
  // which PostgreSQL prices every GIN scan as if it read the whole index.
  await t.db.pool.query('VACUUM ANALYZE tasks');

  const { rows } = await t.db.pool.query<{ id: string }>(
    `SELECT id FROM users WHERE email LIKE 'seed-%' ORDER BY email LIMIT 1`,
  );
  sampleUserId = rows[0].id;
}, 120_000);
afterAll(() => t.close());

describe('indexes on tasks', () => {
  it('holds 100,000 tasks across 1,000 users', async () => {
    const { rows } = await t.db.pool.query(
      'SELECT count(*)::int AS tasks, count(DISTINCT user_id)::int AS owners FROM tasks',
    );
    expect(rows[0]).toEqual({ tasks: USERS * TASKS_PER_USER, owners: USERS });
  });

  it('has the indexes the specification names', async () => {
    const { rows } = await t.db.pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks'`,
    );
    const definitions = rows.map((row) => row.indexdef);
    expect(definitions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\(user_id, created_at DESC, id DESC\)$/),
        expect.stringMatching(/\(user_id, completed, due_date\)$/),
        expect.stringMatching(/USING gin \(user_id, tasks_search_document\(user_id, \(title\)::text, description\)\)/),
      ]),
    );
  });

  it('sees a Seq Scan on tasks when a query has no index to use (the check below is not vacuous)', async () => {
    const plan = await explain('SELECT t.id FROM tasks t WHERE t.version = $1', [2]);
    expect(seqScansOnTasks(plan)).toHaveLength(1);
    expect(seqScansOnTasks(await explainGeneric('SELECT t.id FROM tasks t WHERE t.version = $1'))).toHaveLength(1);
  });

  it.each(CASES)('reads %s of sort=%s with %s without a Seq Scan on tasks', async (page, sort, _name, filter) => {
    const after = page === PAGES[1] ? await positionAfterTen(sampleUserId, sort) : undefined;
    const { text, values } = listStatement(sampleUserId, filter, sort, after, 20);

    expect(seqScansOnTasks(await explain(text, values))).toEqual([]);
    expect(seqScansOnTasks(await explainGeneric(text))).toEqual([]);
  });

  it.each(SORTS.map((sort) => [sort]))(
    'serves sort=%s, first page and next, in index order (no Sort node)',
    async (sort) => {
      for (const after of [undefined, await positionAfterTen(sampleUserId, sort)]) {
        const { text, values } = listStatement(sampleUserId, {}, sort, after, 20);
        for (const plan of [await explain(text, values), await explainGeneric(text)]) {
          expect(nodes(plan).map((node) => node['Node Type'])).not.toContain('Sort');
          expect(seqScansOnTasks(plan)).toEqual([]);
        }
      }
    },
  );

  it('counts stats without a Seq Scan on tasks', async () => {
    const { text, values } = statsStatement(sampleUserId);
    expect(seqScansOnTasks(await explain(text, values))).toEqual([]);
    expect(seqScansOnTasks(await explainGeneric(text))).toEqual([]);
  });

  it('finds a rare word through the full-text index, in custom and generic plans', async () => {
    const { rows } = await t.db.pool.query<{ word: string }>(
      `SELECT split_part(description, ' ', 2) AS word FROM tasks WHERE user_id = $1 AND description IS NOT NULL LIMIT 1`,
      [sampleUserId],
    );
    const { text, values } = listStatement(sampleUserId, { q: rows[0].word }, '-createdAt', undefined, 20);
    expect(indexNames(await explain(text, values))).toContain('tasks_search_idx');
    expect(indexNames(await explainGeneric(text))).toContain('tasks_search_idx');
  });
});

describe('the statements are the ones the service runs', () => {
  const page = async (query: Record<string, string | number>) => {
    const res = await t.api
      .get('/api/v1/tasks')
      .query(query)
      .set({ Authorization: `Bearer ${owner.token}` });
    expect(res.status).toBe(200);
    return res.body as { items: { id: string }[]; nextCursor: string | null };
  };

  it.each(SORTS.map((sort) => [sort]))('sort=%s: first and second page match', async (sort) => {
    const first = listStatement(owner.id, {}, sort, undefined, 20);
    const { rows: firstRows } = await t.db.pool.query<{ id: string; cursorValue: string }>(first.text, first.values);
    const apiFirst = await page({ sort });
    expect(apiFirst.items.map((item) => item.id)).toEqual(firstRows.slice(0, 20).map((row) => row.id));

    const last = firstRows[19];
    const second = listStatement(owner.id, {}, sort, { value: last.cursorValue, id: last.id }, 20);
    const { rows: secondRows } = await t.db.pool.query<{ id: string }>(second.text, second.values);
    const apiSecond = await page({ sort, cursor: apiFirst.nextCursor! });
    expect(apiSecond.items.map((item) => item.id)).toEqual(secondRows.slice(0, 20).map((row) => row.id));
  });

  it('filters at once: the same tasks', async () => {
    const filter: Filter = {
      completed: false,
      priority: 'high',
      dueAfter: utcDate(-60),
      dueBefore: utcDate(60),
      q: 'call',
    };
    const { text, values } = listStatement(owner.id, filter, 'title', undefined, 100);
    const { rows } = await t.db.pool.query<{ id: string }>(text, values);
    expect(rows.length).toBeGreaterThan(0);
    const api = await page({ ...filter, completed: 'false', sort: 'title', limit: 100 });
    expect(api.items.map((item) => item.id)).toEqual(rows.map((row) => row.id));
  });

  it('stats: the same counts', async () => {
    const { text, values } = statsStatement(owner.id);
    const { rows } = await t.db.pool.query(text, values);
    const res = await t.api.get('/api/v1/tasks/stats').set({ Authorization: `Bearer ${owner.token}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(rows[0]);
    expect(res.body.total).toBe(TASKS_PER_USER);
  });
});
