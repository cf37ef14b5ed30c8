import type { TestApp } from '../../support/app';
import { bearer, expectProblem, type TaskUser } from '../../support/auth';
import { createTask, expectValidationProblem, ISO_TIMESTAMP, startTaskApp, taskRow } from '../../support/tasks';

let t: TestApp;
let alice: TaskUser;

beforeAll(async () => {
  ({ t, alice } = await startTaskApp());
});
afterAll(() => t.close());

describe('PATCH /api/v1/tasks/:id', () => {
  const patch = (id: string, body: unknown, ifMatch?: string) => {
    const req = t.api.patch(`/api/v1/tasks/${id}`).set(bearer(alice));
    if (ifMatch !== undefined) void req.set('If-Match', ifMatch);
    return req.send(body as object);
  };

  it('changes only the given fields, bumps the version and the ETag', async () => {
    const task = await createTask(t, alice, { title: 'draft', description: 'keep me', priority: 'low' });

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
    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ title: 'final', description: 'keep me', priority: 'low', version: 2 }),
    );
  });

  it('changes every field at once', async () => {
    const task = await createTask(t, alice, { title: 'draft' });
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
    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ title: 'all of it', due_date: '2026-06-30', priority: 'high', completed: true }),
    );
  });

  it('clears description and dueDate with null', async () => {
    const task = await createTask(t, alice, { title: 'clear me', description: 'soon gone', dueDate: '2026-05-01' });
    const res = await patch(task.id, { description: null, dueDate: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ title: 'clear me', description: null, dueDate: null }));
    expect(await taskRow(t, task.id)).toEqual(
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
    const task = await createTask(t, alice, { title: 'untouched', description: 'as created', priority: 'low' });
    const res = await patch(task.id, body);
    expectValidationProblem(res, field);
    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ title: 'untouched', description: 'as created', priority: 'low', version: 1 }),
    );
  });

  it('rejects a PATCH without a body with 400', async () => {
    const task = await createTask(t, alice, { title: 'untouched' });
    const res = await t.api.patch(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expectProblem(res, 400);
    expect((await taskRow(t, task.id))?.version).toBe(1);
  });

  it('sets completedAt on completed:true, keeps it on a repeated true, clears it on false', async () => {
    const task = await createTask(t, alice, { title: 'finish me' });

    const done = await patch(task.id, { completed: true });
    expect(done.status).toBe(200);
    expect(done.body).toEqual(
      expect.objectContaining({ completed: true, completedAt: expect.stringMatching(ISO_TIMESTAMP), version: 2 }),
    );
    expect(done.headers.etag).toBe('"2"');
    const firstCompletedAt = (await taskRow(t, task.id))!.completed_at;

    const again = await patch(task.id, { completed: true });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(
      expect.objectContaining({ completed: true, completedAt: done.body.completedAt, version: 3 }),
    );
    expect(again.headers.etag).toBe('"3"');
    expect((await taskRow(t, task.id))!.completed_at).toEqual(firstCompletedAt);

    const reopened = await patch(task.id, { completed: false });
    expect(reopened.status).toBe(200);
    expect(reopened.body).toEqual(expect.objectContaining({ completed: false, completedAt: null, version: 4 }));
    expect(reopened.headers.etag).toBe('"4"');
    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ completed: false, completed_at: null, version: 4 }),
    );
  });

  describe('If-Match', () => {
    it('applies with the current ETag and answers the next one', async () => {
      const task = await createTask(t, alice, { title: 'v1' });
      const res = await patch(task.id, { title: 'v2' }, '"1"');
      expect(res.status).toBe(200);
      expect(res.headers.etag).toBe('"2"');
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v2', version: 2 }));
    });

    it('answers 412 to a stale ETag and leaves the task unchanged', async () => {
      const task = await createTask(t, alice, { title: 'v1' });
      expect((await patch(task.id, { title: 'v2' })).status).toBe(200);

      const res = await patch(task.id, { title: 'lost update' }, '"1"');

      expectProblem(res, 412);
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v2', version: 2 }));
    });

    it('answers 412 to a weak ETag, which never matches', async () => {
      const task = await createTask(t, alice, { title: 'v1' });
      expectProblem(await patch(task.id, { title: 'weak' }, 'W/"1"'), 412);
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
    });

    it('applies with * and with a list that holds the current ETag', async () => {
      const task = await createTask(t, alice, { title: 'v1' });
      const star = await patch(task.id, { title: 'v2' }, '*');
      expect(star.status).toBe(200);
      expect(star.headers.etag).toBe('"2"');

      const listed = await patch(task.id, { title: 'v3' }, '"9", "2"');
      expect(listed.status).toBe(200);
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v3', version: 3 }));
    });

    // Strong comparison is character by character (RFC 9110 §8.8.3.2): "01" is not the ETag "1".
    it('answers 412 to If-Match "01", which is not the ETag "1", and changes nothing', async () => {
      const task = await createTask(t, alice, { title: 'v1' });
      expectProblem(await patch(task.id, { title: 'v2' }, '"01"'), 412);
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
    });

    it.each(['garbage', '1', 'W/1', '"1', '"1",,x'])(
      'answers 400 to If-Match %p and changes nothing',
      async (header) => {
        const task = await createTask(t, alice, { title: 'v1' });
        expectProblem(await patch(task.id, { title: 'v2' }, header), 400);
        expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ title: 'v1', version: 1 }));
      },
    );

    it('guards toggle and DELETE too', async () => {
      const task = await createTask(t, alice, { title: 'guarded' });
      expect((await patch(task.id, { priority: 'high' })).status).toBe(200);

      const toggle = await t.api.post(`/api/v1/tasks/${task.id}/toggle`).set(bearer(alice)).set('If-Match', '"1"');
      expectProblem(toggle, 412);
      const stale = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)).set('If-Match', '"1"');
      expectProblem(stale, 412);
      expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ completed: false, version: 2 }));

      const toggled = await t.api.post(`/api/v1/tasks/${task.id}/toggle`).set(bearer(alice)).set('If-Match', '"2"');
      expect(toggled.status).toBe(200);
      expect(toggled.body).toEqual(expect.objectContaining({ completed: true, version: 3 }));

      const current = await t.api.delete(`/api/v1/tasks/${task.id}`).set(bearer(alice)).set('If-Match', '"3"');
      expect(current.status).toBe(204);
      expect(await taskRow(t, task.id)).toBeUndefined();
    });
  });

  it('lets concurrent PATCHes of different fields all land', async () => {
    const task = await createTask(t, alice, { title: 'before' });
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
    const row = await taskRow(t, task.id);
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
    const task = await createTask(t, alice, { title: 'flip me' });

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
    expect(await taskRow(t, task.id)).toEqual(expect.objectContaining({ completed: true, version: 2 }));

    const off = await toggle(task.id);
    expect(off.status).toBe(200);
    expect(off.headers.etag).toBe('"3"');
    expect(off.body).toEqual(expect.objectContaining({ completed: false, completedAt: null, version: 3 }));
    expect(await taskRow(t, task.id)).toEqual(
      expect.objectContaining({ completed: false, completed_at: null, version: 3 }),
    );
  });

  it('loses no update under 20 concurrent toggles', async () => {
    const task = await createTask(t, alice, { title: 'hammered', completed: true });

    const responses = await Promise.all(Array.from({ length: 20 }, () => toggle(task.id)));

    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(200));
    const versions = responses.map((res) => res.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    // An even number of flips ends where it started.
    const row = await taskRow(t, task.id);
    expect(row).toEqual(expect.objectContaining({ version: 21, completed: true }));
    expect(row!.completed_at).toBeInstanceOf(Date);
    const res = await t.api.get(`/api/v1/tasks/${task.id}`).set(bearer(alice));
    expect(res.headers.etag).toBe('"21"');
  });
});
