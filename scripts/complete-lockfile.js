// Some registries (mirrors) do not carry every platform build of a package's optional native
// dependencies, e.g. @unrs/resolver-binding-darwin-arm64. npm 11 then writes a package-lock.json without
// those entries and `npm ci` refuses it (npm/cli#9846). This adds the missing entries with the version,
// os, cpu and libc read from the binding's name, so `npm ci` works everywhere; on a matching platform npm
// fetches the binding by name and version as usual.
//   node scripts/complete-lockfile.js          complete package-lock.json in place
//   node scripts/complete-lockfile.js --check  exit 1 if an entry is missing (run by npm run lint)
const { readFileSync, writeFileSync } = require('node:fs');

const file = 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const missing = [];

for (const [path, meta] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    missing.push(name);
    lock.packages[`node_modules/${name}`] = { version, ...platformOf(name), dev: meta.dev, optional: true };
  }
}

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const oses = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'wasm32'];
  const at = parts.findIndex((part) => oses.includes(part));
  if (at < 0) return {};
  const [os, cpu, abi = ''] = parts.slice(at);
  if (os === 'wasm32') return { cpu: ['wasm32'] };
  const libc = /musl/.test(abi) ? ['musl'] : /gnu/.test(abi) ? ['glibc'] : undefined;
  return { cpu: [cpu], os: [os], ...(libc && { libc }) };
}

if (process.argv.includes('--check')) {
  if (missing.length > 0) {
    console.error(
      `${file} lacks ${missing.length} optional entries (${missing.join(', ')}): run node scripts/complete-lockfile.js`,
    );
    process.exit(1);
  }
} else if (missing.length > 0) {
  writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${missing.length} entries to ${file}`);
}
