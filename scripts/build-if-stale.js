// `npm start` builds first when dist/ is missing or older than any source file, so a fresh clone
// (`npm ci && npm start`) and an edited checkout both serve current code.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const output = 'dist/main.js';
const inputs = ['src', 'migrations', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'];
const stale = !existsSync(output) || Math.max(...inputs.filter(existsSync).map(newest)) > statSync(output).mtimeMs;
if (stale) {
  console.log('Building (dist/ is missing or older than the sources)...');
  execSync('npm run build', { stdio: 'inherit' });
}
