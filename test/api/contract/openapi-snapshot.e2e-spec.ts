import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../../support/app';

// openapi.json is the contract under review: a change to the document the service publishes is a diff in
// that file, made with `npm run openapi:snapshot`, or this spec fails with the difference.

const ROOT = join(__dirname, '..', '..', '..');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

it('publishes at /docs-json exactly the committed openapi.json (npm run openapi:snapshot rewrites it)', async () => {
  const published: unknown = (await t.api.get('/docs-json').expect(200)).body;
  const committed: unknown = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8'));
  expect(published).toEqual(committed);
});

it('npm run openapi:snapshot makes, without a database, the document the running service publishes', async () => {
  // dist/ is current: global-setup.ts built it.
  const script = join(ROOT, 'scripts', 'openapi-snapshot.js');
  const generated: unknown = JSON.parse(
    execFileSync(process.execPath, [script, '--stdout', '--no-build'], { encoding: 'utf8' }),
  );
  expect(generated).toEqual((await t.api.get('/docs-json')).body);
});
