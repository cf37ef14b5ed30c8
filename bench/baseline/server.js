// The bench's bare baseline: node:http and one pg Pool, no framework, one process. It answers the task
// routes the bench drives with exactly the SQL the app runs (the session check included, as its own statement), so that
// app/baseline shows what the framework layers cost. The SQL comes from the app's build itself
// (dist/tasks/task-statements.js, task-sort.js and task-cursor.js: no Nest, no TypeORM), so the two can
// never drift apart; `npm run bench` builds first. It is not a second implementation of the API:
// only the parameters the bench sends are handled, and validation is the minimum that keeps SQL sane.
//
// Environment: DATABASE_URL, JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE, DB_POOL_MAX, DB_STATEMENT_TIMEOUT_MS,
// DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, DB_PREPARED_STATEMENTS, HOST, PORT (the bench passes the values the app runs with).
const { Buffer } = require('node:buffer');
const { createHash, createHmac, randomUUID, timingSafeEqual } = require('node:crypto');
const { createServer } = require('node:http');
const { URL } = require('node:url');
const pg = require('pg');
const { v7: uuidv7 } = require('uuid');
const {
  findOneStatement,
  insertStatement,
  listStatement,
  updateStatement,
} = require('../../dist/tasks/task-statements');
const { ACTIVE_SESSION_CHECK } = require('../../dist/sessions/active-session');
const { sortSpec } = require('../../dist/tasks/task-sort');
const { TaskCursorCodec } = require('../../dist/tasks/task-cursor');

// The one sort the bench uses: the default.
const SORT_NAME = '-createdAt';
const SORT = sortSpec(SORT_NAME);
const CHANGEABLE = ['title', 'description', 'dueDate', 'priority', 'completed'];

const env = process.env;
const SECRET = env.JWT_SECRET;
const ISSUER = env.JWT_ISSUER || 'tasks-api';
const AUDIENCE = env.JWT_AUDIENCE || 'tasks-api';
const PREPARED = env.DB_PREPARED_STATEMENTS !== 'false';

// As src/database/data-source.options.ts: dates stay "YYYY-MM-DD", same pool size and timeouts.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.DATE, (value) => value);
const pool = new pg.Pool({
  connectionString: env.DATABASE_URL,
  max: Number(env.DB_POOL_MAX || 10),
  idleTimeoutMillis: Number(env.DB_IDLE_TIMEOUT_MS || 10_000),
  statement_timeout: Number(env.DB_STATEMENT_TIMEOUT_MS || 10_000),
  idle_in_transaction_session_timeout: Number(env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS || 10_000),
  application_name: 'tasks-api-baseline',
  types,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TASK_PATH = /^\/api\/v1\/tasks\/([^/]+)$/;

class HttpError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// HS256 only, our issuer and audience, unexpired: what JwtAuthGuard accepts (verifyOptions in src/auth/auth.module.ts).
function verifyJwt(header) {
  const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token) throw new HttpError(401, 'A bearer access token is required');
  const parts = token.split('.');
  if (parts.length !== 3) throw new HttpError(401, 'The access token is invalid');
  const [head, body, signature] = parts;
  const expected = createHmac('sha256', SECRET).update(`${head}.${body}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HttpError(401, 'The access token is invalid');
  }
  let alg, claims;
  try {
    alg = JSON.parse(Buffer.from(head, 'base64url').toString()).alg;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  } catch {
    throw new HttpError(401, 'The access token is invalid');
  }
  if (alg !== 'HS256' || claims.iss !== ISSUER || claims.aud !== AUDIENCE) {
    throw new HttpError(401, 'The access token is invalid');
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
    throw new HttpError(401, 'The access token has expired');
  }
  if (!UUID.test(claims.sub) || !UUID.test(claims.sid)) throw new HttpError(401, 'The access token is malformed');
  return { id: claims.sub, sessionId: claims.sid };
}

const SESSION_ENDED = 'The session has ended; sign in again';

/** The session check of JwtAuthGuard, then the route's statement: two round trips, as the app makes. */
async function inSession(user, statement) {
  const check = { text: ACTIVE_SESSION_CHECK, values: [user.sessionId, user.id] };
  if ((await pool.query(PREPARED ? prepared(check) : check)).rowCount === 0) throw new HttpError(401, SESSION_ENDED);
  return (await pool.query(PREPARED ? prepared(statement) : statement)).rows;
}

// src/database/statement-runner.ts: named prepared statements, named by their text's hash.
const names = new Map();
function prepared(query) {
  let name = names.get(query.text);
  if (name === undefined) {
    name = `tasks_${createHash('sha256').update(query.text).digest('base64url').slice(0, 24)}`;
    names.set(query.text, name);
  }
  return { name, ...query };
}

// The app's own cursor codec (AES-256-GCM keyed from the JWT secret), like the statements above.
const cursors = new TaskCursorCodec(SECRET);

// TasksService.list, for the default sort.
async function listTasks(user, query) {
  const limit = query.has('limit') ? Number(query.get('limit')) : 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'limit must be 1–100');
  const completed = query.get('completed');
  if (completed !== null && completed !== 'true' && completed !== 'false') {
    throw new HttpError(400, 'completed must be true or false');
  }
  const q = query.get('q');
  if (q !== null && q.length > 200) throw new HttpError(400, 'q must be at most 200 characters');
  const cursor = query.get('cursor');
  const after = cursor === null ? undefined : cursors.decode(cursor);
  if (cursor !== null && (!after || after.sort !== SORT_NAME)) {
    throw new HttpError(400, 'cursor is not one this API issued');
  }
  const rows = await inSession(
    user,
    listStatement(user.id, {
      filter: {
        completed: completed === null ? undefined : completed === 'true',
        q: q !== null && q.trim() !== '' ? q : undefined,
      },
      sort: SORT,
      after,
      limit,
    }),
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(withoutCursorValue),
    nextCursor:
      rows.length > limit && last ? cursors.encode({ sort: SORT_NAME, value: last.cursorValue, id: last.id }) : null,
  };
}

function withoutCursorValue(row) {
  const task = { ...row };
  delete task.cursorValue;
  return task;
}

async function findTask(user, id) {
  const rows = await inSession(user, findOneStatement(user.id, id));
  if (!rows[0]) throw new HttpError(404, `Task ${id} not found`);
  return rows[0];
}

async function createTask(user, body) {
  const title = typeof body.title === 'string' ? body.title.trim() : '';
  if (title.length < 1 || title.length > 200) throw new HttpError(400, 'title must be 1–200 characters');
  const rows = await inSession(user, insertStatement(uuidv7(), user.id, { ...body, title }));
  return rows[0];
}

async function updateTask(user, id, changes) {
  if (!CHANGEABLE.some((field) => changes[field] !== undefined)) {
    throw new HttpError(400, 'The body must contain at least one field to change');
  }
  const rows = await inSession(user, updateStatement(user.id, id, changes));
  if (!rows[0]) throw new HttpError(404, `Task ${id} not found`);
  return rows[0];
}

function readJson(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > 64 * 1024) reject(new HttpError(413, 'The request body exceeds 65536 bytes'));
      else chunks.push(chunk);
    });
    request.on('end', () => {
      try {
        const value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
        resolve(value);
      } catch {
        reject(new HttpError(400, 'The request body is not valid JSON'));
      }
    });
    request.on('error', reject);
  });
}

function taskId(match) {
  if (!UUID.test(match[1])) throw new HttpError(400, 'The task id must be a UUID');
  return match[1];
}

async function route(request, response) {
  const url = new URL(request.url, 'http://localhost');
  const { pathname } = url;
  const method = request.method;
  if (pathname === '/health' && method === 'GET') {
    await pool.query('SELECT 1');
    return send(response, 200, { status: 'ok' });
  }
  if (pathname === '/api/v1/tasks') {
    if (method === 'GET') {
      return send(response, 200, await listTasks(verifyJwt(request.headers.authorization), url.searchParams));
    }
    if (method === 'POST') {
      const user = verifyJwt(request.headers.authorization);
      const task = await createTask(user, await readJson(request));
      return send(response, 201, task, { etag: `"${task.version}"`, location: `/api/v1/tasks/${task.id}` });
    }
  }
  const match = TASK_PATH.exec(pathname);
  if (match && method === 'GET') {
    const user = verifyJwt(request.headers.authorization);
    const task = await findTask(user, taskId(match));
    return send(response, 200, task, { etag: `"${task.version}"` });
  }
  if (match && method === 'PATCH') {
    const user = verifyJwt(request.headers.authorization);
    const id = taskId(match);
    const task = await updateTask(user, id, await readJson(request));
    return send(response, 200, task, { etag: `"${task.version}"` });
  }
  throw new HttpError(404, `Cannot ${method} ${pathname}`);
}

function send(response, status, body, headers = {}) {
  const json = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  response.end(json);
}

const server = createServer((request, response) => {
  response.setHeader('x-request-id', randomUUID());
  route(request, response).catch((error) => {
    const status = error instanceof HttpError ? error.status : 500;
    if (status === 500) console.error(error);
    const body = { type: 'about:blank', status, detail: status === 500 ? 'Internal error' : error.message };
    const json = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(json),
    });
    response.end(json);
  });
});
server.keepAliveTimeout = 72_000;

server.listen(Number(env.PORT || 3001), env.HOST || '127.0.0.1', () => {
  console.log(`baseline listening on ${env.HOST || '127.0.0.1'}:${server.address().port}`);
});

process.on('SIGTERM', () => {
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeAllConnections();
});
