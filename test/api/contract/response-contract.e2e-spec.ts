import type { OpenAPIObject } from '@nestjs/swagger';
import { startTestApp, type TestApp } from '../../support/app';
import { type ObservedResponse, ResponseContract, useDocument } from '../../support/contract';

// The checker every e2e response goes through (test/support/contract-hook.ts), on crafted documents and
// responses, so that it cannot pass everything unnoticed; and the hook itself, failing a real request.

const problem = { $ref: '#/components/schemas/ProblemDetails' };
const DOCUMENT = {
  openapi: '3.0.0',
  info: { title: 'crafted', version: '1' },
  paths: {
    '/things/{id}': {
      get: {
        operationId: 'getThing',
        responses: {
          '200': {
            description: 'A thing',
            headers: { ETag: { required: true, schema: { type: 'string', pattern: '^"\\d+"$' } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
          '404': { description: 'None', content: { 'application/problem+json': { schema: problem } } },
        },
      },
    },
    '/things/count': {
      get: {
        operationId: 'countThings',
        responses: { '200': { description: 'n', content: { 'application/json': { schema: { type: 'integer' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string', nullable: true } },
        required: ['id', 'name'],
        additionalProperties: false,
      },
      ProblemDetails: {
        type: 'object',
        properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' } },
        required: ['type', 'title', 'status'],
      },
    },
  },
} as unknown as OpenAPIObject;

const ID = '0193d6c2-7d4e-7c1a-9f1e-3c2b1a0f9e8d';
const json = { 'content-type': 'application/json; charset=utf-8' };
const problemJson = { 'content-type': 'application/problem+json; charset=utf-8' };
const aThing = (overrides: Partial<ObservedResponse> = {}): ObservedResponse => ({
  method: 'GET',
  url: `http://127.0.0.1:1/things/${ID}`,
  status: 200,
  headers: { ...json, etag: '"3"', date: 'Sat, 05 Dec 2026 09:00:00 GMT' },
  body: { id: ID, name: null },
  ...overrides,
});
const notFound = { type: 'about:blank', title: 'Not Found', status: 404 };

describe('the response contract checker', () => {
  let contract: ResponseContract;
  beforeAll(async () => {
    contract = ResponseContract.create(DOCUMENT);
  });

  it('accepts responses that match the document, literal paths before templated ones', async () => {
    expect(await contract.check(aThing())).toEqual([]);
    expect(await contract.check(aThing({ method: 'HEAD', body: {} }))).toEqual([]);
    expect(await contract.check(aThing({ status: 404, headers: problemJson, body: notFound }))).toEqual([]);
    expect(
      await contract.check(aThing({ url: 'http://127.0.0.1:1/things/count?x=1', body: 3, headers: json })),
    ).toEqual([]);
  });

  it('names an undocumented status', async () => {
    expect(await contract.check(aThing({ status: 400, headers: problemJson, body: notFound }))).toEqual([
      'status 400 is not documented',
    ]);
  });

  it('lets any operation answer 431 and 500 undocumented, as problem+json only', async () => {
    const failure = { status: 500, headers: problemJson, body: { ...notFound, status: 500 } };
    expect(await contract.check(aThing(failure))).toEqual([]);
    expect(await contract.check(aThing({ ...failure, headers: json }))).toEqual([
      expect.stringContaining('content type application/json; charset=utf-8 is not documented for 500'),
    ]);
  });

  it('names a content type the status does not document', async () => {
    expect(await contract.check(aThing({ status: 404, headers: json, body: notFound }))).toEqual([
      expect.stringContaining('content type application/json; charset=utf-8 is not documented for 404'),
    ]);
  });

  it('names the body field that breaks the schema', async () => {
    const [wrongType] = await contract.check(aThing({ body: { id: ID, name: 7 } }));
    expect(wrongType).toMatch(/^body \(application\/json.*\) do not match the schema for 200: .*name.*string/);
    expect(await contract.check(aThing({ body: { id: ID } }))).toEqual([
      expect.stringMatching(/required.*name|name.*required/),
    ]);
    expect(await contract.check(aThing({ body: { id: ID, name: 'x', extra: 1 } }))).toEqual([
      expect.stringMatching(/extra/),
    ]);
    expect(await contract.check(aThing({ body: { id: 'not-a-uuid', name: 'x' } }))).toEqual([
      expect.stringMatching(/uuid/),
    ]);
  });

  it('checks documented headers and names the undocumented ones', async () => {
    expect(await contract.check(aThing({ headers: { ...json } }))).toEqual([expect.stringMatching(/^headers .*etag/i)]);
    expect(await contract.check(aThing({ headers: { ...json, etag: 'W/"3"' } }))).toEqual([
      expect.stringMatching(/pattern/),
    ]);
    expect(await contract.check(aThing({ headers: { ...json, etag: '"3"', 'x-request-id': 'r1' } }))).toEqual([
      'header(s) sent but not documented for 200: x-request-id',
    ]);
  });

  it('wants problem+json for paths outside the document, and 405 with Allow for an unserved method', async () => {
    const unknown = { url: 'http://127.0.0.1:1/nowhere', status: 404 };
    expect(await contract.check(aThing({ ...unknown, headers: problemJson, body: notFound }))).toEqual([]);
    expect(await contract.check(aThing({ ...unknown, headers: json, body: notFound }))).toEqual([
      expect.stringContaining('content type application/json; charset=utf-8 is not documented'),
    ]);
    expect(await contract.check(aThing({ ...unknown, status: 200, headers: json, body: {} }))).toContain(
      'status 200 on a path outside the document',
    );
    const put = { method: 'PUT', headers: problemJson };
    expect(await contract.check(aThing({ ...put, status: 404, body: notFound }))).toEqual([
      'status 404 for an unserved method, expected 405',
      'Allow is "", expected it to name GET',
    ]);
    const allowed = { ...problemJson, allow: 'GET, HEAD' };
    const served = { ...put, headers: allowed, status: 405, body: { ...notFound, status: 405 } };
    expect(await contract.check(aThing(served))).toEqual([]);
  });
});

describe('the contract hook', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it("fails a supertest request whose response breaks the server's document", async () => {
    const live = (await t.api.get('/docs-json')).body as OpenAPIObject;
    const onlyDown = structuredClone(live);
    const probe = onlyDown.paths['/health/live'].get!;
    probe.responses = { '503': probe.responses['503'] };
    useDocument(new URL(t.url).origin, onlyDown);
    delete process.env.CONTRACT_MISMATCHES; // fail, even in a run that only lists the mismatches

    await expect(t.api.get('/health/live')).rejects.toThrow(
      /HealthController_live \(GET \/health\/live\) answered 200 application\/json[^]*status 200 is not documented/,
    );
  });
});
