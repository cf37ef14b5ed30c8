import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { TestApp } from '../../support/app';
import { bearer, expectProblem, type TaskUser } from '../../support/auth';
import { createTask, startTaskApp, taskCount, taskRow, type Task } from '../../support/tasks';

// What every route on one task shares (ids, ownership), GET and DELETE; PATCH and toggle are in update.e2e-spec.ts.
let t: TestApp;
let alice: TaskUser;
let bob: TaskUser;

beforeAll(async () => {
  ({ t, alice, bob } = await startTaskApp());
});
afterAll(() => t.close());

describe('single tasks: GET, PATCH, toggle and DELETE /api/v1/tasks/:id', () => {
  const routes: [string, (id: string, user: TaskUser) => Promise<Response>][] = [
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
    expect(await taskRow(t, id)).toBeUndefined();
  });

  it.each(routes)('%s answers 404 for another user’s task and leaves it unchanged', async (_route, call) => {
    const task = await createTask(t, alice, { title: 'original', description: 'alice only' });

    expectProblem(await call(task.id, bob), 404);

    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ user_id: alice.id, title: 'original', completed: false, version: 1 }),
    );
  });

  it('answers 404, not 412, to another user sending If-Match', async () => {
    const task = await createTask(t, alice, { title: 'original' });
    const patch = await t.api
      .patch(`/api/v1/tasks/${task.id}`)
      .set(bearer(bob))
      .set('If-Match', '"7"')
      .send({ title: 'hijacked' });
    expectProblem(patch, 404);
    const remove = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(bob)).set('If-Match', '"7"');
    expectProblem(remove, 404);
    expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'original', version: 1 }));
  });

  it('keeps another user’s tasks out of the caller’s list and stats', async () => {
    const task = await createTask(t, alice, { title: 'private matter' });
    const listed = await t.api.get('/api/v1/tasks').query({ q: 'private', limit: 100 }).set(bearer(bob));
    expect(listed.status).toBe(200);
    expect((listed.body.items as Task[]).map((item) => item.id)).not.toContain(task.id);

    const stats = await t.api.get('/api/v1/tasks/stats').set(bearer(bob));
    expect(stats.status).toBe(200);
    expect(stats.body.total).toBe(await taskCount(t, bob.id));
  });

  it('GET returns the task with its ETag', async () => {
    const task = await createTask(t, alice, { title: 'fetch me', dueDate: '2026-12-01', priority: 'low' });
    const res = await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toEqual(task);
  });
});

describe('DELETE /api/v1/tasks/:id', () => {
  it('answers 204, then GET and DELETE answer 404', async () => {
    const task = await createTask(t, alice, { title: 'delete me' });

    const res = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await taskRow(t, task.id)).toBeUndefined();

    expectProblem(await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice)), 404);
    expectProblem(await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)), 404);
  });
});
