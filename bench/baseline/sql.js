// The SQL the app runs for the benchmarked task routes, copied statement for statement: the baseline
// server executes it, and the bench EXPLAINs it. Keep it in step with the app code each part names.
const { createHash } = require('node:crypto');

// src/tasks/task-statements.ts: COLUMNS and SEARCH_DOCUMENT.
const COLUMNS = `t.id, t.title, t.description, t.completed, t.completed_at AS "completedAt", t.due_date AS "dueDate",
  t.priority, t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;
const SEARCH_DOCUMENT = 'tasks_search_document(t.user_id, t.title, t.description)';

// src/tasks/task-sort.ts, the default sort (-createdAt): the only one the bench uses.
const SORT = {
  name: '-createdAt',
  expression: 't.created_at',
  cursorValue: `to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  type: 'timestamptz',
};

// src/sessions/active-session.ts.
const activeSession = (sessionId, userId) =>
  `s.id = ${sessionId} AND s.user_id = ${userId} AND s.revoked_at IS NULL AND s.expires_at > now()`;

const and = (gate) => (gate ? ` AND ${gate}` : '');

/** task-statements.ts withSessionCheck: every task route checks the session in its own statement. */
function withSessionCheck(statement, userId, sessionId) {
  const { text, values } = statement('(SELECT active FROM session)');
  const all = [...values, sessionId, userId];
  const check = activeSession(`$${all.length - 1}`, `$${all.length}`);
  return {
    text: `WITH session AS MATERIALIZED (SELECT EXISTS (SELECT 1 FROM sessions s WHERE ${check}) AS active),
       r AS (${text})
       SELECT session.active AS "sessionActive", r.* FROM session LEFT JOIN r ON true`,
    values: all,
  };
}

/** task-statements.ts listStatement, default sort; `after` is a decoded cursor `{value, id}`. */
function listTasks(userId, { completed, q, after, limit }, gate) {
  const values = [userId];
  const param = (value) => `$${values.push(value)}`;
  const where = ['t.user_id = $1'];
  if (completed !== undefined) where.push(`t.completed = ${param(completed)}`);
  if (q) where.push(`${SEARCH_DOCUMENT} @@ tasks_search_query($1, ${param(q)})`);
  if (after) {
    where.push(`(${SORT.expression}, t.id) < (${param(after.value)}::${SORT.type}, ${param(after.id)}::uuid)`);
  }
  const text = `SELECT ${COLUMNS}, ${SORT.cursorValue} AS "cursorValue"
       FROM tasks t WHERE ${where.join(' AND ')}${and(gate)}
       ORDER BY ${SORT.expression} DESC, t.id DESC
       LIMIT ${param(limit + 1)}`;
  return { text, values };
}

/** task-statements.ts findOneStatement. */
const getTask = (userId, id, gate) => ({
  text: `SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2${and(gate)}`,
  values: [id, userId],
});

/** task-statements.ts insertStatement. */
const insertTask = (id, userId, task, gate) => ({
  text: `INSERT INTO tasks AS t (id, user_id, title, description, due_date, priority, completed, completed_at)
       SELECT $1::uuid, $2::uuid, $3::varchar, $4::text, $5::date, $6::varchar, $7::boolean, CASE WHEN $7 THEN now() END
       ${gate ? `WHERE ${gate}` : ''}
       RETURNING ${COLUMNS}`,
  values: [
    id,
    userId,
    task.title,
    task.description ?? null,
    task.dueDate ?? null,
    task.priority ?? 'medium',
    task.completed ?? false,
  ],
});

/** task-statements.ts updateStatement, without If-Match; undefined when nothing would change. */
function updateTask(userId, id, changes, gate) {
  const values = [id, userId];
  const param = (value) => `$${values.push(value)}`;
  const set = ['version = t.version + 1'];
  if (changes.title !== undefined) set.push(`title = ${param(changes.title)}`);
  if (changes.description !== undefined) set.push(`description = ${param(changes.description)}`);
  if (changes.dueDate !== undefined) set.push(`due_date = ${param(changes.dueDate)}::date`);
  if (changes.priority !== undefined) set.push(`priority = ${param(changes.priority)}`);
  if (changes.completed !== undefined) {
    const completed = param(changes.completed);
    set.push(
      `completed = ${completed}`,
      `completed_at = CASE WHEN ${completed} THEN COALESCE(t.completed_at, now()) END`,
    );
  }
  if (set.length === 1) return undefined;
  return {
    text: `UPDATE tasks AS t SET ${set.join(', ')}
       WHERE t.id = $1 AND t.user_id = $2${and(gate)} RETURNING ${COLUMNS}`,
    values,
  };
}

// src/database/sql.ts: statements run as named prepared statements, named by their text's hash.
const names = new Map();
function prepared(query) {
  let name = names.get(query.text);
  if (name === undefined) {
    name = `tasks_${createHash('sha256').update(query.text).digest('base64url').slice(0, 24)}`;
    names.set(query.text, name);
  }
  return { name, ...query };
}

module.exports = { SORT, withSessionCheck, listTasks, getTask, insertTask, updateTask, prepared };
