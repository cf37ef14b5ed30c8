import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import type { Sort } from '../../src/tasks/task-sort';
import { startTestApp, type TestApp } from './app';
import { bearer, expectProblem, NO_THROTTLING, registerTaskUser, type TaskUser } from './auth';

// What the specs under test/api/tasks/ share: a service with two users, and reads of the tasks table.

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export interface Task {
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

export interface TaskRow {
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  completed_at: Date | null;
  due_date: string | null;
  priority: string;
  version: number;
}

type Property = { type?: string; nullable?: boolean; $ref?: string; items?: Property };
export type Schemas = Record<string, { properties: Record<string, Property> }>;

/** The service on a database of its own, with alice and bob signed in; rate limits off. */
export async function startTaskApp(): Promise<{ t: TestApp; alice: TaskUser; bob: TaskUser }> {
  const t = await startTestApp({ env: NO_THROTTLING });
  try {
    return { t, alice: await registerTaskUser(t.api, 'alice'), bob: await registerTaskUser(t.api, 'bob') };
  } catch (error) {
    // The caller never gets `t` to close: a service left running would keep Jest from exiting.
    await t.close();
    throw error;
  }
}

/** The response DTOs as the OpenAPI document describes them: the one description of a task. */
export async function documentedSchemas(t: TestApp): Promise<Schemas> {
  return ((await t.api.get('/docs-json')).body as { components: { schemas: Schemas } }).components.schemas;
}

export async function createTask(t: TestApp, user: TaskUser, body: Record<string, unknown>): Promise<Task> {
  const res = await t.api.post('/api/v1/tasks').set(bearer(user)).send(body);
  expect(res.status).toBe(201);
  return res.body as Task;
}

export function expectValidationProblem(res: Response, field?: string): void {
  expectProblem(res, 400);
  if (field !== undefined) {
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  }
}

export async function taskRow(t: TestApp, id: string): Promise<TaskRow | undefined> {
  const { rows } = await t.db.pool.query<TaskRow>(
    `SELECT user_id, title, description, completed, completed_at, due_date::text AS due_date, priority, version
     FROM tasks WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export async function taskCount(t: TestApp, userId: string): Promise<number> {
  const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tasks WHERE user_id = $1', [
    userId,
  ]);
  return rows[0].n;
}

/** Today's calendar date in UTC, moved by `days`. */
export function utcDate(days = 0): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** A task as the list fixture writes it straight into the table. */
export interface Seed {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  dueDate: string | null;
  priority: 'low' | 'medium' | 'high';
  createdAt: string;
  updatedAt: string;
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/**
 * Nine tasks for listing and searching, with repeated titles, due dates and priorities. Distinct first
 * letters (or identical titles) keep the title order the same under any collation.
 */
export const SEEDS: Seed[] = [
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

/** Writes SEEDS for `userId`, and a task of `other` that matches every filter and must never show up. */
export async function insertSeeds(t: TestApp, userId: string, other: TaskUser): Promise<void> {
  for (const seed of SEEDS) {
    await t.db.pool.query(
      `INSERT INTO tasks (id, user_id, title, description, completed, completed_at, due_date, priority,
                          created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN $9::timestamptz END, $6, $7, $8, $9)`,
      [
        seed.id,
        userId,
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
  await createTask(t, other, {
    title: 'apples for bob',
    description: 'quarterly',
    dueDate: '2026-03-01',
    priority: 'low',
  });
}

/** The ids of `tasks` in the order `sort` defines, computed here rather than asked of the database. */
export function ordered(tasks: Seed[], sort: Sort): string[] {
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

export const ids = (res: Response): string[] => (res.body.items as Task[]).map((task) => task.id);
