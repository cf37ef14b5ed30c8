import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; where: string; selfMs: number; share: number }[];
  /** Self time by npm package (or `node:` internals, the app's own code, GC, idle). */
  packages: { name: string; selfMs: number; share: number }[];
}

/** Self time per function and per package of a `node --cpu-prof` profile. */
export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const functions = new Map<string, { name: string; where: string; us: number }>();
  const packages = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const share = (us: number) => (total ? us / total : 0);
  return {
    totalMs: total / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ name, where, us }) => ({ name, where, selfMs: us / 1000, share: share(us) })),
    packages: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: share(us) })),
  };
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  return dist >= 0 ? path.slice(dist + 1) : path;
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return path.includes('/dist/') ? 'app (dist/)' : path;
}

export function formatProfile(summary: ProfileSummary): string {
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  const lines = [
    `CPU time sampled: ${(summary.totalMs / 1000).toFixed(1)} s`,
    '',
    '| self time by package | ms | share |',
    '|---|---:|---:|',
    ...summary.packages.slice(0, 20).map((p) => `| ${p.name} | ${p.selfMs.toFixed(0)} | ${pct(p.share)} |`),
    '',
    '| top functions by self time | where | ms | share |',
    '|---|---|---:|---:|',
    ...summary.functions.map((f) => `| ${f.name} | ${f.where} | ${f.selfMs.toFixed(0)} | ${pct(f.share)} |`),
  ];
  return lines.join('\n');
}

// `node -r ts-node/register/transpile-only bench/cpu-profile.ts <file.cpuprofile> [top]`
if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile.ts <file.cpuprofile> [top]');
  console.log(formatProfile(summarizeProfile(file, top ? Number(top) : 25)));
}
