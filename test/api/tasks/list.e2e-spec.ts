import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { SORTS, type Sort } from '../../../src/tasks/task-sort';
import { startTestApp, type TestApp } from '../../support/app';
import { expectProblem, NO_THROTTLING, bearer, registerTaskUser, type TaskUser } from '../../support/auth';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
type Property = { type?: string; nullable?: boolean; $ref?: string; items?: Property };
type Schemas = Record<string, { properties: Record<string, Property> }>;
/** The response DTOs as the OpenAPI document describes them: the one description of a task. */
let schemas: Schemas;
/** A task's fields, in the order TaskDto declares them. */
let TASK_FIELDS: string[];

type User = TaskUser;

interface Task {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  completedAt: string | null;
  dueDate: string | null;
  priority: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** A task as the list fixture writes it straight into the table. */
interface Seed {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  dueDate: string | null;
  priority: 'low' | 'medium' | 'high';
  createdAt: string;
  updatedAt: string;
}

let t: TestApp;
let alice: User;
let bob: User;

const register = (name: string): Promise<User> => registerTaskUser(t.api, name);

async function createTask(user: User, body: Record<string, unknown>): Promise<Task> {
  const res = await t.api.post('/api/v1/tasks').set(bearer(user)).send(body);
  expect(res.status).toBe(201);
  return res.body as Task;
}

function expectValidationProblem(res: Response, field?: string): void {
  expectProblem(res, 400);
  if (field !== undefined) {
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  }
}

interface TaskRow {
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  completed_at: Date | null;
  due_date: string | null;
  priority: string;
  version: number;
}

async function taskRow(id: string): Promise<TaskRow | undefined> {
  const { rows } = await t.db.pool.query<TaskRow>(
    `SELECT user_id, title, description, completed, completed_at, due_date::text AS due_date, priority, version
     FROM tasks WHERE id = $1`,
    [id],
  );
  return rows[0];
}

async function taskCount(userId: string): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [
    userId,
  ]);
  return rows[0].n;
}

/** Today's calendar date in UTC, moved by `days`. */
function utcDate(days = 0): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
  schemas = ((await t.api.get('/docs-json')).body as { components: { schemas: Schemas } }).components.schemas;
  TASK_FIELDS = Object.keys(schemas.TaskDto.properties);
  alice = await register('alice');
  bob = await register('bob');
});
afterAll(() => t.close());

describe('POST /api/v1/tasks', () => {
  it('creates a task with defaults, a Location and ETag "1", and stores it for the caller', async () => {
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).send({ title: '  Write the report  ' });

    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.location).toBe(`/api/v1/tasks/${res.body.id}`);
    expect(res.headers.etag).toBe('"1"');
    expect(Object.keys(res.body)).toEqual(TASK_FIELDS);
    expect(res.body).toEqual({
      id: expect.stringMatching(UUID),
      title: 'Write the report',
      description: null,
      completed: false,
      completedAt: null,
      dueDate: null,
      priority: 'medium',
      createdAt: expect.stringMatching(ISO_TIMESTAMP),
      updatedAt: expect.stringMatching(ISO_TIMESTAMP),
      version: 1,
    });
    expect(await taskRow(res.body.id)).toEqual({
      user_id: alice.id,
      title: 'Write the report',
      description: null,
      completed: false,
      completed_at: null,
      due_date: null,
      priority: 'medium',
      version: 1,
    });
  });

  it('serves the created task at its Location', async () => {
    const created = await t.api.post('/api/v1/tasks').set(bearer(alice)).send({ title: 'Follow the Location' });
    const res = await t.api.get(created.headers.location).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(created.body);
  });

  it('stores every field given, and completed:true sets completedAt', async () => {
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).send({
      title: 'Pay the rent',
      description: 'Before the 5th',
      dueDate: '2026-03-01',
      priority: 'high',
      completed: true,
    });

    expect(res.status).toBe(201);
    expect(res.body).toEqual(
      expect.objectContaining({
        title: 'Pay the rent',
        description: 'Before the 5th',
        dueDate: '2026-03-01',
        priority: 'high',
        completed: true,
        completedAt: expect.stringMatching(ISO_TIMESTAMP),
        version: 1,
      }),
    );
    const row = await taskRow(res.body.id);
    expect(row).toEqual(
      expect.objectContaining({
        user_id: alice.id,
        title: 'Pay the rent',
        description: 'Before the 5th',
        due_date: '2026-03-01',
        priority: 'high',
        completed: true,
      }),
    );
    expect(row!.completed_at).toBeInstanceOf(Date);
  });

  it('accepts the longest title (after trimming) and description, and explicit nulls', async () => {
    const res = await t.api
      .post('/api/v1/tasks')
      .set(bearer(alice))
      .send({ title: `  ${'x'.repeat(200)}  `, description: 'd'.repeat(2000), dueDate: null });
    expect(res.status).toBe(201);
    expect(res.body.title).toHaveLength(200);
    expect(res.body.description).toHaveLength(2000);
    expect(res.body.dueDate).toBeNull();
    expect((await taskRow(res.body.id))?.title).toBe('x'.repeat(200));
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a missing title', { description: 'no title' }, 'title'],
    ['a blank title', { title: '   ' }, 'title'],
    ['an empty title', { title: '' }, 'title'],
    ['a title of Unicode spaces', { title: '\u00a0\u2003\t\n' }, 'title'],
    ['a 201-character title', { title: 'x'.repeat(201) }, 'title'],
    ['a 2001-character description', { title: 'ok', description: 'd'.repeat(2001) }, 'description'],
    ['an unknown priority', { title: 'ok', priority: 'urgent' }, 'priority'],
    ['a null priority', { title: 'ok', priority: null }, 'priority'],
    ['a null completed', { title: 'ok', completed: null }, 'completed'],
    ['a null title', { title: null }, 'title'],
    ['dueDate 2026-02-30 (no such day)', { title: 'ok', dueDate: '2026-02-30' }, 'dueDate'],
    ['dueDate 2026-1-5 (not zero-padded)', { title: 'ok', dueDate: '2026-1-5' }, 'dueDate'],
    ['dueDate "tomorrow"', { title: 'ok', dueDate: 'tomorrow' }, 'dueDate'],
    ['dueDate as a number', { title: 'ok', dueDate: 20260105 }, 'dueDate'],
    ['dueDate with a time', { title: 'ok', dueDate: '2026-01-05T00:00:00Z' }, 'dueDate'],
    ['an unknown field', { title: 'ok', userId: randomUUID() }, 'userId'],
    ['a numeric title', { title: 42 }, 'title'],
    ['an array title', { title: ['a'] }, 'title'],
    ['a numeric description', { title: 'ok', description: 42 }, 'description'],
    ['completed as the string "true"', { title: 'ok', completed: 'true' }, 'completed'],
    ['completed as 1', { title: 'ok', completed: 1 }, 'completed'],
    ['a numeric priority', { title: 'ok', priority: 2 }, 'priority'],
  ])('rejects %s with 400 and creates nothing', async (_case, body, field) => {
    const before = await taskCount(alice.id);
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).send(body);
    expectValidationProblem(res, field);
    expect(await taskCount(alice.id)).toBe(before);
  });

  it.each([
    ['an array', '[{"title":"in an array"}]'],
    ['an empty array', '[]'],
    ['a string', '"just a title"'],
    ['a number', '42'],
    ['true', 'true'],
    ['null', 'null'],
    ['malformed JSON', '{"title": "unterminated'],
  ])('rejects a body that is %s with 400 and creates nothing', async (_case, raw) => {
    const before = await taskCount(alice.id);
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).set('Content-Type', 'application/json').send(raw);
    expectProblem(res, 400);
    expect(await taskCount(alice.id)).toBe(before);
  });

  it.each([
    ['title', { title: 'before\u0000after' }],
    ['description', { title: 'ok', description: 'before\u0000after' }],
  ])('answers a %s holding a NUL byte (PostgreSQL text cannot store one) with 400, not 500', async (_field, body) => {
    const before = await taskCount(alice.id);
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).send(body);
    expectProblem(res, 400);
    expect(await taskCount(alice.id)).toBe(before);
  });

  it('requires a bearer token', async () => {
    const res = await t.api.post('/api/v1/tasks').send({ title: 'anonymous' });
    expectProblem(res, 401);
    const { rows } = await t.db.pool.query(`SELECT 1 FROM tasks WHERE title = 'anonymous'`);
    expect(rows).toHaveLength(0);
  });
});

describe('GET /api/v1/tasks', () => {
  let lister: User;
  const T0 = Date.parse('2026-01-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
  // Distinct first letters (or identical titles) keep the title order the same under any collation.
  const seeds: Seed[] = [
    ['apples to buy', null, false, '2026-03-10', 'low', 1, 30],
    ['bank statement', 'check the quarterly fees', false, '2026-03-05', 'high', 2, 12],
    ['call the plumber', 'kitchen sink leaks', true, null, 'medium', 3, 25],
    ['call the plumber', 'second call, still leaking', false, '2026-03-05', 'high', 3, 4],
    ['dentist appointment', null, false, '2026-02-20', 'medium', 5, 18],
    ['email quarterly report', 'to the board', true, '2026-03-31', 'high', 6, 40],
    ['file taxes', 'receipts are in the drawer', false, null, 'low', 7, 7],
    ['garden weeding', null, true, '2026-03-10', 'low', 8, 2],
    ['hire a painter', 'quotes from three painters', false, '2026-04-01', 'medium', 9, 33],
  ].map(([title, description, completed, dueDate, priority, created, updated]) => ({
    id: randomUUID(),
    title: title as string,
    description: description as string | null,
    completed: completed as boolean,
    dueDate: dueDate as string | null,
    priority: priority as Seed['priority'],
    createdAt: at(created as number),
    updatedAt: at(updated as number),
  }));

  const list = (query: Record<string, string | number>) => t.api.get('/api/v1/tasks').query(query).set(bearer(lister));

  /** The ids of `tasks` in the order `sort` defines, computed here rather than asked of the database. */
  function ordered(tasks: Seed[], sort: Sort): string[] {
    const descending = sort.startsWith('-');
    const field = (descending ? sort.slice(1) : sort) as 'createdAt' | 'updatedAt' | 'dueDate' | 'title';
    const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const byKey = (a: Seed, b: Seed): number => {
      if (field !== 'dueDate') return compare(a[field], b[field]);
      if (a.dueDate === b.dueDate) return 0;
      if (a.dueDate === null) return 1; // no due date sorts last ascending, first descending
      if (b.dueDate === null) return -1;
      return compare(a.dueDate, b.dueDate);
    };
    const ascending = [...tasks].sort((a, b) => byKey(a, b) || compare(a.id, b.id)).map((task) => task.id);
    return descending ? ascending.reverse() : ascending;
  }

  const where = (predicate: (seed: Seed) => boolean) => ordered(seeds.filter(predicate), '-createdAt');
  const ids = (res: Response) => (res.body.items as Task[]).map((task) => task.id);

  beforeAll(async () => {
    lister = await register('lister');
    for (const seed of seeds) {
      await t.db.pool.query(
        `INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_date, priority,
                            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN $9::timestamptz END, $6, $7, $8, $9)`,
        [
          seed.id,
          lister.id,
          seed.title,
          seed.description,
          seed.completed,
          seed.dueDate,
          seed.priority,
          seed.createdAt,
          seed.updatedAt,
        ],
      );
    }
    // Someone else's tasks, matching every filter, must never show up.
    await createTask(bob, {
      title: 'apples for bob',
      description: 'quarterly',
      dueDate: '2026-03-01',
      priority: 'low',
    });
  });

  it('answers {items, nextCursor} with only the caller’s tasks, newest first by default', async () => {
    const res = await list({});
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    expect(ids(res)).toEqual(ordered(seeds, '-createdAt'));
    for (const item of res.body.items as Task[]) {
      expect(Object.keys(item).sort()).toEqual([...TASK_FIELDS].sort());
    }
    const plumber = (res.body.items as Task[]).find((task) => task.id === seeds[2].id);
    expect(plumber).toEqual({
      id: seeds[2].id,
      title: 'call the plumber',
      description: 'kitchen sink leaks',
      completed: true,
      completedAt: seeds[2].updatedAt,
      dueDate: null,
      priority: 'medium',
      createdAt: seeds[2].createdAt,
      updatedAt: seeds[2].updatedAt,
      version: 1,
    });
  });

  it.each(SORTS.map((sort) => [sort]))('sorts by %s, ties broken by id in the same direction', async (sort) => {
    const res = await list({ sort, limit: 100 });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(ordered(seeds, sort));
    expect(res.body.nextCursor).toBeNull();
  });

  it('puts tasks without a due date last in dueDate order and first in -dueDate order', async () => {
    const undated = seeds.filter((seed) => seed.dueDate === null).length;
    const ascending = await list({ sort: 'dueDate' });
    const descending = await list({ sort: '-dueDate' });
    expect(ascending.status).toBe(200);
    expect(descending.status).toBe(200);
    const dueDates = (res: Response) => (res.body.items as Task[]).map((task) => task.dueDate);
    expect(dueDates(ascending).slice(-undated)).toEqual([null, null]);
    expect(dueDates(descending).slice(0, undated)).toEqual([null, null]);
    expect(dueDates(ascending).slice(0, -undated)).toEqual([
      '2026-02-20',
      '2026-03-05',
      '2026-03-05',
      '2026-03-10',
      '2026-03-10',
      '2026-03-31',
      '2026-04-01',
    ]);
  });

  it('filters completed=true and completed=false', async () => {
    const done = await list({ completed: 'true' });
    expect(done.status).toBe(200);
    expect(ids(done)).toEqual(where((seed) => seed.completed));

    const open = await list({ completed: 'false' });
    expect(open.status).toBe(200);
    expect(ids(open)).toEqual(where((seed) => !seed.completed));
  });

  it.each(['yes', '1', 'TRUE', ''])('rejects completed=%p with 400', async (value) => {
    expectValidationProblem(await list({ completed: value }), 'completed');
  });

  it.each(['low', 'medium', 'high'])('filters priority=%s', async (priority) => {
    const res = await list({ priority });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(where((seed) => seed.priority === priority));
  });

  it('rejects an unknown priority with 400', async () => {
    expectValidationProblem(await list({ priority: 'urgent' }), 'priority');
  });

  it('filters dueBefore strictly and leaves out tasks without a due date', async () => {
    const res = await list({ dueBefore: '2026-03-10' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(where((seed) => seed.dueDate !== null && seed.dueDate < '2026-03-10'));
    expect(ids(res)).toHaveLength(3);
  });

  it('filters dueAfter strictly and leaves out tasks without a due date', async () => {
    const res = await list({ dueAfter: '2026-03-10' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(where((seed) => seed.dueDate !== null && seed.dueDate > '2026-03-10'));
    expect(ids(res)).toHaveLength(2);
  });

  it('combines filters', async () => {
    const res = await list({ completed: 'false', priority: 'high', dueAfter: '2026-03-01', dueBefore: '2026-03-31' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([seeds[3].id, seeds[1].id]);
  });

  it.each([
    ['dueBefore', '2026-02-30'],
    ['dueBefore', 'tomorrow'],
    ['dueAfter', '2026-1-5'],
    ['dueAfter', '20260105'],
  ])('rejects %s=%s with 400', async (name, value) => {
    expectValidationProblem(await list({ [name]: value }), name);
  });

  it('searches the title and the description with q', async () => {
    const res = await list({ q: 'quarterly' });
    expect(res.status).toBe(200);
    // "email quarterly report" matches on its title, "bank statement" on its description only.
    expect(ids(res)).toEqual([seeds[5].id, seeds[1].id]);
  });

  it('searches with stemming, phrases and exclusions', async () => {
    const stems = await list({ q: 'painters' });
    expect(stems.status).toBe(200);
    expect(ids(stems)).toEqual([seeds[8].id]);

    const phrase = await list({ q: '"kitchen sink"' });
    expect(phrase.status).toBe(200);
    expect(ids(phrase)).toEqual([seeds[2].id]);

    const excluded = await list({ q: 'plumber -kitchen' });
    expect(excluded.status).toBe(200);
    expect(ids(excluded)).toEqual([seeds[3].id]);
  });

  it('combines q with the other filters and a sort', async () => {
    const res = await list({ q: 'quarterly', completed: 'true', sort: 'title' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([seeds[5].id]);
  });

  it('keeps the tasks of a user whose search bucket is the caller’s out of the results', async () => {
    // The search index keys words by the last three hex digits of the owner's id: this user shares them.
    const neighbour = `${randomUUID().slice(0, -3)}${lister.id.slice(-3)}`;
    await t.db.pool.query(
      `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'neighbour', 'not-a-password-hash')`,
      [neighbour, `${neighbour}@example.com`],
    );
    await t.db.pool.query(
      `INSERT INTO tasks (id, user_id, title, description) VALUES ($1, $2, 'quarterly plumber', 'kitchen sink painters')`,
      [randomUUID(), neighbour],
    );
    expect(ids(await list({ q: 'quarterly' }))).toEqual([seeds[5].id, seeds[1].id]);
    expect(ids(await list({ q: '"kitchen sink"' }))).toEqual([seeds[2].id]);
  });

  it('rejects a q over 200 characters with 400', async () => {
    expectValidationProblem(await list({ q: 'a'.repeat(201) }), 'q');
  });

  it('pages with limit: default 20, at most 100', async () => {
    const many = await register('many');
    await t.db.pool.query(
      `INSERT INTO tasks (id, user_id, title, created_at)
       SELECT gen_random_uuid(), $1, 'task ' || n, now() - n * interval '1 minute' FROM generate_series(1, 25) n`,
      [many.id],
    );
    const all = async (query: Record<string, string | number>) =>
      t.api.get('/api/v1/tasks').query(query).set(bearer(many));

    const byDefault = await all({});
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.items).toHaveLength(20);
    expect(byDefault.body.nextCursor).toEqual(expect.any(String));

    const one = await all({ limit: 1 });
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect(one.body.items[0].title).toBe('task 1');

    const hundred = await all({ limit: 100 });
    expect(hundred.status).toBe(200);
    expect(hundred.body.items).toHaveLength(25);
    expect(hundred.body.nextCursor).toBeNull();
  });

  it.each(['0', '101', 'abc', '-1', '1.5', ''])('rejects limit=%p with 400', async (limit) => {
    expectValidationProblem(await list({ limit }), 'limit');
  });

  it('rejects an unknown query parameter with 400', async () => {
    expectValidationProblem(await list({ owner: bob.id }), 'owner');
  });

  it('rejects an unknown sort with 400', async () => {
    expectValidationProblem(await list({ sort: 'priority' }), 'sort');
  });

  it('rejects a repeated parameter with 400', async () => {
    const res = await t.api.get('/api/v1/tasks?priority=low&priority=high').set(bearer(lister));
    expectValidationProblem(res, 'priority');
  });

  describe('full-text search with hostile input', () => {
    const hostile = [
      `'; DROP TABLE tasks; --`,
      `"; DROP TABLE tasks; --`,
      `') OR 1=1 --`,
      '\\',
      '\\\\x00',
      '%',
      '_',
      '%_%',
      '&|!():*<>',
      `'`,
      `"`,
      `"unbalanced`,
      `it's "half`,
      `((((`,
      `)))`,
      `!!!`,
      `a & | b`,
      `plumber:*`,
      `plumber:A`,
      `<->`,
      `or`,
      `-`,
      `the`,
      `$1`,
      `$$`,
      '&|!():*<>'.repeat(22).slice(0, 200),
      'x'.repeat(200),
      'café naïve façade',
      'Ünïcödé ß 日本語のタスク Ελληνικά עברית',
      '🚀🔥 emoji 👩‍👩‍👧‍👦',
      '\u200b\u202e zero width and bidi',
      'tab\tand\nnewline',
    ];

    it.each(hostile.map((q) => [q]))('answers q=%p with 200 and only the caller’s tasks', async (q) => {
      const res = await list({ q });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual(expect.any(Array));
      const mine = new Set(seeds.map((seed) => seed.id));
      for (const id of ids(res)) expect(mine.has(id)).toBe(true);
    });

    it.each([
      [`it's O'Neil's "quoted" text, '' and '''' and a lone '`],
      ["back\\slash \\\\ C:\\path\\to\\file.txt and \\' together"],
      [`<a href='x y' title="a ' b">tag</a> http://example.com/a'b?c=d e and mail@example.com`],
      ['&|!():*<-> 1.5 -2 v1.2.3 /usr/local/bin ünïcödé 日本語 🚀'],
    ])('creates, edits and finds a task whose text is %p', async (text) => {
      const writer = await register('hostile-text');
      const task = await createTask(writer, { title: `zebra ${text}`.slice(0, 200), description: text });
      const edited = await t.api
        .patch(`/api/v1/tasks/${task.id}`)
        .set(bearer(writer))
        .send({ description: `giraffe ${text}` });
      expect(edited.status).toBe(200);
      for (const q of ['zebra', 'giraffe', 'zebra giraffe']) {
        const res = await t.api.get('/api/v1/tasks').query({ q }).set(bearer(writer));
        expect(res.status).toBe(200);
        expect((res.body.items as Task[]).map((item) => item.id)).toEqual([task.id]);
      }
    });

    it('counts characters, not UTF-16 units: 200 emoji are a valid q', async () => {
      const res = await list({ q: '💥'.repeat(200) });
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
    });

    it.each([['&|!():*<>'.repeat(23).slice(0, 201)], ['💥'.repeat(201)], ['x'.repeat(201)]])(
      'answers an over-long q=%p with 400',
      async (q) => {
        expectValidationProblem(await list({ q }), 'q');
      },
    );

    it('answers a q holding a NUL byte with 200 or 400, never a server error', async () => {
      const res = await list({ q: 'plumber\u0000; DROP TABLE tasks' });
      expect([200, 400]).toContain(res.status);
    });

    it.each([
      ['sort', 'title; DROP TABLE tasks; --'],
      ['priority', "high' OR '1'='1"],
      ['dueBefore', "2026-01-01'; DROP TABLE tasks; --"],
      ['dueAfter', '2026-01-01)::date OR true --'],
      ['cursor', "'; DROP TABLE tasks; --"],
      ['limit', '1; DROP TABLE tasks'],
    ])('answers SQL in %s with 400', async (name, value) => {
      expectProblem(await list({ [name]: value }), 400);
    });

    it('answers a repeated q with 400', async () => {
      const res = await t.api.get('/api/v1/tasks?q=plumber&q=kitchen').set(bearer(lister));
      expectValidationProblem(res, 'q');
    });

    it('leaves the tasks table and its rows in place', async () => {
      const { rows } = await t.db.pool.query<{ table: string | null; mine: number }>(
        `SELECT to_regclass('public.tasks')::text AS table,
                (SELECT count(*)::int FROM tasks WHERE user_id = $1) AS mine`,
        [lister.id],
      );
      expect(rows[0]).toEqual({ table: 'tasks', mine: seeds.length });
      const res = await list({ limit: 100 });
      expect(ids(res).sort()).toEqual(seeds.map((seed) => seed.id).sort());
    });
  });
});

describe('GET /api/v1/tasks/stats', () => {
  it('counts total, completed, pending and overdue (open and due before today, UTC)', async () => {
    const counter = await register('counter');
    await createTask(counter, { title: 'overdue yesterday', dueDate: utcDate(-1) });
    await createTask(counter, { title: 'overdue long ago', dueDate: '2020-01-01' });
    await createTask(counter, { title: 'done, was due yesterday', dueDate: utcDate(-1), completed: true });
    await createTask(counter, { title: 'due today', dueDate: utcDate(0) });
    await createTask(counter, { title: 'due tomorrow', dueDate: utcDate(1) });
    await createTask(counter, { title: 'no due date' });
    await createTask(counter, { title: 'done, no due date', completed: true });

    const res = await t.api.get('/api/v1/tasks/stats').set(bearer(counter));

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ total: 7, completed: 2, pending: 5, overdue: 2 });
    const { rows } = await t.db.pool.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE completed)::int AS completed
       FROM tasks WHERE user_id = $1`,
      [counter.id],
    );
    expect(rows[0]).toEqual({ total: 7, completed: 2 });
  });

  it('counts nothing for a user without tasks, whatever others have', async () => {
    const newcomer = await register('newcomer');
    const res = await t.api.get('/api/v1/tasks/stats').set(bearer(newcomer));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ total: 0, completed: 0, pending: 0, overdue: 0 });
    expect(await taskCount(newcomer.id)).toBe(0);
  });
});

describe('single tasks: GET, PATCH, toggle and DELETE /api/v1/tasks/:id', () => {
  const routes: [string, (id: string, user: User) => Promise<Response>][] = [
    ['GET', (id, user) => t.api.get(`/api/v1/tasks/${id}`).set(bearer(user))],
    ['PATCH', (id, user) => t.api.patch(`/api/v1/tasks/${id}`).set(bearer(user)).send({ title: 'hijacked' })],
    ['toggle', (id, user) => t.api.post(`/api/v1/tasks/${id}/toggle`).set(bearer(user))],
    ['DELETE', (id, user) => t.api.delete(`/api/v1/tasks/${id}`).set(bearer(user))],
  ];

  it.each(routes)('%s answers 400 for an id that is not a UUID', async (_route, call) => {
    for (const id of ['not-a-uuid', '123', `${randomUUID()}x`]) {
      expectProblem(await call(id, alice), 400);
    }
  });

  it.each(routes)('%s answers 404 for an unknown id', async (_route, call) => {
    const id = randomUUID();
    const res = await call(id, alice);
    expectProblem(res, 404);
    expect(await taskRow(id)).toBeUndefined();
  });

  it.each(routes)('%s answers 404 for another user’s task and leaves it unchanged', async (_route, call) => {
    const task = await createTask(alice, { title: 'original', description: 'alice only' });

    expectProblem(await call(task.id, bob), 404);

    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ user_id: alice.id, title: 'original', completed: false, version: 1 }),
    );
  });

  it('answers 404, not 412, to another user sending If-Match', async () => {
    const task = await createTask(alice, { title: 'original' });
    const patch = await t.api
      .patch(`/api/v1/tasks/${task.id}`)
      .set(bearer(bob))
      .set('If-Match', '"7"')
      .send({ title: 'hijacked' });
    expectProblem(patch, 404);
    const remove = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(bob)).set('If-Match', '"7"');
    expectProblem(remove, 404);
    expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'original', version: 1 }));
  });

  it('keeps another user’s tasks out of the caller’s list and stats', async () => {
    const task = await createTask(alice, { title: 'private matter' });
    const listed = await t.api.get('/api/v1/tasks').query({ q: 'private', limit: 100 }).set(bearer(bob));
    expect(listed.status).toBe(200);
    expect((listed.body.items as Task[]).map((item) => item.id)).not.toContain(task.id);

    const stats = await t.api.get('/api/v1/tasks/stats').set(bearer(bob));
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(await taskCount(bob.id));
  });

  it('GET returns the task with its ETag', async () => {
    const task = await createTask(alice, { title: 'fetch me', dueDate: '2026-12-01', priority: 'low' });
    const res = await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toEqual(task);
  });
});

describe('PATCH /api/v1/tasks/:id', () => {
  const patch = (id: string, body: unknown, ifMatch?: string) => {
    const req = t.api.patch(`/api/v1/tasks/${id}`).set(bearer(alice));
    if (ifMatch !== undefined) void req.set('If-Match', ifMatch);
    return req.send(body as object);
  };

  it('changes only the given fields, bumps the version and the ETag', async () => {
    const task = await createTask(alice, { title: 'draft', description: 'keep me', priority: 'low' });

    const res = await patch(task.id, { title: '  final  ' });

    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body).toEqual({
      ...task,
      title: 'final',
      version: 2,
      updatedAt: expect.stringMatching(ISO_TIMESTAMP),
    });
    const { rows } = await t.db.pool.query('SELECT updated_at > created_at AS touched FROM tasks WHERE id = $1', [
      task.id,
    ]);
    expect(rows[0].touched).toBe(true);
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ title: 'final', description: 'keep me', priority: 'low', version: 2 }),
    );
  });

  it('changes every field at once', async () => {
    const task = await createTask(alice, { title: 'draft' });
    const res = await patch(task.id, {
      title: 'all of it',
      description: 'new description',
      dueDate: '2026-06-30',
      priority: 'high',
      completed: true,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(
      expect.objectContaining({
        title: 'all of it',
        description: 'new description',
        dueDate: '2026-06-30',
        priority: 'high',
        completed: true,
        completedAt: expect.stringMatching(ISO_TIMESTAMP),
        version: 2,
      }),
    );
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ title: 'all of it', due_date: '2026-06-30', priority: 'high', completed: true }),
    );
  });

  it('clears description and dueDate with null', async () => {
    const task = await createTask(alice, { title: 'clear me', description: 'soon gone', dueDate: '2026-05-01' });
    const res = await patch(task.id, { description: null, dueDate: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ title: 'clear me', description: null, dueDate: null }));
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ title: 'clear me', description: null, due_date: null, version: 2 }),
    );
  });

  it.each<[string, unknown, string | undefined]>([
    ['a null title', { title: null }, 'title'],
    ['a null priority', { priority: null }, 'priority'],
    ['a null completed', { completed: null }, 'completed'],
    ['a blank title', { title: '  ' }, 'title'],
    ['a 201-character title', { title: 'x'.repeat(201) }, 'title'],
    ['a 2001-character description', { description: 'd'.repeat(2001) }, 'description'],
    ['an impossible dueDate', { dueDate: '2026-02-30' }, 'dueDate'],
    ['an unknown priority', { priority: 'urgent' }, 'priority'],
    ['an unknown field', { version: 99 }, 'version'],
    ['a title holding a NUL byte', { title: 'before\u0000after' }, undefined],
    ['an empty body', {}, undefined],
    ['an array', [], undefined],
  ])('rejects %s with 400 and leaves the task unchanged', async (_case, body, field) => {
    const task = await createTask(alice, { title: 'untouched', description: 'as created', priority: 'low' });
    const res = await patch(task.id, body);
    expectValidationProblem(res, field);
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ title: 'untouched', description: 'as created', priority: 'low', version: 1 }),
    );
  });

  it('rejects a PATCH without a body with 400', async () => {
    const task = await createTask(alice, { title: 'untouched' });
    const res = await t.api.patch(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expectProblem(res, 400);
    expect((await taskRow(task.id))?.version).toBe(1);
  });

  it('sets completedAt on completed:true, keeps it on a repeated true, clears it on false', async () => {
    const task = await createTask(alice, { title: 'finish me' });

    const done = await patch(task.id, { completed: true });
    expect(done.status).toBe(200);
    expect(done.body).toEqual(
      expect.objectContaining({ completed: true, completedAt: expect.stringMatching(ISO_TIMESTAMP), version: 2 }),
    );
    expect(done.headers.etag).toBe('"2"');
    const firstCompletedAt = (await taskRow(task.id))!.completed_at;

    const again = await patch(task.id, { completed: true });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(
      expect.objectContaining({ completed: true, completedAt: done.body.completedAt, version: 3 }),
    );
    expect(again.headers.etag).toBe('"3"');
    expect((await taskRow(task.id))!.completed_at).toEqual(firstCompletedAt);

    const reopened = await patch(task.id, { completed: false });
    expect(reopened.status).toBe(200);
    expect(reopened.body).toEqual(expect.objectContaining({ completed: false, completedAt: null, version: 4 }));
    expect(reopened.headers.etag).toBe('"4"');
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ completed: false, completed_at: null, version: 4 }),
    );
  });

  describe('If-Match', () => {
    it('applies with the current ETag and answers the next one', async () => {
      const task = await createTask(alice, { title: 'v1' });
      const res = await patch(task.id, { title: 'v2' }, '"1"');
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v2', version: 2 }));
    });

    it('answers 412 to a stale ETag and leaves the task unchanged', async () => {
      const task = await createTask(alice, { title: 'v1' });
      expect((await patch(task.id, { title: 'v2' })).status).toBe(200);

      const res = await patch(task.id, { title: 'lost update' }, '"1"');

      expectProblem(res, 412);
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v2', version: 2 }));
    });

    it('answers 412 to a weak ETag, which never matches', async () => {
      const task = await createTask(alice, { title: 'v1' });
      expectProblem(await patch(task.id, { title: 'weak' }, 'W/"1"'), 412);
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
    });

    it('applies with * and with a list that holds the current ETag', async () => {
      const task = await createTask(alice, { title: 'v1' });
      const star = await patch(task.id, { title: 'v2' }, '*');
      expect(star.status).toBe(200);
      expect(star.headers.etag).toBe('"2"');

      const listed = await patch(task.id, { title: 'v3' }, '"9", "2"');
      expect(listed.status).toBe(200);
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v3', version: 3 }));
    });

    // Strong comparison is character by character (RFC 9110 §8.8.3.2): "01" is not the ETag "1".
    it('answers 412 to If-Match "01", which is not the ETag "1", and changes nothing', async () => {
      const task = await createTask(alice, { title: 'v1' });
      expectProblem(await patch(task.id, { title: 'v2' }, '"01"'), 412);
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
    });

    it.each(['garbage', '1', 'W/1', '"1', '"1",,x'])(
      'answers 400 to If-Match %p and changes nothing',
      async (header) => {
        const task = await createTask(alice, { title: 'v1' });
        expectProblem(await patch(task.id, { title: 'v2' }, header), 400);
        expect(await taskRow(task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
      },
    );

    it('guards toggle and DELETE too', async () => {
      const task = await createTask(alice, { title: 'guarded' });
      expect((await patch(task.id, { priority: 'high' })).status).toBe(200);

      const toggle = await t.api.post(`/api/v1/tasks/${task.id}/toggle`).set(bearer(alice)).set('If-Match', '"1"');
      expectProblem(toggle, 412);
      const stale = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)).set('If-Match', '"1"');
      expectProblem(stale, 412);
      expect(await taskRow(task.id)).toEqual(expect.objectContaining({ completed: false, version: 2 }));

      const toggled = await t.api.post(`/api/v1/tasks/${task.id}/toggle`).set(bearer(alice)).set('If-Match', '"2"');
      expect(toggled.status).toBe(200);
      expect(toggled.body).toEqual(expect.objectContaining({ completed: true, version: 3 }));

      const current = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)).set('If-Match', '"3"');
      expect(current.status).toBe(204);
      expect(await taskRow(task.id)).toBeUndefined();
    });
  });

  it('lets concurrent PATCHes of different fields all land', async () => {
    const task = await createTask(alice, { title: 'before' });
    const changes = [
      { title: 'after' },
      { description: 'described' },
      { priority: 'high' },
      { dueDate: '2026-09-09' },
      { completed: true },
    ];

    const responses = await Promise.all(changes.map((change) => patch(task.id, change)));

    expect(responses.map((res) => res.status)).toEqual(changes.map(() => 200));
    expect(responses.map((res) => res.body.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
    const row = await taskRow(task.id);
    expect(row).toEqual(
      expect.objectContaining({
        title: 'after',
        description: 'described',
        priority: 'high',
        due_date: '2026-09-09',
        completed: true,
        version: 6,
      }),
    );
    expect(row!.completed_at).toBeInstanceOf(Date);
  });
});

describe('POST /api/v1/tasks/:id/toggle', () => {
  const toggle = (id: string) => t.api.post(`/api/v1/tasks/${id}/toggle`).set(bearer(alice));

  it('flips completed and completedAt, bumping the version each time', async () => {
    const task = await createTask(alice, { title: 'flip me' });

    const on = await toggle(task.id);
    expect(on.status).toBe(200);
    expect(on.headers.etag).toBe('"2"');
    expect(on.body).toEqual(
      expect.objectContaining({
        id: task.id,
        completed: true,
        completedAt: expect.stringMatching(ISO_TIMESTAMP),
        version: 2,
      }),
    );
    expect(await taskRow(task.id)).toEqual(expect.objectContaining({ completed: true, version: 2 }));

    const off = await toggle(task.id);
    expect(off.status).toBe(200);
    expect(off.headers.etag).toBe('"3"');
    expect(off.body).toEqual(expect.objectContaining({ completed: false, completedAt: null, version: 3 }));
    expect(await taskRow(task.id)).toEqual(
      expect.objectContaining({ completed: false, completed_at: null, version: 3 }),
    );
  });

  it('loses no update under 20 concurrent toggles', async () => {
    const task = await createTask(alice, { title: 'hammered', completed: true });

    const responses = await Promise.all(Array.from({ length: 20 }, () => toggle(task.id)));

    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(200));
    const versions = responses.map((res) => res.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    // An even number of flips ends where it started.
    const row = await taskRow(task.id);
    expect(row).toEqual(expect.objectContaining({ version: 21, completed: true }));
    expect(row!.completed_at).toBeInstanceOf(Date);
    const res = await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.headers.etag).toBe('"21"');
  });
});

describe('DELETE /api/v1/tasks/:id', () => {
  it('answers 204, then GET and DELETE answer 404', async () => {
    const task = await createTask(alice, { title: 'delete me' });

    const res = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await taskRow(task.id)).toBeUndefined();

    expectProblem(await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice)), 404);
    expectProblem(await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)), 404);
  });
});

describe('response serialization', () => {
  const isNull = (value: unknown) => value === null;

  it('writes exactly the fields the OpenAPI document declares for a task, a page and the stats', async () => {
    const created = await createTask(alice, { title: 'documented', description: null });
    const responses: [string, Record<string, unknown>][] = [
      ['TaskDto', (await t.api.get(`/api/v1/tasks/${created.id}`).set(bearer(alice))).body],
      ['TaskPageDto', (await t.api.get('/api/v1/tasks?limit=1').set(bearer(alice))).body],
      ['TaskStatsDto', (await t.api.get('/api/v1/tasks/stats').set(bearer(alice))).body],
    ];
    for (const [name, body] of responses) {
      const documented = schemas[name].properties;
      expect({ name, fields: Object.keys(body) }).toEqual({ name, fields: Object.keys(documented) });
      for (const [field, value] of Object.entries(body)) {
        if (isNull(value))
          expect({ name, field, nullable: documented[field].nullable }).toEqual({ name, field, nullable: true });
      }
    }
  });

  it('keeps a created, replayed, listed and fetched task identical, field for field', async () => {
    const key = randomUUID();
    const body = { title: 'serialized', description: 'with "quotes" and \\ and ünïcødé', dueDate: '2026-12-01' };
    const created = await t.api.post('/api/v1/tasks').set(bearer(alice)).set('idempotency-key', key).send(body);
    const replayed = await t.api.post('/api/v1/tasks').set(bearer(alice)).set('idempotency-key', key).send(body);
    const fetched = await t.api.get(`/api/v1/tasks/${created.body.id}`).set(bearer(alice));
    const listed = await t.api.get('/api/v1/tasks?q=serialized').set(bearer(alice));

    expect([created.status, replayed.status, fetched.status, listed.status]).toEqual([201, 201, 200, 200]);
    expect(Object.keys(created.body).sort()).toEqual([...TASK_FIELDS].sort());
    expect(created.body).toEqual(expect.objectContaining({ ...body, completed: false, completedAt: null, version: 1 }));
    expect(created.body.createdAt).toMatch(ISO_TIMESTAMP);
    expect(replayed.body).toEqual(created.body);
    expect(fetched.body).toEqual(created.body);
    expect(listed.body).toEqual({ items: [created.body], nextCursor: null });
  });
});
