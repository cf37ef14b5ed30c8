import { STATUS_CODES } from 'node:http';
import type { Response } from 'supertest';
import type { LogLine, TestApp } from './app';

export const PROBLEM_JSON = /^application\/problem\+json(;|$)/;

/** Asserts an RFC 9457 problem+json answer whose requestId is the X-Request-Id header. */
export function expectProblem(res: Response, status: number, path?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  const requestId = res.headers['x-request-id'];
  expect(requestId).toEqual(expect.stringMatching(/\S/));
  expect(res.body).toEqual(
    expect.objectContaining({
      type: 'about:blank',
      title: STATUS_CODES[status],
      status,
      detail: expect.stringMatching(/\S/),
      instance: path ?? expect.any(String),
      requestId,
    }),
  );
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Access-log lines of a request id, waited for, then given a moment for any duplicate to show up. */
export async function accessLines(t: TestApp, id: string): Promise<LogLine[]> {
  const ofRequest = () => t.logs.filter((line) => line.reqId === id);
  await waitFor(() => ofRequest().length > 0, 5_000, `the access log line of ${id}`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  return ofRequest();
}
