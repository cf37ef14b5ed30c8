import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../../support/app';
import { NO_THROTTLING } from '../../support/auth';
import { PROBLEM_JSON } from '../../support/http';
import { ISO_TIMESTAMP, UUID } from '../../support/tasks';

// A client generated from the document the service publishes (scripts/openapi-client.js: openapi-typescript,
// then tsc --strict over test/typed-client/), driven through the main flows of update.e2e-spec.ts.

const ROOT = join(__dirname, '..', '..', '..');
// Not imported statically: it imports the generated types, which exist only once the first test ran.
const CLIENT = join(ROOT, 'test', 'typed-client', 'tasks-client');
type Flows = { runMainFlows(baseUrl: string): Promise<Record<string, Record<string, unknown>>> };

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: NO_THROTTLING });
});
afterAll(() => t?.close());

it('generates types from /docs-json that the typed client compiles against with tsc --strict', async () => {
  const folder = join(ROOT, '.data', 'openapi-client');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'openapi.json'), (await t.api.get('/docs-json')).text);

  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'openapi-client.js'), join(folder, 'openapi.json')], {
    encoding: 'utf8',
  });

  // On failure Jest prints the whole output: openapi-typescript's or tsc's errors.
  expect(`${run.stdout}${run.stderr}`).toMatch(/test\/typed-client type-checks\n$/);
  expect(run.status).toBe(0);
});

it('registers, creates, lists a page, updates with If-Match and gets typed problems for 412 and 404', async () => {
  const { runMainFlows } = (await import(CLIENT)) as Flows;

  const flows = await runMainFlows(t.url);
  const task = flows.created.task as object;

  expect(flows.user).toEqual(expect.objectContaining({ id: expect.stringMatching(UUID), name: 'Typed' }));
  expect(flows.created).toEqual({
    task: expect.objectContaining({ title: 'typed client', priority: 'high', dueDate: '2026-06-30', version: 1 }),
    etag: '"1"',
  });
  expect(flows.firstPage).toEqual({ items: [task], nextCursor: expect.any(String) });
  expect(flows.updated).toEqual({
    status: 200,
    task: {
      ...task,
      completed: true,
      completedAt: expect.stringMatching(ISO_TIMESTAMP),
      version: 2,
      updatedAt: expect.stringMatching(ISO_TIMESTAMP),
    },
    etag: '"2"',
  });
  expect(flows.stale).toEqual({
    status: 412,
    problem: expect.objectContaining({ status: 412, title: 'Precondition Failed' }),
  });
  expect(flows.missing).toEqual({
    status: 404,
    problem: expect.objectContaining({ status: 404, title: 'Not Found', type: 'about:blank' }),
    contentType: expect.stringMatching(PROBLEM_JSON),
  });
});
