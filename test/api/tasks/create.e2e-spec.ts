import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../support/app';
import { bearer, expectProblem, type TaskUser } from '../../support/auth';
import {
  documentedSchemas,
  expectValidationProblem,
  ISO_TIMESTAMP,
  startTaskApp,
  taskCount,
  taskRow,
  UUID,
} from '../../support/tasks';

// Malformed JSON and text PostgreSQL cannot store (NUL) are refused for every route: test/api/http/.
let t: TestApp;
let alice: TaskUser;
/** A task's fields, in the order TaskDto declares them. */
let TASK_FIELDS: string[];

beforeAll(async () => {
  ({ t, alice } = await startTaskApp());
  TASK_FIELDS = Object.keys((await documentedSchemas(t)).TaskDto.properties);
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
    expect(await taskRow(t, res.body.id)).toEqual({
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
    const row = await taskRow(t, res.body.id);
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
    expect((await taskRow(t, res.body.id))?.title).toBe('x'.repeat(200));
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
    const before = await taskCount(t, alice.id);
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).send(body);
    expectValidationProblem(res, field);
    expect(await taskCount(t, alice.id)).toBe(before);
  });

  it.each([
    ['an array', '[{"title":"in an array"}]'],
    ['an empty array', '[]'],
    ['a string', '"just a title"'],
    ['a number', '42'],
    ['true', 'true'],
    ['null', 'null'],
  ])('rejects a body that is %s with 400 and creates nothing', async (_case, raw) => {
    const before = await taskCount(t, alice.id);
    const res = await t.api.post('/api/v1/tasks').set(bearer(alice)).set('Content-Type', 'application/json').send(raw);
    expectProblem(res, 400);
    expect(await taskCount(t, alice.id)).toBe(before);
  });

  it('requires a bearer token', async () => {
    const res = await t.api.post('/api/v1/tasks').send({ title: 'anonymous' });
    expectProblem(res, 401);
    const { rows } = await t.db.pool.query(`SELECT 1 FROM tasks WHERE title = 'anonymous'`);
    expect(rows).toHaveLength(0);
  });
});
