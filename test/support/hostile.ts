import type { Outcome } from './faults';

// What must never reach a client: driver and ORM errors, SQL, stack frames, file paths.
const INTERNALS =
  /QueryFailedError|TypeORMError|EntityNotFound|PoolSaturatedError|\n\s+at |\bat [\w$.<>]+ \(|node_modules|\/work\/|\/dist\/|\.[jt]s:\d+|SELECT |INSERT INTO|UPDATE "|DELETE FROM|syntax error|violates|duplicate key|relation "|column "|SQLSTATE|password_hash|refresh_token_hash/gi;

/**
 * Everything wrong with one answer to a hostile request: a 5xx (503 only when `databaseDown`), an error
 * that is not problem+json, a missing request id, or internals in an error body that the request itself
 * did not contain (validation messages may echo an unknown field name back).
 */
export function violations(outcome: Outcome, requestText: string, databaseDown = false): string[] {
  const found: string[] = [];
  if (outcome.status === 0) found.push('no answer');
  if (outcome.status >= 500 && !(databaseDown && outcome.status === 503)) found.push(`status ${outcome.status}`);
  if (outcome.status >= 400) {
    if (!outcome.contentType.startsWith('application/problem+json')) found.push(`content-type ${outcome.contentType}`);
    const body = outcome.body as Record<string, unknown> | undefined;
    for (const key of ['type', 'title', 'status', 'detail', 'instance', 'requestId']) {
      if (body === undefined || typeof body !== 'object' || !(key in body)) found.push(`problem without ${key}`);
    }
    if (body && typeof body === 'object' && body.status !== outcome.status) found.push('problem status mismatch');
    const { instance: _instance, ...rest } = (typeof body === 'object' && body) || {};
    const text = JSON.stringify(rest);
    for (const match of text.match(INTERNALS) ?? []) {
      if (!requestText.toLowerCase().includes(match.toLowerCase().trim())) found.push(`leaks "${match.trim()}"`);
    }
  }
  return found;
}

/** Classic SQL-injection payloads, for every string field and query parameter. */
export const SQL_INJECTION = [
  `' OR '1'='1`,
  `' OR 1=1 --`,
  `'; DROP TABLE tasks; --`,
  `"; DROP TABLE users; --`,
  `1; SELECT pg_sleep(5)`,
  `' UNION SELECT id, email, password_hash FROM users --`,
  `admin'--`,
  `') OR ('a'='a`,
  `%27%20OR%201%3D1`,
  `\\'; SELECT 1; --`,
  `$1`,
  `1' AND (SELECT count(*) FROM pg_catalog.pg_tables) > 0 --`,
  `'||(SELECT current_user)||'`,
  `\u0000' OR 1=1`,
  `ʼ OR 1=1 --`,
];

/** Checks of the data's integrity that hold whatever the API was sent. */
export const CONSISTENCY_CHECKS: Record<string, string> = {
  'tasks with a title outside 1-200 characters': `SELECT count(*)::int AS n FROM tasks WHERE char_length(title) NOT BETWEEN 1 AND 200`,
  'tasks with a description over 2000 characters': `SELECT count(*)::int AS n FROM tasks WHERE char_length(description) > 2000`,
  'tasks with an unknown priority': `SELECT count(*)::int AS n FROM tasks WHERE priority NOT IN ('low', 'medium', 'high')`,
  'tasks whose completedAt contradicts completed': `SELECT count(*)::int AS n FROM tasks WHERE completed <> (completed_at IS NOT NULL)`,
  'tasks of users that do not exist': `SELECT count(*)::int AS n FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id)`,
  'sessions of users that do not exist': `SELECT count(*)::int AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)`,
  'users with an upper-case ASCII email': `SELECT count(*)::int AS n FROM users WHERE email ~ '[A-Z]'`,
  'users with a name outside 1-100 characters': `SELECT count(*)::int AS n FROM users WHERE char_length(name) NOT BETWEEN 1 AND 100`,
  'tasks with a version below 1': `SELECT count(*)::int AS n FROM tasks WHERE version < 1`,
};
