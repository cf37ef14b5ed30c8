// The OpenAPI document as the built service publishes it at /docs-json, made without a database or a
// listener: Nest's preview mode builds the module graph without running any provider's factory (no pool,
// no connection), and @nestjs/swagger only reads the controllers' metadata. It loads dist/ (built first
// when stale) because the @nestjs/swagger CLI plugin (nest-cli.json) writes part of the document at build.
//   npm run openapi:snapshot                     write openapi.json, the committed snapshot
//   node scripts/openapi-snapshot.js --stdout    print the document (test/api/contract/ compares them)
const { execFileSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const dist = (path) => require(join(root, 'dist', path));

async function generate() {
  const { NestFactory } = require('@nestjs/core');
  const { FastifyAdapter } = require('@nestjs/platform-fastify');
  const { AppModule } = dist('app.module');
  const { setApiPrefix } = dist('app.factory');
  const { loadConfig } = dist('config/configuration');
  const { createRootLogger } = dist('http/logger');
  const { buildOpenApiDocument } = dist('http/swagger');
  // The defaults, as a service started without configuration has them; nothing connects to this URL.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://openapi@127.0.0.1:1/openapi',
    JWT_SECRET: 'openapi-snapshot-secret-that-is-long-enough',
  });
  const module = AppModule.forRoot(config, createRootLogger(config.http));
  const app = await NestFactory.create(module, new FastifyAdapter(), { preview: true, logger: false });
  setApiPrefix(app);
  const document = buildOpenApiDocument(app);
  await app.close();
  return document;
}

async function main() {
  if (!process.argv.includes('--no-build')) {
    execFileSync(process.execPath, [join(__dirname, 'build-if-stale.js')], { stdio: ['ignore', 2, 2] });
  }
  const json = JSON.stringify(await generate(), null, 2) + '\n';
  if (process.argv.includes('--stdout')) return void process.stdout.write(json);
  const prettier = require('prettier');
  const file = join(root, 'openapi.json');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  writeFileSync(file, await prettier.format(json, options));
  console.log(`wrote ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
