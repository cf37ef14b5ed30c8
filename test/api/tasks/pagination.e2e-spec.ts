import { SORTS, type Sort } from '../../../src/tasks/task-sort';
import { startTestApp, type TestApp } from '../../support/app';
import { NO_THROTTLING, bearer, registerTaskUser, type TaskUser } from '../../support/auth';

const PAGE = 7;

type User = TaskUser;

/** A task as the database holds it, with timestamps to the microsecond. */
interface Row {
  id: string;
  title: string;
  completed: boolean;
  priority: string;
  dueDate: string | null;
  createdAt: string;
  updatedAt: string;
}

type Query = Record<string, string | number>;

let t: TestApp;
let walker: User;
let other: User;

const register = (name: string): Promise<User> => registerTaskUser(t.api, name);

const list = (query: Query, user = walker) => t.api.get('/api/v1/tasks').query(query).set(bearer(user));

/**
 * Seeds `count` tasks for a user with set-based SQL. Creation times come in runs of three equal values and
 * then a run one microsecond apart (a cursor that kept milliseconds only would skip or repeat there); titles,
 * due dates and update times repeat too, so `id` has to break ties everywhere.
 */
async function seed(userId: string, count: number): Promise<void> {
  await t.db.pool.query(
    `INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_date, priority,
                        created_at, updated_at)
     SELECT gen_random_uuid(), $1,
            'title' || lpad(((n * 7) % 50)::text, 3, '0'),
            CASE WHEN n % 10 = 0 THEN 'weekly review' END,
            n % 4 = 0,
            CASE WHEN n % 4 = 0 THEN base END,
            CASE WHEN n % 6 = 0 THEN NULL ELSE date '2026-01-01' + (n % 23) END,
            (ARRAY['low', 'medium', 'high'])[1 + n % 3],
            CASE WHEN n <= 60 THEN base + (n / 3) * interval '1 second'
                 ELSE base + interval '100 seconds' + n * interval '1 microsecond' END,
            base + interval '1 day' + ((n * 37) % 75) * interval '1 millisecond' + interval '0.000001 second'
     FROM generate_series(1, $2::int) n,
          LATERAL (SELECT date_trunc('second', now()) - interval '30 days' AS base) b`,
    [userId, count],
  );
}

/** The user's tasks as they are now, read from the database. */
async function rowsOf(userId: string): Promise<Row[]> {
  const micros = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  const { rows } = await t.db.pool.query<Row>(
    `SELECT id, title, completed, priority, due_date::text AS "dueDate",
            ${micros('created_at')} AS "createdAt", ${micros('updated_at')} AS "updatedAt"
     FROM tasks WHERE user_id = $1`,
    [userId],
  );
  return rows;
}

/** The ids in the order `sort` defines, computed here: key first, then id, both in the sort's direction. */
function ordered(rows: Row[], sort: Sort): string[] {
  const descending = sort.startsWith('-');
  const field = (descending ? sort.slice(1) : sort) as 'createdAt' | 'updatedAt' | 'dueDate' | 'title';
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const byKey = (a: Row, b: Row): number => {
    if (field !== 'dueDate') return compare(a[field], b[field]);
    if (a.dueDate === b.dueDate) return 0;
    if (a.dueDate === null) return 1;
    if (b.dueDate === null) return -1;
    return compare(a.dueDate, b.dueDate);
  };
  const ascending = [...rows].sort((a, b) => byKey(a, b) || compare(a.id, b.id)).map((row) => row.id);
  return descending ? ascending.reverse() : ascending;
}

/** Follows nextCursor to the end, checking every page; `between` runs after each page but the last. */
async function walk(query: Query, between?: () => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const res = await list({ ...query, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    expect(res.status).toBe(200);
    const items = res.body.items as { id: string }[];
    ids.push(...items.map((item) => item.id));
    if (res.body.nextCursor === null) return ids;
    expect(items).toHaveLength(PAGE);
    expect(res.body.nextCursor).toEqual(expect.any(String));
    cursor = res.body.nextCursor as string;
    if (between) await between();
  }
  throw new Error('the cursor never reached the last page');
}

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
  walker = await register('walker');
  other = await register('other');
  await seed(walker.id, 150);
  await seed(other.id, 40);
});
afterAll(() => t.close());

describe('walking every page of GET /api/v1/tasks', () => {
  it('seeds 150 tasks with repeated sort keys', async () => {
    const rows = await rowsOf(walker.id);
    expect(rows).toHaveLength(150);
    expect(new Set(rows.map((row) => row.createdAt)).size).toBeLessThan(150);
    expect(new Set(rows.map((row) => row.updatedAt)).size).toBeLessThan(150);
    expect(new Set(rows.map((row) => row.title)).size).toBeLessThan(150);
    expect(rows.filter((row) => row.dueDate === null).length).toBeGreaterThan(1);
  });

  it.each(SORTS.map((sort) => [sort]))(
    'sort=%s: limit=7 pages together hold every task once, in order',
    async (sort) => {
      const rows = await rowsOf(walker.id);

      const ids = await walk({ sort });

      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(ordered(rows, sort));
    },
  );

  it.each<[Query, (row: Row) => boolean]>([
    [{ sort: 'dueDate', completed: 'false' }, (row) => !row.completed],
    [{ sort: '-title', priority: 'high' }, (row) => row.priority === 'high'],
    [{ sort: '-dueDate', dueAfter: '2026-01-05', dueBefore: '2026-01-20' }, (row) => inRange(row.dueDate)],
    [{ sort: 'createdAt', completed: 'true', priority: 'low' }, (row) => row.completed && row.priority === 'low'],
  ])('walks %p across pages with the filter kept', async (query, predicate) => {
    const rows = (await rowsOf(walker.id)).filter(predicate);
    expect(rows.length).toBeGreaterThan(PAGE);

    const ids = await walk(query);

    expect(ids).toEqual(ordered(rows, query.sort as Sort));
  });

  it('walks a full-text search across pages', async () => {
    const { rows: matching } = await t.db.pool.query<{ id: string }>(
      `SELECT id FROM tasks WHERE user_id = $1 AND description = 'weekly review'`,
      [walker.id],
    );
    const rows = (await rowsOf(walker.id)).filter((row) => matching.some((match) => match.id === row.id));
    expect(rows.length).toBeGreaterThan(PAGE);

    const ids = await walk({ sort: '-updatedAt', q: 'review' });

    expect(ids).toEqual(ordered(rows, '-updatedAt'));
  });

  it.each(SORTS.map((sort) => [sort]))(
    'sort=%s: tasks added between pages never make the walk repeat or skip a task',
    async (sort) => {
      const before = await rowsOf(walker.id);
      const expected = ordered(before, sort);
      const added: string[] = [];
      const addTasks = async () => {
        // Titles and due dates that land inside the range already walked and the range still ahead.
        for (const title of ['title000', `title0${String(added.length % 50).padStart(2, '0')}x`]) {
          const res = await t.api
            .post('/api/v1/tasks')
            .set(bearer(walker))
            .send({ title, dueDate: `2026-01-${String(1 + (added.length % 28)).padStart(2, '0')}` });
          expect(res.status).toBe(201);
          added.push(res.body.id as string);
        }
      };

      const ids = await walk({ sort }, addTasks);

      expect(added.length).toBeGreaterThan(0);
      expect(new Set(ids).size).toBe(ids.length);
      const existing = new Set(expected);
      expect(ids.filter((id) => existing.has(id))).toEqual(expected);
      expect(await rowsOf(walker.id)).toHaveLength(before.length + added.length);
      await t.db.pool.query('DELETE FROM tasks WHERE id = ANY($1::uuid[])', [added]);
    },
  );

  it('ends with nextCursor null on a full last page, never an empty page', async () => {
    const exact = await register('exact');
    await seed(exact.id, 3 * PAGE);
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await list({ limit: PAGE, ...(cursor === undefined ? {} : { cursor }) }, exact);
      expect(res.status).toBe(200);
      pages.push(res.body.items.length);
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages).toEqual([PAGE, PAGE, PAGE]);
  });

  it('never shows another user’s tasks', async () => {
    const theirs = new Set((await rowsOf(other.id)).map((row) => row.id));
    const ids = await walk({ sort: 'title' });
    expect(ids.filter((id) => theirs.has(id))).toEqual([]);
  });
});

function inRange(dueDate: string | null): boolean {
  return dueDate !== null && dueDate > '2026-01-05' && dueDate < '2026-01-20';
}
