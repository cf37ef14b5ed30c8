// Stops `npm start`, `npm test` and `npm run bench` on a Node.js that package.json's `engines` does not
// allow, with one line, instead of an obscure failure deep in an ES-module-only dependency.
const { engines } = require('../package.json');

const parse = (version) => version.replace(/^v/, '').split('.').map(Number);
const atLeast = (have, want) => {
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
};
// The two forms engines uses: `^X.Y.Z` (same major, at least X.Y.Z) and `>=X.Y.Z`.
const satisfies = (version, range) =>
  range.split('||').some((part) => {
    const [, op, floor] = /^\s*(\^|>=)\s*(\S+)\s*$/.exec(part) ?? [];
    if (!op) throw new Error(`scripts/check-node.js cannot read the engines range "${part.trim()}"`);
    const have = parse(version);
    const want = parse(floor);
    return atLeast(have, want) && (op === '>=' || have[0] === want[0]);
  });

if (!satisfies(process.version, engines.node)) {
  console.error(
    `Node.js ${process.version} is not supported: this project needs Node.js ${engines.node} (see .node-version).`,
  );
  process.exit(1);
}
