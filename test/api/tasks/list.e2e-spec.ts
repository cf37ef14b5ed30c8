import type { Response } from 'supertest';
import { SORTS } from '../../../src/tasks/task-sort';
import type { TestApp } from '../../support/app';
import { bearer, registerTaskUser, type TaskUser } from '../../support/auth';
import {
  createTask,
  documentedSchemas,
  expectValidationProblem,
  ids,
  insertSeeds,
  ordered,
  SEEDS,
  startTaskApp,
  taskCount,
  utcDate,
  type Seed,
  type Task,
} from '../../support/tasks';

// Listing (sort, filters, limit) and the stats; searching with q is in search.e2e-spec.ts.
let t: TestApp;
let bob: TaskUser;
/** A task's fields, in the order TaskDto declares them. */
let TASK_FIELDS: string[];

beforeAll(async () => {
  ({ t, bob } = await startTaskApp());
  TASK_FIELDS = Object.keys((await documentedSchemas(t)).TaskDto.properties);
});
afterAll(() => t.close());

describe('GET /api/v1/tasks', () => {
  let lister: TaskUser;
  const list = (query: Record<string, string | number>) => t.api.get('/api/v1/tasks').query(query).set(bearer(lister));

  const where = (predicate: (seed: Seed) => boolean) => ordered(SEEDS.filter(predicate), '-createdAt');

  beforeAll(async () => {
    lister = await registerTaskUser(t.api, 'lister');
    await insertSeeds(t, lister.id, bob);
  });

  it('answers {items, nextCursor} with only the caller’s tasks, newest first by default', async () => {
    const res = await list({});
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
    expect(res.body.nextCursor).toBeNull();
    expect(ids(res)).toEqual(ordered(SEEDS, '-createdAt'));
    for (const item of res.body.items as Task[]) {
      expect(Object.keys(item).sort()).toEqual([...TASK_FIELDS].sort());
    }
    const plumber = (res.body.items as Task[]).find((task) => task.id === SEEDS[2].id);
    expect(plumber).toEqual({
      id: SEEDS[2].id,
      title: 'call the plumber',
      description: 'kitchen sink leaks',
      completed: true,
      completedAt: SEEDS[2].updatedAt,
      dueDate: null,
      priority: 'medium',
      createdAt: SEEDS[2].createdAt,
      updatedAt: SEEDS[2].updatedAt,
      version: 1,
    });
  });

  it.each(SORTS.map((sort) => [sort]))('sorts by %s, ties broken by id in the same direction', async (sort) => {
    const res = await list({ sort, limit: 100 });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(ordered(SEEDS, sort));
    expect(res.body.nextCursor).toBeNull();
  });

  it('puts tasks without a due date last in dueDate order and first in -dueDate order', async () => {
    const undated = SEEDS.filter((seed) => seed.dueDate === null).length;
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
    expect(ids(res)).toEqual([SEEDS[3].id, SEEDS[1].id]);
  });

  it.each([
    ['dueBefore', '2026-02-30'],
    ['dueBefore', 'tomorrow'],
    ['dueAfter', '2026-1-5'],
    ['dueAfter', '20260105'],
  ])('rejects %s=%s with 400', async (name, value) => {
    expectValidationProblem(await list({ [name]: value }), name);
  });

  it('pages with limit: default 20, at most 100', async () => {
    const many = await registerTaskUser(t.api, 'many');
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

  it.each([
    ['0', 'limit must not be less than 1'],
    ['101', 'limit must not be greater than 100'],
    ['abc', 'limit must be an integer number'],
    ['-1', 'limit must not be less than 1'],
    ['1.5', 'limit must be an integer number'],
    ['', 'limit must be an integer number'],
  ])('rejects limit=%p with 400 naming the rule it broke', async (limit, message) => {
    const res = await list({ limit });
    expectValidationProblem(res, 'limit');
    expect(res.body.errors).toEqual([{ field: 'limit', message }]);
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
});

describe('GET /api/v1/tasks/stats', () => {
  it('counts total, completed, pending and overdue (open and due before today, UTC)', async () => {
    const counter = await registerTaskUser(t.api, 'counter');
    await createTask(t, counter, { title: 'overdue yesterday', dueDate: utcDate(-1) });
    await createTask(t, counter, { title: 'overdue long ago', dueDate: '2020-01-01' });
    await createTask(t, counter, { title: 'done, was due yesterday', dueDate: utcDate(-1), completed: true });
    await createTask(t, counter, { title: 'due today', dueDate: utcDate(0) });
    await createTask(t, counter, { title: 'due tomorrow', dueDate: utcDate(1) });
    await createTask(t, counter, { title: 'no due date' });
    await createTask(t, counter, { title: 'done, no due date', completed: true });

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
    const newcomer = await registerTaskUser(t.api, 'newcomer');
    const res = await t.api.get('/api/v1/tasks/stats').set(bearer(newcomer));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ total: 0, completed: 0, pending: 0, overdue: 0 });
    expect(await taskCount(t, newcomer.id)).toBe(0);
  });
});
