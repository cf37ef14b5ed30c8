// What a client author does with the document: TypeScript types from it with openapi-typescript, written
// to .data/openapi-client/schema.ts (not committed), then `tsc --strict` over test/typed-client/, a
// small openapi-fetch client written against those types. test/api/contract/typed-client.e2e-spec.ts runs
// it on the document the service publishes, then drives the client against the service.
//   npm run openapi:client                  from openapi.json, the committed snapshot
//   node scripts/openapi-client.js <file>   from another copy of the document
const { execFileSync } = require('node:child_process');
const { mkdirSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const root = join(__dirname, '..');
const output = join(root, '.data', 'openapi-client');
const input = resolve(process.argv[2] ?? join(root, 'openapi.json'));

function run(args, cwd) {
  try {
    execFileSync(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
    process.exit(1);
  }
}

mkdirSync(output, { recursive: true });
// From the output folder, so openapi-typescript does not apply redocly.yaml (npm run lint:openapi does).
const cli = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
// A `default` is what the server applies when a field is absent; openapi-typescript 7 would otherwise make
// such a field required, request bodies included (openapi-ts/openapi-typescript#1741).
run([cli, input, '--default-non-nullable=false', '--output', join(output, 'schema.ts')], output);
run([require.resolve('typescript/bin/tsc'), '--strict', '-p', join(root, 'test', 'typed-client')], root);
console.log(`${join(output, 'schema.ts')} from ${input}: test/typed-client type-checks`);
