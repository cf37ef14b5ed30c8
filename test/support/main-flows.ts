import type TestAgent from 'supertest/lib/agent';
import { API, uniqueEmail } from './auth';

/** A user the flows left behind, with one task, for another release or role to sign in as and read. */
export interface FlowUser {
  email: string;
  password: string;
  taskId: string;
  taskTitle: string;
}

const PASSWORD = 'correct horse battery staple';

/**
 * The main flows every release must keep serving, on whatever schema it finds: register, login, create,
 * list, update, delete, each asserted on status and body. Only the contract of SPEC §3 that every release
 * since the first has served, so that the previous release and the new one can both be driven by it.
 */
export async function driveMainFlows(api: TestAgent, label: string): Promise<FlowUser> {
  const email = uniqueEmail(label);
  const registered = await api.post(`${API}/auth/register`).send({ email, password: PASSWORD, name: label });
  expect({ status: registered.status, email: registered.body.user?.email }).toEqual({ status: 201, email });

  const login = await api.post(`${API}/auth/login`).send({ email, password: PASSWORD });
  expect({ status: login.status, tokenType: login.body.tokenType }).toEqual({ status: 200, tokenType: 'Bearer' });
  const auth = { Authorization: `Bearer ${login.body.accessToken}` };

  const created = await api
    .post(`${API}/tasks`)
    .set(auth)
    .send({ title: `${label}: draft`, priority: 'high', dueDate: '2030-01-02' });
  expect(created.status).toBe(201);
  expect(created.body).toEqual(
    expect.objectContaining({ title: `${label}: draft`, priority: 'high', dueDate: '2030-01-02', completed: false }),
  );
  const kept = await api
    .post(`${API}/tasks`)
    .set(auth)
    .send({ title: `${label}: kept` });
  expect(kept.status).toBe(201);

  const listed = await api.get(`${API}/tasks`).set(auth);
  expect(listed.status).toBe(200);
  expect(listed.body.items.map((task: { id: string }) => task.id).sort()).toEqual(
    [created.body.id, kept.body.id].sort(),
  );

  const updated = await api
    .patch(`${API}/tasks/${created.body.id}`)
    .set(auth)
    .send({ title: `${label}: done`, completed: true });
  expect(updated.status).toBe(200);
  expect(updated.body).toEqual(
    expect.objectContaining({
      id: created.body.id,
      title: `${label}: done`,
      completed: true,
      completedAt: expect.any(String),
    }),
  );

  const deleted = await api.delete(`${API}/tasks/${created.body.id}`).set(auth);
  expect(deleted.status).toBe(204);
  expect((await api.get(`${API}/tasks/${created.body.id}`).set(auth)).status).toBe(404);
  return { email, password: PASSWORD, taskId: kept.body.id, taskTitle: kept.body.title };
}

/** Signs in as a user another release (or role) created and finds its task. */
export async function expectToFind(api: TestAgent, user: FlowUser): Promise<void> {
  const login = await api.post(`${API}/auth/login`).send({ email: user.email, password: user.password });
  expect(login.status).toBe(200);
  const task = await api.get(`${API}/tasks/${user.taskId}`).auth(login.body.accessToken, { type: 'bearer' });
  expect({ status: task.status, title: task.body.title }).toEqual({ status: 200, title: user.taskTitle });
}
