import { startTestApp, type TestApp } from '../../support/app';

jest.setTimeout(60_000);

type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; required?: string[] };
type Response = { content?: Record<string, { schema: Schema }>; headers?: Record<string, { required?: boolean }> };
type Operation = {
  summary?: string;
  security?: unknown[];
  tags?: string[];
  parameters?: { name: string; in: string; schema: Schema }[];
  responses: Record<string, Response>;
};
type Document = {
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; responses: Record<string, Response> };
};

// What the served document promises about the server (issue #18); every response the e2e suite receives is
// checked against the same document elsewhere.
describe('the OpenAPI document at /docs-json', () => {
  let t: TestApp;
  let doc: Document;
  let operations: [string, string, Operation][];

  beforeAll(async () => {
    t = await startTestApp();
    doc = (await t.api.get('/docs-json')).body as Document;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => [path, method, operation] as [string, string, Operation]),
    );
  });
  afterAll(() => t.close());

  const op = (path: string, method: string) => doc.paths[`/api/v1${path}`][method];
  const body = (path: string, method: string) => {
    const ref = (op(path, method) as unknown as { requestBody: { content: Record<string, { schema: Schema }> } })
      .requestBody.content['application/json'].schema.$ref as string;
    return doc.components.schemas[ref.split('/').pop()!];
  };

  it('has a usable server, declared tags with descriptions, a summary and a security requirement everywhere', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
    const declared = doc.tags.map((tag) => tag.name);
    for (const [path, method, operation] of operations) {
      const where = `${method} ${path}`;
      expect({ where, summary: operation.summary }).toEqual({ where, summary: expect.stringMatching(/\S/) });
      expect({ where, security: operation.security }).toEqual({ where, security: expect.any(Array) });
      for (const tag of operation.tags ?? []) expect(declared).toContain(tag);
    }
    for (const tag of doc.tags) expect(tag.description).toMatch(/\S/);
    expect(op('/auth/login', 'post').security).toEqual([]);
    expect(doc.paths['/health/live'].get.security).toEqual([]);
    expect(op('/tasks', 'get').security).toEqual([{ bearer: [] }]);
  });

  it('documents every error as application/problem+json, with X-Request-Id on every response', () => {
    for (const [path, method, operation] of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const where = `${method} ${path} ${status}`;
        expect({ where, header: response.headers?.['X-Request-Id']?.required }).toEqual({ where, header: true });
        if (status.startsWith('2')) continue;
        expect({ where, types: Object.keys(response.content ?? {}) }).toEqual({
          where,
          types: ['application/problem+json'],
        });
      }
    }
    const invalid = op('/tasks', 'post').responses['400'].content!['application/problem+json'].schema;
    expect(doc.components.schemas[(invalid.$ref as string).split('/').pop()!].properties).toHaveProperty('errors');
  });

  it('lists the statuses each operation can answer, with Retry-After on 429 and 503', () => {
    const statuses = (path: string, method: string) => Object.keys(op(path, method).responses);
    expect(statuses('/tasks', 'post')).toEqual(
      expect.arrayContaining(['201', '400', '401', '409', '413', '415', '422', '500', '503']),
    );
    expect(statuses('/tasks/{id}', 'patch')).toEqual(expect.arrayContaining(['200', '400', '401', '404', '412']));
    expect(statuses('/tasks/stats', 'get')).not.toContain('413');
    expect(statuses('/auth/register', 'post')).not.toContain('401');
    for (const [path, method] of [
      ['/auth/login', 'post'],
      ['/auth/register', 'post'],
      ['/auth/refresh', 'post'],
      ['/users/me/password', 'put'],
    ]) {
      expect(op(path, method).responses['429'].headers!['Retry-After'].required).toBe(true);
    }
    expect(statuses('/auth/logout', 'post')).not.toContain('429');
    for (const [path, method, operation] of operations) {
      if (path.startsWith('/api/'))
        expect([method, path, operation.responses['503'].headers!['Retry-After']]).toEqual([
          method,
          path,
          { description: expect.any(String), required: true, schema: expect.any(Object) },
        ]);
    }
    expect(doc.components.responses.MethodNotAllowed.headers).toHaveProperty('Allow');
  });

  it('documents the response headers of tasks: ETag, Location, Idempotent-Replayed', () => {
    expect(Object.keys(op('/tasks', 'post').responses['201'].headers!)).toEqual(
      expect.arrayContaining(['ETag', 'Location', 'Idempotent-Replayed']),
    );
    for (const [path, method] of [
      ['/tasks/{id}', 'get'],
      ['/tasks/{id}', 'patch'],
      ['/tasks/{id}/toggle', 'post'],
    ]) {
      expect(op(path, method).responses['200'].headers!.ETag.required).toBe(true);
    }
  });

  it('states the parameters exactly: uuid ids, an integer limit, Idempotency-Key and If-Match schemas', () => {
    const parameter = (path: string, method: string, name: string) =>
      op(path, method).parameters!.find((candidate) => candidate.name === name)!.schema;
    for (const [path, method] of [
      ['/tasks/{id}', 'get'],
      ['/tasks/{id}', 'delete'],
      ['/auth/sessions/{id}', 'delete'],
    ]) {
      expect(parameter(path, method, 'id')).toEqual({ type: 'string', format: 'uuid' });
    }
    expect(parameter('/tasks', 'get', 'limit')).toEqual(
      expect.objectContaining({ type: 'integer', minimum: 1, maximum: 100 }),
    );
    expect(parameter('/tasks', 'post', 'Idempotency-Key')).toEqual({ type: 'string', minLength: 1, maxLength: 255 });
    expect(parameter('/tasks/{id}', 'patch', 'If-Match')).toEqual(expect.objectContaining({ type: 'string' }));
  });

  it('states the bodies exactly: no unknown fields, PATCH needs a field and has no create defaults', () => {
    for (const [path, method] of [
      ['/auth/register', 'post'],
      ['/auth/login', 'post'],
      ['/auth/refresh', 'post'],
      ['/tasks', 'post'],
      ['/tasks/{id}', 'patch'],
      ['/users/me', 'patch'],
      ['/users/me/password', 'put'],
    ]) {
      expect([path, body(path, method).additionalProperties]).toEqual([path, false]);
    }
    const create = body('/tasks', 'post');
    expect(create.properties!.priority.default).toBe('medium');
    expect(create.properties!.completed.default).toBe(false);
    for (const path of ['/tasks/{id}', '/users/me']) {
      const update = body(path, 'patch');
      expect(update.minProperties).toBe(1);
      expect(update.required).toBeUndefined();
      for (const property of Object.values(update.properties!)) expect(property).not.toHaveProperty('default');
    }
    expect(JSON.stringify(doc)).not.toContain('@default');
  });
});
