import { type ArgumentsHost, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { DatabaseProbe } from '../database/database.probe';
import { PoolSaturatedError } from '../database/guarded-pool';
import { ProblemDetailsFilter } from './problem-details.filter';
import { RateLimitedException } from './rate-limited.exception';
import { ValidationFailedException } from './validation';

/** What the filter wrote to the reply. */
interface Sent {
  status?: number;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

function sqlError(code: string, message = 'duplicate key value violates unique constraint "users_email_lower_key"') {
  const driverError = Object.assign(new DatabaseError(message, 0, 'error'), { code });
  return new QueryFailedError('INSERT INTO users (email) VALUES ($1)', ['ada@example.com'], driverError);
}

describe('ProblemDetailsFilter', () => {
  let filter: ProblemDetailsFilter;
  const probe = { invalidate: jest.fn() };
  let logged: jest.SpyInstance;

  beforeEach(async () => {
    probe.invalidate.mockClear();
    logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      providers: [ProblemDetailsFilter, { provide: DatabaseProbe, useValue: probe }],
    }).compile();
    filter = moduleRef.get(ProblemDetailsFilter);
  });
  afterEach(() => jest.restoreAllMocks());

  /** Runs the filter on `exception` for GET /api/v1/tasks/abc?q=secret and returns what it sent. */
  function answer(exception: unknown, { sent = false, errored }: { sent?: boolean; errored?: Error } = {}): Sent {
    const out: Sent = { headers: {} };
    const reply = {
      sent,
      status(code: number) {
        out.status = code;
        return this;
      },
      headers(values: Record<string, string>) {
        Object.assign(out.headers, values);
        return this;
      },
      send(body: Record<string, unknown>) {
        out.body = body;
        return this;
      },
    } as unknown as FastifyReply;
    const request = {
      id: 'req-1',
      method: 'GET',
      url: '/api/v1/tasks/abc?q=secret',
      routeOptions: { url: '/api/v1/tasks/:id' },
      raw: { errored },
    } as unknown as FastifyRequest;
    const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) };
    filter.catch(exception, host as unknown as ArgumentsHost);
    return out;
  }

  it('answers an HttpException with its status and message as problem+json, the path without the query', () => {
    expect(answer(new NotFoundException('Task abc not found'))).toEqual({
      status: 404,
      headers: { 'content-type': 'application/problem+json', 'x-request-id': 'req-1' },
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'Task abc not found',
        instance: '/api/v1/tasks/abc',
        requestId: 'req-1',
      },
    });
  });

  it('names the Bearer scheme on a 401', () => {
    const sent = answer(new UnauthorizedException('The access token has expired'));
    expect(sent.status).toBe(401);
    expect(sent.headers['www-authenticate']).toBe('Bearer');
    expect(sent.body?.detail).toBe('The access token has expired');
  });

  it('lists every invalid field of a ValidationFailedException in errors[]', () => {
    const errors = [
      { field: 'title', message: 'title must be shorter than or equal to 200 characters' },
      { field: 'priority', message: 'priority must be one of: low, medium, high' },
    ];
    const sent = answer(new ValidationFailedException(errors));
    expect(sent.status).toBe(400);
    expect(sent.body).toEqual(expect.objectContaining({ status: 400, detail: '2 fields are invalid', errors }));
  });

  it('tells a rate-limited client when to come back with Retry-After', () => {
    const sent = answer(new RateLimitedException(42));
    expect(sent.status).toBe(429);
    expect(sent.headers['retry-after']).toBe('42');
    expect(sent.body).toEqual(expect.objectContaining({ title: 'Too Many Requests', status: 429 }));
  });

  it('answers a unique violation (23505) with 409, naming neither the constraint nor the value', () => {
    const sent = answer(sqlError('23505'));
    expect(sent.status).toBe(409);
    expect(sent.body?.detail).toBe('The request conflicts with the current state of the resource');
    expect(JSON.stringify(sent.body)).not.toMatch(/users_email|ada@example|INSERT/);
    expect(probe.invalidate).not.toHaveBeenCalled();
  });

  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a server shutting down (57P01)', sqlError('57P01', 'terminating connection due to administrator command')],
  ])('answers %s with 503 + Retry-After and stops readiness trusting its last check', (_name, error) => {
    const sent = answer(error);
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('2');
    expect(sent.body?.detail).toBe('The database is unavailable; retry shortly');
    expect(probe.invalidate).toHaveBeenCalledTimes(1);
  });

  it('answers a statement timeout (57014) with 503 + Retry-After', () => {
    const sent = answer(sqlError('57014', 'canceling statement due to statement timeout'));
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('2');
    expect(sent.body?.detail).toBe('The database did not answer in time; retry shortly');
  });

  it('answers a saturated pool with 503 + Retry-After, leaving readiness alone (the database is fine)', () => {
    const sent = answer(new PoolSaturatedError(50));
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('1');
    expect(probe.invalidate).not.toHaveBeenCalled();
  });

  it('answers anything else with a bare 500 and logs the internals, tied to the request id', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'rows') at SELECT * FROM tasks");
    const sent = answer(error);
    expect(sent.status).toBe(500);
    expect(Object.keys(sent.body!).sort()).toEqual(['detail', 'instance', 'requestId', 'status', 'title', 'type']);
    expect(sent.body?.detail).toBe('An unexpected error occurred; quote the requestId when reporting it');
    expect(JSON.stringify(sent)).not.toMatch(/TypeError|SELECT|rows|at /);
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({
        requestId: 'req-1',
        route: '/api/v1/tasks/:id',
        path: '/api/v1/tasks/abc',
        err: expect.objectContaining({ type: 'TypeError', message: error.message }),
      }),
      'unhandled error',
    );
    expect(JSON.stringify(logged.mock.calls)).not.toContain('q=secret');
  });

  it('answers 400, not 500, when the client hung up while sending its body', () => {
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const sent = answer(aborted, { errored: aborted });
    expect(sent.status).toBe(400);
    expect(probe.invalidate).not.toHaveBeenCalled();
  });

  it('sends nothing when a response has already gone out', () => {
    expect(answer(new NotFoundException(), { sent: true })).toEqual({ headers: {} });
  });
});
