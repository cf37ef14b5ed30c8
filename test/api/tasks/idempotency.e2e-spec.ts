import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { startTestApp, type TestApp } from '../../support/app';
import { expectProblem, NO_THROTTLING, bearer, registerTaskUser, type TaskUser } from '../../support/auth';

type User = TaskUser;

interface KeyRow {
  status: string;
  response_type: string;
  response_status: number;
  response_task_id: string;
  age_hours: number;
}

let t: TestApp;
let alice: User;
let bob: User;

const register = (name: string): Promise<User> => registerTaskUser(t.api, name);

const create = (user: User, key: string | undefined, body: unknown) => {
  const req = t.api.post('/api/v1/tasks').set(bearer(user));
  if (key !== undefined) void req.set('Idempotency-Key', key);
  return req.send(body as object);
};

function expectCreateProblem(res: Response, status: number): void {
  expectProblem(res, status);
  expect(res.body.instance).toBe('/api/v1/tasks');
}

/** Tasks of `user` titled `title`, with their ids. */
async function tasksTitled(user: User, title: string): Promise<string[]> {
  const { rows } = await t.db.pool.query<{ id: string }>(
    'SELECT id FROM tasks WHERE user_id = $1 AND title = $2 ORDER BY created_at',
    [user.id, title],
  );
  return rows.map((row) => row.id);
}

async function keyRow(user: User, key: string): Promise<KeyRow | undefined> {
  const { rows } = await t.db.pool.query<KeyRow>(
    `SELECT status, jsonb_typeof(response) AS response_type, (response->>'status')::int AS response_status,
            response->'body'->>'id' AS response_task_id,
            (extract(epoch FROM now() - created_at) / 3600)::float8 AS age_hours
     FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
    [user.id, key],
  );
  return rows[0];
}

const uniqueKey = () => `key-${randomUUID()}`;

beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
  alice = await register('alice');
  bob = await register('bob');
});
afterAll(() => t.close());

describe('POST /api/v1/tasks with Idempotency-Key', () => {
  it('replays the first response to a retry and creates exactly one task', async () => {
    const key = uniqueKey();
    const body = { title: 'Buy milk', description: 'semi-skimmed', priority: 'high' };

    const first = await create(alice, key, body);
    const retry = await create(alice, key, body);

    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(Object.keys(retry.body)).toEqual(Object.keys(first.body));
    expect(retry.headers.location).toBe(`/api/v1/tasks/${first.body.id}`);
    expect(retry.headers.location).toBe(first.headers.location);
    expect(retry.headers.etag).toBe(first.headers.etag);
    expect(await tasksTitled(alice, 'Buy milk')).toEqual([first.body.id]);
    expect(await keyRow(alice, key)).toEqual(
      expect.objectContaining({
        status: 'completed',
        response_type: 'object',
        response_status: 201,
        response_task_id: first.body.id,
      }),
    );
  });

  it('treats the same fields in another order or layout as the same request', async () => {
    const key = uniqueKey();
    const first = await create(alice, key, { title: 'Reordered', priority: 'low', dueDate: '2026-07-01' });
    const retry = await t.api
      .post('/api/v1/tasks')
      .set(bearer(alice))
      .set('Idempotency-Key', key)
      .set('Content-Type', 'application/json')
      .send('{ "dueDate": "2026-07-01",\n  "priority": "low", "title": "Reordered" }');

    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await tasksTitled(alice, 'Reordered')).toEqual([first.body.id]);
  });

  it('answers 422 to the same key with a different body and creates nothing more', async () => {
    const key = uniqueKey();
    const first = await create(alice, key, { title: 'First body' });
    expect(first.status).toBe(201);

    const other = await create(alice, key, { title: 'Second body' });

    expectCreateProblem(other, 422);
    expect(await tasksTitled(alice, 'First body')).toEqual([first.body.id]);
    expect(await tasksTitled(alice, 'Second body')).toEqual([]);
    expect(await keyRow(alice, key)).toEqual(
      expect.objectContaining({ status: 'completed', response_task_id: first.body.id }),
    );
  });

  it('keeps keys per user: another user with the same key creates a task of their own', async () => {
    const key = uniqueKey();
    const body = { title: 'Shared key' };

    const mine = await create(alice, key, body);
    const theirs = await create(bob, key, body);

    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await tasksTitled(alice, 'Shared key')).toEqual([mine.body.id]);
    expect(await tasksTitled(bob, 'Shared key')).toEqual([theirs.body.id]);
    expect((await keyRow(alice, key))?.response_task_id).toBe(mine.body.id);
    expect((await keyRow(bob, key))?.response_task_id).toBe(theirs.body.id);
  });

  it('creates one task from 10 concurrent requests with one key; the others replay it or answer 409', async () => {
    const key = uniqueKey();
    const body = { title: 'Concurrent create', dueDate: '2026-08-08' };

    const responses = await Promise.all(Array.from({ length: 10 }, () => create(alice, key, body)));

    const created = responses.filter((res) => res.status === 201);
    const conflicts = responses.filter((res) => res.status !== 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const res of created) {
      expect(res.body).toEqual(created[0].body);
      expect(res.headers.location).toBe(`/api/v1/tasks/${created[0].body.id}`);
    }
    for (const res of conflicts) expectCreateProblem(res, 409);
    expect(await tasksTitled(alice, 'Concurrent create')).toEqual([created[0].body.id]);
    expect(await keyRow(alice, key)).toEqual(
      expect.objectContaining({ status: 'completed', response_task_id: created[0].body.id }),
    );

    const retry = await create(alice, key, body);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(created[0].body);
  });

  it('accepts a 255-character key and refuses a 256-character one with 400', async () => {
    const longest = 'k'.repeat(255);
    const ok = await create(alice, longest, { title: 'Longest key' });
    expect(ok.status).toBe(201);
    expect((await keyRow(alice, longest))?.status).toBe('completed');

    const tooLong = 'k'.repeat(256);
    const res = await create(alice, tooLong, { title: 'Too long a key' });
    expectCreateProblem(res, 400);
    expect(await tasksTitled(alice, 'Too long a key')).toEqual([]);
    expect(await keyRow(alice, tooLong)).toBeUndefined();
  });

  it('refuses an empty key with 400', async () => {
    const res = await create(alice, '', { title: 'Empty key' });
    expectCreateProblem(res, 400);
    expect(await tasksTitled(alice, 'Empty key')).toEqual([]);
  });

  it('does not bind a key to a request that failed validation', async () => {
    const key = uniqueKey();
    const invalid = await create(alice, key, { title: '' });
    expectCreateProblem(invalid, 400);
    expect(await keyRow(alice, key)).toBeUndefined();

    const valid = await create(alice, key, { title: 'Fixed title' });
    expect(valid.status).toBe(201);
    expect(valid.headers['idempotent-replayed']).toBeUndefined();
    expect(await tasksTitled(alice, 'Fixed title')).toEqual([valid.body.id]);
  });

  it('forgets a key after 24 hours: the same request then creates a new task', async () => {
    const key = uniqueKey();
    const body = { title: 'Expiring key' };
    const first = await create(alice, key, body);
    expect(first.status).toBe(201);
    await t.db.pool.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1 AND key = $2`,
      [alice.id, key],
    );

    const later = await create(alice, key, body);

    expect(later.status).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(later.body.id).not.toBe(first.body.id);
    expect(await tasksTitled(alice, 'Expiring key')).toEqual([first.body.id, later.body.id]);
    const row = await keyRow(alice, key);
    expect(row).toEqual(expect.objectContaining({ status: 'completed', response_task_id: later.body.id }));
    expect(row!.age_hours).toBeLessThan(1);
  });

  it('lets an expired key carry a different body', async () => {
    const key = uniqueKey();
    expect((await create(alice, key, { title: 'Old body' })).status).toBe(201);
    await t.db.pool.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1 AND key = $2`,
      [alice.id, key],
    );

    const res = await create(alice, key, { title: 'New body' });

    expect(res.status).toBe(201);
    expect(await tasksTitled(alice, 'New body')).toEqual([res.body.id]);
  });

  it('still replays a key just under 24 hours old', async () => {
    const key = uniqueKey();
    const body = { title: 'Almost expired' };
    const first = await create(alice, key, body);
    await t.db.pool.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '23 hours 59 minutes' WHERE user_id = $1 AND key = $2`,
      [alice.id, key],
    );

    const retry = await create(alice, key, body);

    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await tasksTitled(alice, 'Almost expired')).toEqual([first.body.id]);
  });

  it('purges the user’s expired keys', async () => {
    const stale = uniqueKey();
    expect((await create(alice, stale, { title: 'Stale key' })).status).toBe(201);
    await t.db.pool.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1 AND key = $2`,
      [alice.id, stale],
    );

    expect((await create(alice, uniqueKey(), { title: 'Fresh key' })).status).toBe(201);

    expect(await keyRow(alice, stale)).toBeUndefined();
    expect(await tasksTitled(alice, 'Stale key')).toHaveLength(1);
  });

  it('creates a task per request without a key', async () => {
    const body = { title: 'No key' };
    const first = await create(alice, undefined, body);
    const second = await create(alice, undefined, body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(await tasksTitled(alice, 'No key')).toEqual([first.body.id, second.body.id]);
  });
});
