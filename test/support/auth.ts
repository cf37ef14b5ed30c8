import { createHmac, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { TEST_JWT_SECRET, type TestApp } from './app';
import { expectProblem } from './http';

export const API = '/api/v1';

/** Every rate limit off (`0/…`), so a file can register and sign in as often as its tests need. */
export const NO_THROTTLING = {
  THROTTLE_LOGIN_PER_IP: '0/60',
  THROTTLE_LOGIN_PER_EMAIL: '0/60',
  THROTTLE_REGISTER_PER_IP: '0/60',
  THROTTLE_REFRESH_PER_IP: '0/60',
  THROTTLE_PASSWORD_CHANGE_PER_USER: '0/60',
};

export interface UserBody {
  id: string;
  email: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
}

export interface Account extends Session {
  user: UserBody;
  password: string;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomUUID()}@example.com`;
}

export async function registerUser(
  api: TestAgent,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
): Promise<Account> {
  const body = { email: uniqueEmail(), password: 'correct horse battery staple', name: 'Test User', ...overrides };
  const res = await api.post(`${API}/auth/register`).send(body);
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${res.text}`);
  const { user, accessToken, refreshToken } = res.body as Account;
  return { user, accessToken, refreshToken, password: body.password };
}

/** A second session of the same user. */
export async function login(api: TestAgent, email: string, password: string): Promise<Session> {
  const res = await api.post(`${API}/auth/login`).send({ email, password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

export { expectProblem } from './http';

export type Claims = Record<string, unknown> & { sub: string; sid: string; iat: number; exp: number };

export function claimsOf(token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Claims;
}

export function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT made by hand, so a forged token can differ from a genuine one in exactly one respect. */
export function signJwt(
  claims: object,
  { secret = TEST_JWT_SECRET, alg = 'HS256' }: { secret?: string; alg?: 'HS256' | 'HS512' | 'none' } = {},
): string {
  const unsigned = `${base64url({ alg, typ: 'JWT' })}.${base64url(claims)}`;
  if (alg === 'none') return `${unsigned}.`;
  const digest = alg === 'HS256' ? 'sha256' : 'sha512';
  return `${unsigned}.${createHmac(digest, secret).update(unsigned).digest('base64url')}`;
}

export const nowS = (): number => Math.floor(Date.now() / 1000);

/** A 401 that names the Bearer scheme (RFC 6750). */
export function expectUnauthorized(res: Response): void {
  expectProblem(res, 401);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
}

export interface SessionRow {
  id: string;
  refresh_token_hash: Buffer;
  revoked_at: Date | null;
  expires_at: Date;
  last_used_at: Date;
  user_agent: string | null;
  ip: string | null;
}

export async function sessionsOf(pool: Pool, userId: string): Promise<SessionRow[]> {
  const { rows } = await pool.query<SessionRow>(
    'SELECT id, refresh_token_hash, revoked_at, expires_at, last_used_at, user_agent, ip FROM sessions WHERE user_id = $1 ORDER BY created_at, id',
    [userId],
  );
  return rows;
}

/** Resolves when the access-log line of the request with this id has been read (stdout keeps order). */
export function untilLogged(app: TestApp, requestId: string): Promise<void> {
  const stdout = app.process.stdout!;
  return new Promise((resolve) => {
    const check = () => {
      if (!app.logs.some((line) => line.reqId === requestId)) return;
      stdout.off('data', check);
      resolve();
    };
    stdout.on('data', check);
    check();
  });
}

/** A signed-in user as the task tests need it: its id and access token. */
export interface TaskUser {
  id: string;
  token: string;
}

export async function registerTaskUser(api: TestAgent, name: string): Promise<TaskUser> {
  const account = await registerUser(api, { email: uniqueEmail(name), name });
  return { id: account.user.id, token: account.accessToken };
}

export const bearer = (user: TaskUser) => ({ Authorization: `Bearer ${user.token}` });
