import type { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Statement } from '../src/database/statement-runner';
import {
  findOneStatement,
  insertStatement,
  listStatement,
  type ListRequest,
  updateStatement,
} from '../src/tasks/task-statements';
import { ACTIVE_SESSION_CHECK } from '../src/sessions/active-session';
import { sortSpec } from '../src/tasks/task-sort';
import { SEARCH_TERMS } from './seed';

const list = (userId: string, request: Partial<ListRequest> & { limit: number }) =>
  listStatement(userId, { filter: {}, sort: sortSpec('-createdAt'), ...request });

export interface Plan {
  name: string;
  sql: string;
  plan: string;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each statement a benchmarked request runs, for one signed-in user and
 * one of their tasks; writes run inside a transaction that is rolled back.
 */
export async function explainHotQueries(
  db: Client,
  user: { id: string; token: string },
  taskId: string,
  pageLimit: number,
): Promise<Plan[]> {
  const sessionId = (JSON.parse(Buffer.from(user.token.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
  const firstPage = list(user.id, { limit: pageLimit });
  const { rows } = await db.query<{ id: string; cursorValue: string }>(firstPage.text, firstPage.values);
  const last = rows[Math.min(pageLimit, rows.length) - 1];
  const statements: [string, Statement, boolean][] = [
    ['session check', { text: ACTIVE_SESSION_CHECK, values: [sessionId, user.id] }, false],
    ['list', list(user.id, { limit: 20 }), false],
    ['filter', list(user.id, { filter: { completed: false }, limit: 20 }), false],
    ['search', list(user.id, { filter: { q: SEARCH_TERMS[0] }, limit: 20 }), false],
    ['page 2', list(user.id, { after: last && { value: last.cursorValue, id: last.id }, limit: pageLimit }), false],
    ['get', findOneStatement(user.id, taskId), false],
    ['update', updateStatement(user.id, taskId, { completed: true }), true],
    ['create', insertStatement(uuidv7(), user.id, { title: 'Explained task', priority: 'high' }), true],
  ];
  const plans: Plan[] = [];
  // The service and the baseline run these statements prepared, and a prepared statement soon settles on a
  // generic plan, made without the values: that is the plan shown (executed with this user's values).
  await db.query('SET plan_cache_mode = force_generic_plan');
  try {
    for (const [name, query, write] of statements) {
      await db.query('BEGIN');
      try {
        await db.query(`PREPARE explained AS ${query.text}`);
        const args = query.values.map((value) => literal(db, value)).join(', ');
        const result = await db.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, BUFFERS) EXECUTE explained(${args})`,
        );
        plans.push({ name, sql: query.text, plan: result.rows.map((row) => row['QUERY PLAN']).join('\n') });
      } finally {
        // Rolls the writes back; a prepared statement outlives its transaction, so it is dropped as well.
        await db.query(write ? 'ROLLBACK' : 'COMMIT');
        await db.query('DEALLOCATE ALL');
      }
    }
  } finally {
    await db.query('RESET plan_cache_mode');
  }
  return plans;
}

function literal(db: Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return db.escapeLiteral(String(value));
}

export function renderPlans(title: string, plans: Plan[]): string {
  return [`### ${title}`, '', ...plans.flatMap((plan) => [`**${plan.name}**`, '', '```', plan.plan, '```', ''])].join(
    '\n',
  );
}
