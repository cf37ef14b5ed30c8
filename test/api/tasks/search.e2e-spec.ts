import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../support/app';
import { bearer, expectProblem, registerTaskUser, type TaskUser } from '../../support/auth';
import {
  createTask,
  expectValidationProblem,
  ids,
  insertSeeds,
  SEEDS,
  startTaskApp,
  type Task,
} from '../../support/tasks';

let t: TestApp;
let bob: TaskUser;

beforeAll(async () => {
  ({ t, bob } = await startTaskApp());
});
afterAll(() => t.close());

describe('GET /api/v1/tasks?q= (full-text search)', () => {
  let lister: TaskUser;
  const list = (query: Record<string, string | number>) => t.api.get('/api/v1/tasks').query(query).set(bearer(lister));

  beforeAll(async () => {
    lister = await registerTaskUser(t.api, 'lister');
    await insertSeeds(t, lister.id, bob);
  });

  it('searches the title and the description with q', async () => {
    const res = await list({ q: 'quarterly' });
    expect(res.status).toBe(200);
    // "email quarterly report" matches on its title, "bank statement" on its description only.
    expect(ids(res)).toEqual([SEEDS[5].id, SEEDS[1].id]);
  });

  it('searches with stemming, phrases and exclusions', async () => {
    const stems = await list({ q: 'painters' });
    expect(stems.status).toBe(200);
    expect(ids(stems)).toEqual([SEEDS[8].id]);

    const phrase = await list({ q: '"kitchen sink"' });
    expect(phrase.status).toBe(200);
    expect(ids(phrase)).toEqual([SEEDS[2].id]);

    const excluded = await list({ q: 'plumber -kitchen' });
    expect(excluded.status).toBe(200);
    expect(ids(excluded)).toEqual([SEEDS[3].id]);
  });

  it('combines q with the other filters and a sort', async () => {
    const res = await list({ q: 'quarterly', completed: 'true', sort: 'title' });
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([SEEDS[5].id]);
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
    expect(ids(await list({ q: 'quarterly' }))).toEqual([SEEDS[5].id, SEEDS[1].id]);
    expect(ids(await list({ q: '"kitchen sink"' }))).toEqual([SEEDS[2].id]);
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
      const mine = new Set(SEEDS.map((seed) => seed.id));
      for (const id of ids(res)) expect(mine.has(id)).toBe(true);
    });

    it.each([
      [`it's O'Neil's "quoted" text, '' and '''' and a lone '`],
      ["back\\slash \\\\ C:\\path\\to\\file.txt and \\' together"],
      [`<a href='x y' title="a ' b">tag</a> http://example.com/a'b?c=d e and mail@example.com`],
      ['&|!():*<-> 1.5 -2 v1.2.3 /usr/local/bin ünïcödé 日本語 🚀'],
    ])('creates, edits and finds a task whose text is %p', async (text) => {
      const writer = await registerTaskUser(t.api, 'hostile-text');
      const task = await createTask(t, writer, { title: `zebra ${text}`.slice(0, 200), description: text });
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
      expect(rows[0]).toEqual({ table: 'tasks', mine: SEEDS.length });
      const res = await list({ limit: 100 });
      expect(ids(res).sort()).toEqual(SEEDS.map((seed) => seed.id).sort());
    });
  });
});
