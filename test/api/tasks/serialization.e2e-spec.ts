import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../support/app';
import { bearer, type TaskUser } from '../../support/auth';
import { createTask, documentedSchemas, ISO_TIMESTAMP, startTaskApp, type Schemas } from '../../support/tasks';

let t: TestApp;
let alice: TaskUser;
/** The response DTOs as the OpenAPI document describes them: the one description of a task. */
let schemas: Schemas;
/** A task's fields, in the order TaskDto declares them. */
let TASK_FIELDS: string[];

beforeAll(async () => {
  ({ t, alice } = await startTaskApp());
  schemas = await documentedSchemas(t);
  TASK_FIELDS = Object.keys(schemas.TaskDto.properties);
});
afterAll(() => t.close());

describe('response serialization', () => {
  const isNull = (value: unknown) => value === null;

  it('writes exactly the fields the OpenAPI document declares for a task, a page and the stats', async () => {
    const created = await createTask(t, alice, { title: 'documented', description: null });
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
