import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The supported Node.js: package.json's engines, the version CI installs (.node-version) and the image's
// base (Dockerfile) must agree, and `npm start` on any other Node stops with one line.
const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
const pinned = read('.node-version').trim();

/** Runs scripts/check-node.js as npm does, on this Node pretending to be `version`. */
function checkAs(version: string) {
  const preload = join(mkdtempSync(join(tmpdir(), 'tasks-api-node-')), 'pretend.js');
  writeFileSync(preload, `Object.defineProperty(process, 'version', { value: ${JSON.stringify(version)} });`);
  return spawnSync(process.execPath, ['-r', preload, 'scripts/check-node.js'], { cwd: ROOT, encoding: 'utf8' });
}

describe('supported Node.js', () => {
  it('runs this suite on the major of the pinned version, an LTS that engines allows', () => {
    expect(process.version.split('.')[0]).toBe(`v${pinned.split('.')[0]}`);
    expect(checkAs(`v${pinned}`).status).toBe(0);
    expect(Number(pinned.split('.')[0]) % 2).toBe(0); // even majors are the LTS lines
  });

  it('builds the image on the same version', () => {
    expect(read('Dockerfile')).toMatch(
      new RegExp(`^ARG NODE_IMAGE=node:${pinned.replace(/\./g, '\\.')}-bookworm-slim$`, 'm'),
    );
  });

  it.each([
    ['v20.20.2', false],
    ['v22.22.0', false],
    ['v24.14.9', false],
    ['v24.15.0', true],
    ['v24.22.3', true],
    ['v25.9.0', false],
    ['v26.0.0', true],
  ])('engines %s: %s', (version, allowed) => {
    expect(checkAs(version).status).toBe(allowed ? 0 : 1);
  });

  it('stops npm start on an unsupported Node with one line naming the versions it needs', () => {
    const result = checkAs('v20.20.2');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `Node.js v20.20.2 is not supported: this project needs Node.js ${engines} (see .node-version).`,
    ]);
  });

  it('lets a supported Node through silently', () => {
    const result = checkAs(`v${pinned}`);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('is checked before npm start, npm test and npm run bench', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    for (const script of ['prestart', 'pretest', 'bench']) {
      expect(scripts[script]).toMatch(/^node scripts\/check-node\.js( &&|$)/);
    }
  });
});
