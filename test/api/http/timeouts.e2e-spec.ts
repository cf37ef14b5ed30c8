import { connect, type Socket } from 'node:net';
import { startTestApp, type TestApp } from '../../support/app';
import { registerUser, type Account } from '../../support/auth';
import { waitFor } from '../../support/http';

jest.setTimeout(60_000);

const REQUEST_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 1_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
// Generous against a busy machine, and still far below the unbounded time a slow client held a connection.
const BOUND_MS = 10_000;
const GIVE_UP_MS = 20_000;

interface Exchange {
  /** Everything the server wrote, as text. */
  received: string;
  /** When the server closed the connection, in ms after it was opened; undefined if it never did. */
  closedAfterMs?: number;
}

/**
 * Opens a raw connection, lets `talk` write to it (it may keep writing: the returned function stops it)
 * and collects what comes back until the server closes the connection or GIVE_UP_MS pass.
 */
function exchange(t: TestApp, talk: (socket: Socket) => (() => void) | void): Promise<Exchange> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let received = '';
    let stop: (() => void) | void;
    const giveUp = setTimeout(() => finish(undefined), GIVE_UP_MS);
    const finish = (closedAfterMs: number | undefined) => {
      clearTimeout(giveUp);
      stop?.();
      socket.destroy();
      resolve({ received, closedAfterMs });
    };
    socket.on('connect', () => (stop = talk(socket)));
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('error', () => undefined); // a reset after the answer still counts as closed
    socket.on('close', () => finish(Date.now() - started));
  });
}

/** Writes `text` one byte at a time, every `everyMs`, then keeps trickling spaces (never finishing). */
function trickle(socket: Socket, text: string, everyMs = 100): () => void {
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return;
    socket.write(sent < text.length ? text[sent++] : ' ');
  }, everyMs);
  return () => clearInterval(timer);
}

function expectTimeoutProblem(received: string): void {
  const [head, body] = received.split('\r\n\r\n');
  expect(head).toMatch(/^HTTP\/1\.1 408 /);
  expect(head).toMatch(/\r\ncontent-type: application\/problem\+json/i);
  expect(head).toMatch(/\r\nconnection: close/i);
  expect(JSON.parse(body)).toEqual(
    expect.objectContaining({
      type: 'about:blank',
      title: 'Request Timeout',
      status: 408,
      requestId: expect.any(String),
    }),
  );
}

describe('timeouts against slow clients', () => {
  let t: TestApp;
  let alice: Account;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
        HTTP_CONNECTION_TIMEOUT_MS: '15000',
      },
    });
    alice = await registerUser(t.api, { email: 'alice.timeouts@example.com' });
  });
  afterAll(() => t.close());

  it('answers 408 problem+json and closes the connection when a body trickles in a byte at a time', async () => {
    const body = JSON.stringify({ title: 'sent very slowly', description: 'x'.repeat(500) });
    const { received, closedAfterMs } = await exchange(t, (socket) => {
      socket.write(
        `POST /api/v1/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alice.accessToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      return trickle(socket, body);
    });
    expect(closedAfterMs).toBeLessThan(BOUND_MS);
    expectTimeoutProblem(received);
    const stored = await t.db.pool.query('SELECT count(*)::int AS n FROM tasks');
    expect(stored.rows[0].n).toBe(0);
    // The request stream's reset is the client's doing: not a database outage, no warning.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(t.logs.filter((line) => Number(line.level) >= 40).map((line) => line.raw)).toEqual([]);
  });

  it('answers 408 and closes the connection when the headers trickle in', async () => {
    const { received, closedAfterMs } = await exchange(t, (socket) =>
      trickle(socket, 'GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Slow: '),
    );
    expect(closedAfterMs).toBeLessThan(BOUND_MS);
    expectTimeoutProblem(received);
  });

  it('closes a connection that never sends anything', async () => {
    const { received, closedAfterMs } = await exchange(t, () => undefined);
    expect(closedAfterMs).toBeLessThan(BOUND_MS);
    expectTimeoutProblem(received);
  });

  it('closes an idle keep-alive connection after its last answer', async () => {
    const { received, closedAfterMs } = await exchange(t, (socket) => {
      socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    });
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(closedAfterMs).toBeLessThan(BOUND_MS);
  });

  it('still serves a request whose body arrives in pieces within the bound', async () => {
    const body = JSON.stringify({ title: 'sent in two pieces' });
    const { received } = await exchange(t, (socket) => {
      socket.write(
        `POST /api/v1/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${alice.accessToken}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      socket.write(body.slice(0, 10));
      const timer = setTimeout(() => socket.write(body.slice(10)), REQUEST_TIMEOUT_MS / 4);
      return () => clearTimeout(timer);
    });
    expect(received).toMatch(/^HTTP\/1\.1 201 /);
    const stored = await t.db.pool.query('SELECT title FROM tasks');
    expect(stored.rows).toEqual([{ title: 'sent in two pieces' }]);
    await t.db.pool.query('DELETE FROM tasks');
  });

  it('answers a request whose handling outlasts the request timeout (it bounds receiving, not serving)', async () => {
    const blocker = await t.db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
      const pending = t.api
        .get('/api/v1/tasks')
        .auth(alice.accessToken, { type: 'bearer' })
        .then((res) => res);
      const waiting = `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      await waitFor(async () => (await t.db.pool.query(waiting)).rowCount, 10_000, 'the request to wait on the lock');
      await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS * 1.5));
      await blocker.query('COMMIT');
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [], nextCursor: null });
    } finally {
      blocker.release();
    }
  });
});
