import { randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { components, paths } from '../../.data/openapi-client/schema';

// A client written as its authors would write it: openapi-fetch over the types openapi-typescript makes from
// the published document (scripts/openapi-client.js writes them to .data/openapi-client/, then runs
// `tsc --strict` on this folder). test/api/contract/typed-client.e2e-spec.ts drives these flows against the
// service, so a document change that breaks generated clients breaks CI.

export type Task = components['schemas']['TaskDto'];
export type TaskPage = components['schemas']['TaskPageDto'];
export type Problem = components['schemas']['ProblemDetailsDto'];

export interface MainFlows {
  user: components['schemas']['UserDto'];
  created: { task: Task; etag: string | null };
  firstPage: TaskPage;
  updated: { status: number; task: Task | undefined; etag: string | null };
  stale: { status: number; problem: Problem | undefined };
  missing: { status: number; problem: Problem | undefined; contentType: string | null };
}

/** Register, create, list a page, update with If-Match, a stale If-Match (412) and an unknown task (404). */
export async function runMainFlows(baseUrl: string): Promise<MainFlows> {
  const anonymous = createClient<paths>({ baseUrl });
  const registered = await anonymous.POST('/api/v1/auth/register', {
    body: { email: `typed-${randomUUID()}@example.com`, password: 'correct horse battery staple', name: 'Typed' },
  });
  if (!registered.data) throw new Error(`register answered ${registered.response.status}`);
  const { user, accessToken } = registered.data;
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${accessToken}` } });

  const posted = await api.POST('/api/v1/tasks', {
    params: { header: { 'Idempotency-Key': randomUUID() } },
    body: { title: 'typed client', priority: 'high', dueDate: '2026-06-30' },
  });
  if (!posted.data) throw new Error(`create answered ${posted.response.status}`);
  await api.POST('/api/v1/tasks', { body: { title: 'second', priority: 'low' } });
  const created = { task: posted.data, etag: posted.response.headers.get('ETag') };

  const listed = await api.GET('/api/v1/tasks', { params: { query: { sort: 'createdAt', limit: 1 } } });
  if (!listed.data) throw new Error(`list answered ${listed.response.status}`);

  const id = created.task.id;
  const ifMatch = created.etag ?? '"1"';
  const patched = await api.PATCH('/api/v1/tasks/{id}', {
    params: { path: { id }, header: { 'If-Match': ifMatch } },
    body: { completed: true },
  });
  const updated = { status: patched.response.status, task: patched.data, etag: patched.response.headers.get('ETag') };

  const again = await api.PATCH('/api/v1/tasks/{id}', {
    params: { path: { id }, header: { 'If-Match': ifMatch } },
    body: { title: 'lost update' },
  });
  const stale = { status: again.response.status, problem: problemOf(again.error) };

  const unknown = await api.GET('/api/v1/tasks/{id}', { params: { path: { id: randomUUID() } } });
  const missing = {
    status: unknown.response.status,
    problem: problemOf(unknown.error),
    contentType: unknown.response.headers.get('Content-Type'),
  };
  return { user, created, firstPage: listed.data, updated, stale, missing };
}

// The error side is typed from the document: every error response is a problem (RFC 9457).
function problemOf(error: Problem | undefined): Problem | undefined {
  return error;
}
