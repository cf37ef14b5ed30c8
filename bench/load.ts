import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_PASSWORD, SEARCH_TERMS, emailOf } from './seed';

/** A signed-in seeded user. */
export interface BenchUser {
  id: string;
  token: string;
}

export interface Fixtures {
  users: BenchUser[];
  /** Tasks of `users`, each with its owner's token. */
  tasks: { id: string; token: string }[];
  /** Seeded accounts are bench-user-1 … bench-user-<accounts>, all with BENCH_PASSWORD. */
  accounts: number;
  /** Page size of the `page` scenario: five pages fit in one user's tasks at the base size. */
  pageLimit: number;
}

export type ScenarioName = 'list' | 'filter' | 'search' | 'page' | 'get' | 'create' | 'update' | 'login';
export const SCENARIOS: ScenarioName[] = ['list', 'filter', 'search', 'page', 'get', 'update', 'create', 'login'];
export const PAGE_DEPTH = 5;
export const CREATED_TITLE = 'Bench created task';
const SETTLE_MS = 500;

export interface Scenario {
  name: ScenarioName;
  kind: 'read' | 'write' | 'login';
  /** What a request is, for the report. */
  describe: string;
  /** The baseline serves it too (it has no login). */
  baseline: boolean;
  requests: () => autocannon.Request[];
}

type Context = { token?: string; cursor?: string | null };

/** Round-robin over a list, shared by every connection of a run. */
function rotation<T>(items: T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length];
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const json = (token?: string) => ({ 'content-type': 'application/json', ...(token ? bearer(token) : {}) });

function listScenario(name: ScenarioName, describe: string, fixtures: Fixtures, query: () => string): Scenario {
  return {
    name,
    kind: 'read',
    describe,
    baseline: true,
    requests: () => {
      const user = rotation(fixtures.users);
      return [
        {
          method: 'GET',
          setupRequest: (request) => ({ ...request, path: `/api/v1/tasks?${query()}`, headers: bearer(user().token) }),
        },
      ];
    },
  };
}

/** Page sizes of `list` and `search` (`filter` always asks for 20). */
export interface Limits {
  list: number;
  search: number;
}

export function scenarios(
  fixtures: Fixtures,
  limits: Limits = { list: 20, search: 20 },
): Record<ScenarioName, Scenario> {
  const terms = rotation(SEARCH_TERMS);
  const { pageLimit } = fixtures;
  return {
    list: listScenario('list', `GET /tasks?limit=${limits.list}, newest first`, fixtures, () => `limit=${limits.list}`),
    filter: listScenario('filter', 'GET /tasks?limit=20&completed=false', fixtures, () => 'limit=20&completed=false'),
    search: listScenario(
      'search',
      `GET /tasks?limit=${limits.search}&q=… (rotating: ${SEARCH_TERMS.join(', ')})`,
      fixtures,
      () => `limit=${limits.search}&q=${encodeURIComponent(terms())}`,
    ),
    page: {
      name: 'page',
      kind: 'read',
      describe: `GET /tasks?limit=${pageLimit}, then follow nextCursor: ${PAGE_DEPTH} pages per user`,
      baseline: true,
      requests: () => {
        const user = rotation(fixtures.users);
        const remember = (_status: number, body: string, context: object) => {
          (context as Context).cursor = (JSON.parse(body) as { nextCursor?: string | null }).nextCursor;
        };
        const first: autocannon.Request = {
          method: 'GET',
          setupRequest: (request, context) => {
            const token = ((context as Context).token = user().token);
            return { ...request, path: `/api/v1/tasks?limit=${pageLimit}`, headers: bearer(token) };
          },
          onResponse: remember,
        };
        const next: autocannon.Request = {
          method: 'GET',
          // No cursor (the last page came early): start again with the next user.
          setupRequest: (request, context) => {
            const { token, cursor } = context as Context;
            if (!token || !cursor) return undefined as unknown as autocannon.Request;
            const path = `/api/v1/tasks?limit=${pageLimit}&cursor=${encodeURIComponent(cursor)}`;
            return { ...request, path, headers: bearer(token) };
          },
          onResponse: remember,
        };
        return [first, ...Array.from({ length: PAGE_DEPTH - 1 }, () => next)];
      },
    },
    get: {
      name: 'get',
      kind: 'read',
      describe: 'GET /tasks/:id',
      baseline: true,
      requests: () => {
        const task = rotation(fixtures.tasks);
        return [
          {
            method: 'GET',
            setupRequest: (request) => {
              const { id, token } = task();
              return { ...request, path: `/api/v1/tasks/${id}`, headers: bearer(token) };
            },
          },
        ];
      },
    },
    update: {
      name: 'update',
      kind: 'write',
      describe: 'PATCH /tasks/:id {completed}, flipping on each pass over the tasks',
      baseline: true,
      requests: () => {
        let count = 0;
        const { tasks } = fixtures;
        return [
          {
            method: 'PATCH',
            setupRequest: (request) => {
              const n = count++;
              const { id, token } = tasks[n % tasks.length];
              const completed = Math.floor(n / tasks.length) % 2 === 0;
              return {
                ...request,
                path: `/api/v1/tasks/${id}`,
                headers: json(token),
                body: JSON.stringify({ completed }),
              };
            },
          },
        ];
      },
    },
    create: {
      name: 'create',
      kind: 'write',
      describe: 'POST /tasks {title, description, priority, dueDate}',
      baseline: true,
      requests: () => {
        const user = rotation(fixtures.users);
        const body = JSON.stringify({
          title: CREATED_TITLE,
          description: 'Created by the benchmark',
          priority: 'high',
          dueDate: '2027-01-15',
        });
        return [
          {
            method: 'POST',
            path: '/api/v1/tasks',
            setupRequest: (request) => ({ ...request, headers: json(user().token), body }),
          },
        ];
      },
    },
    login: {
      name: 'login',
      kind: 'login',
      describe: 'POST /auth/login (argon2id verify, new session)',
      baseline: false,
      requests: () => {
        let n = 0;
        return [
          {
            method: 'POST',
            path: '/api/v1/auth/login',
            setupRequest: (request) => {
              const email = emailOf((n++ % fixtures.accounts) + 1);
              return { ...request, headers: json(), body: JSON.stringify({ email, password: BENCH_PASSWORD }) };
            },
          },
        ];
      },
    },
  };
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** Socket errors, timeouts included. */
  errors: number;
  statusCodes: Record<string, number>;
}

/** One autocannon run, unaggregated, so that several can be merged (see `combine`). */
export type RawRun = Record<string, unknown> & { duration: number };

export async function fireRaw(
  url: string,
  requests: autocannon.Request[],
  options: { connections: number; duration: number },
): Promise<RawRun> {
  const raw = (await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    timeout: 10,
    requests,
    skipAggregateResult: true,
  } as autocannon.Options)) as unknown as RawRun;
  // autocannon closes its sockets at the end without waiting for answers; let the server finish those
  // requests, or the next run's first requests queue behind them (and trip the pool's wait limit).
  await sleep(SETTLE_MS);
  return raw;
}

/** Merges runs against one target: counts add up, latency histograms merge, time is the sum of windows. */
export function combine(url: string, runs: RawRun[], connections: number): LoadResult {
  const aggregate = (autocannon as unknown as { aggregateResult: (r: RawRun[], o: object) => autocannon.Result })
    .aggregateResult;
  const result = aggregate(runs, { url, connections });
  const seconds = runs.reduce((sum, run) => sum + run.duration, 0);
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  const answered = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    requestsPerSecond: answered / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: answered,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
  };
}

export async function fire(
  url: string,
  requests: autocannon.Request[],
  options: { connections: number; duration: number },
): Promise<LoadResult> {
  return combine(url, [await fireRaw(url, requests, options)], options.connections);
}
