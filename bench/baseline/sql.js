// The SQL the app runs for the benchmarked task routes, copied statement for statement: the baseline
// server executes it, and the bench EXPLAINs it. Keep it in step with the app code each part names.

// src/tasks/task-statements.ts: COLUMNS and SEARCH_DOCUMENT.
const COLUMNS = `t.id, t.title, t.description, t.completed, t.completed_at AS "completedAt", t.due_date AS "dueDate",
  t.priority, t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;
const SEARCH_DOCUMENT = `to_tsvector('english'::regconfig, t.title || ' ' || COALESCE(t.description, ''))`;

// src/tasks/task-sort.ts, the default sort (-createdAt): the only one the bench uses.
const SORT = {
  name: '-createdAt',
  expression: 't.created_at',
  cursorValue: `to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  type: 'timestamptz',
};

// src/sessions/active-session.ts and SessionsService.isActive (the writes: create and update).
const activeSession = (sessionId, userId) =>
  `s.id = ${sessionId} AND s.user_id = ${userId} AND s.revoked_at IS NULL AND s.expires_at > now()`;
const SESSION_CHECK = `SELECT 1 FROM sessions s WHERE ${activeSession('$1', '$2')}`;

/** src/tasks/task-statements.ts, withSessionCheck: the reads (list and get) check the session in their own statement. */
function withSessionCheck({ text, values }, userId, sessionId) {
  const all = [...values, sessionId, userId];
  const check = activeSession(`$${all.length - 1}`, `$${all.length}`);
  return {
    text: `SELECT a.active AS "sessionActive", r.*
       FROM (SELECT EXISTS (SELECT 1 FROM sessions s WHERE ${check}) AS active) a
       LEFT JOIN LATERAL (SELECT * FROM (${text}) q WHERE a.active) r ON true`,
    values: all,
  };
}

/** task-statements.ts listStatement, default sort; `after` is a decoded cursor `{value, id}`. */
function listTasks(userId, { completed, q, after, limit }) {
  const values = [userId];
  const param = (value) => `$${values.push(value)}`;
  const where = ['t.user_id = $1'];
  if (completed !== undefined) where.push(`t.completed = ${param(completed)}`);
  if (q) where.push(`${SEARCH_DOCUMENT} @@ websearch_to_tsquery('english'::regconfig, ${param(q)})`);
  if (after) {
    where.push(`(${SORT.expression}, t.id) < (${param(after.value)}::${SORT.type}, ${param(after.id)}::uuid)`);
  }
  const text = `SELECT ${COLUMNS}, ${SORT.cursorValue} AS "cursorValue"
       FROM tasks t WHERE ${where.join(' AND ')}
       ORDER BY ${SORT.expression} DESC, t.id DESC
       LIMIT ${param(limit + 1)}`;
  return { text, values };
}

/** task-statements.ts findOneStatement. */
const getTask = (userId, id) => ({
  text: `SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1 AND t.user_id = $2`,
  values: [id, userId],
});

/** TasksRepository.insert. */
const insertTask = (id, userId, task) => ({
  text: `INSERT INTO tasks AS t (id, user_id, title, description, due_date, priority, completed, completed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $7 THEN now() END)
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

/** TasksRepository.update, without If-Match; undefined when nothing would change. */
function updateTask(userId, id, changes) {
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
    text: `UPDATE tasks AS t SET ${set.join(', ')} WHERE t.id = $1 AND t.user_id = $2 RETURNING ${COLUMNS}`,
    values,
  };
}

module.exports = { SESSION_CHECK, SORT, withSessionCheck, listTasks, getTask, insertTask, updateTask };
