import type { LoadResult, Scenario, ScenarioName } from './load';

export interface AppResult extends LoadResult {
  peakRss: number;
}

/** CPU microseconds per answered request; undefined where it could not be read (not Linux, remote database). */
export interface CpuPerRequest {
  process?: number;
  database?: number;
}

export interface ScenarioRun {
  scenario: Scenario;
  app: AppResult;
  baseline?: LoadResult;
  appCpu?: CpuPerRequest;
  baselineCpu?: CpuPerRequest;
}

export interface Interference {
  connections: number;
  loginConnections: number;
  idle: LoadResult;
  underLogin: LoadResult;
  login: LoadResult;
}

export interface Soak {
  seconds: number;
  result: AppResult;
  startRss: number;
  endRss: number;
  heapStart?: number;
  heapEnd?: number;
}

export interface Scaling {
  baseTasks: number;
  scaledTasks: number;
  seedSeconds: number;
  rows: { name: ScenarioName; base: ScenarioRun; scaled: ScenarioRun }[];
}

export interface Report {
  title: string;
  setup: string[];
  runs: ScenarioRun[];
  interference?: Interference;
  soak?: Soak;
  scaling?: Scaling;
  peakRss: number;
  /** EXPLAIN (ANALYZE, BUFFERS) sections, already rendered. */
  plans?: string[];
}

// Targets of issue #7, as ratios within one run.
export const TARGETS = {
  ratio: 0.6,
  readP99Ms: 25,
  scalingP50: 1.2,
  rssMb: 200,
  soakGrowth: 0.05,
  interference: 3,
};

const MB = 1024 * 1024;
const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`;
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const rps = (value: number) => value.toFixed(0);
const ratio = (value: number) => value.toFixed(2);
const errors = (result?: LoadResult) => (result ? `${result.non2xx} / ${result.errors}` : '—');
const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

export function appBaselineRatio(run: ScenarioRun): number | undefined {
  return run.baseline && run.baseline.requestsPerSecond > 0
    ? run.app.requestsPerSecond / run.baseline.requestsPerSecond
    : undefined;
}

function scenarioTable(runs: ScenarioRun[]): string[] {
  return [
    '| scenario | app req/s | baseline req/s | app/baseline | app p50 ms | app p99 ms | baseline p50 ms | baseline p99 ms | errors app (non-2xx / socket) | errors baseline | app peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map((run) => {
      const { app, baseline } = run;
      const r = appBaselineRatio(run);
      return [
        run.scenario.name,
        rps(app.requestsPerSecond),
        baseline ? rps(baseline.requestsPerSecond) : '—',
        r === undefined ? '—' : ratio(r),
        ms(app.p50),
        ms(app.p99),
        baseline ? ms(baseline.p50) : '—',
        baseline ? ms(baseline.p99) : '—',
        errors(app),
        errors(baseline),
        mb(app.peakRss),
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |');
    }),
  ];
}

const micros = (value?: number) => (value === undefined ? '—' : value.toFixed(0));

function cpuTable(runs: ScenarioRun[]): string[] {
  const rows = runs.filter((run) => run.appCpu?.process !== undefined);
  if (rows.length === 0) return [];
  const total = (cpu?: CpuPerRequest) =>
    cpu?.process === undefined || cpu.database === undefined ? undefined : cpu.process + cpu.database;
  return [
    '## CPU per request',
    '',
    'CPU time per answered request in µs, read from /proc over the measured windows of each target: the server ' +
      'process itself, and the PostgreSQL server (all its processes) while that target was being driven. Unlike ' +
      "req/s these hardly move with the machine's load; the last column is the req/s ratio a CPU-bound machine " +
      'would show (baseline µs / app µs, database included).',
    '',
    '| scenario | app µs | baseline µs | database µs for app | database µs for baseline | baseline total / app total |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(({ scenario, appCpu, baselineCpu }) => {
      const app = total(appCpu);
      const base = total(baselineCpu);
      const cpuRatio = app !== undefined && base !== undefined && app > 0 ? ratio(base / app) : '—';
      return `| ${scenario.name} | ${micros(appCpu?.process)} | ${micros(baselineCpu?.process)} | ${micros(appCpu?.database)} | ${micros(baselineCpu?.database)} | ${cpuRatio} |`;
    }),
    '',
  ];
}

function targetLines(report: Report): string[] {
  const lines: string[] = [];
  const ratios = report.runs.filter((run) => run.scenario.kind !== 'login' && run.baseline);
  if (ratios.length > 0) {
    const worst = Math.min(...ratios.map((run) => appBaselineRatio(run) ?? 0));
    lines.push(
      `- ${mark(worst >= TARGETS.ratio)} app/baseline req/s ≥ ${TARGETS.ratio} for every read and write scenario: ` +
        ratios.map((run) => `${run.scenario.name} ${ratio(appBaselineRatio(run) ?? 0)}`).join(', '),
    );
  }
  const reads = report.runs.filter((run) => run.scenario.kind === 'read');
  if (reads.length > 0) {
    const worst = Math.max(...reads.map((run) => run.app.p99));
    lines.push(
      `- ${mark(worst <= TARGETS.readP99Ms)} read p99 ≤ ${TARGETS.readP99Ms} ms at this concurrency: ` +
        reads.map((run) => `${run.scenario.name} ${ms(run.app.p99)}`).join(', '),
    );
  }
  if (report.scaling) {
    const growth = report.scaling.rows.map((row) => row.scaled.app.p50 / row.base.app.p50);
    lines.push(
      `- ${mark(Math.max(...growth) <= TARGETS.scalingP50)} p50 at ${report.scaling.scaledTasks.toLocaleString('en')} ≤ ${TARGETS.scalingP50}× at ${report.scaling.baseTasks.toLocaleString('en')} tasks: ` +
        report.scaling.rows.map((row, i) => `${row.name} ${ratio(growth[i])}×`).join(', '),
    );
  }
  lines.push(
    `- ${mark(report.peakRss <= TARGETS.rssMb * MB)} app peak RSS under load ≤ ${TARGETS.rssMb} MB: ${mb(report.peakRss)}`,
  );
  if (report.soak) {
    const growth = report.soak.endRss / report.soak.startRss - 1;
    lines.push(
      `- ${mark(growth <= TARGETS.soakGrowth)} no RSS growth across the ${report.soak.seconds} s soak (≤ ${TARGETS.soakGrowth * 100}%): ` +
        `${mb(report.soak.startRss)} → ${mb(report.soak.endRss)} (${(growth * 100).toFixed(1)}%)`,
    );
  }
  if (report.interference) {
    const { idle, underLogin } = report.interference;
    const factor = underLogin.p99 / idle.p99;
    lines.push(
      `- ${mark(factor <= TARGETS.interference)} get p99 while login runs ≤ ${TARGETS.interference}× idle: ` +
        `${ms(idle.p99)} → ${ms(underLogin.p99)} ms (${ratio(factor)}×)`,
    );
  }
  return lines;
}

export function renderReport(report: Report): string {
  const out = [`# ${report.title}`, '', ...report.setup.map((line) => `- ${line}`), ''];
  out.push('## Scenarios', '', ...scenarioTable(report.runs), '');
  out.push(...report.runs.map((run) => `- **${run.scenario.name}**: ${run.scenario.describe}`), '');
  out.push(...cpuTable(report.runs));

  if (report.interference) {
    const { idle, underLogin, login, connections, loginConnections } = report.interference;
    out.push(
      '## Login interference',
      '',
      `get at ${connections} connections, alone and then while login runs at ${loginConnections} concurrent ` +
        `connections: p99 ${ms(idle.p99)} → ${ms(underLogin.p99)} ms (${ratio(underLogin.p99 / idle.p99)}×), ` +
        `p50 ${ms(idle.p50)} → ${ms(underLogin.p50)} ms, ${rps(idle.requestsPerSecond)} → ${rps(underLogin.requestsPerSecond)} req/s; ` +
        `login meanwhile ${rps(login.requestsPerSecond)} req/s, p50 ${ms(login.p50)} ms, p99 ${ms(login.p99)} ms, ` +
        `errors ${errors(login)}.`,
      '',
    );
  }
  if (report.soak) {
    const { seconds, result, startRss, endRss, heapStart, heapEnd } = report.soak;
    const heap =
      heapStart !== undefined && heapEnd !== undefined ? `; V8 heap used ${mb(heapStart)} → ${mb(heapEnd)}` : '';
    out.push(
      '## Soak',
      '',
      `${seconds} s of list and get alternating: RSS ${mb(startRss)} (median of the first 10 s) → ${mb(endRss)} ` +
        `(median of the last 10 s), peak ${mb(result.peakRss)}${heap}; ${rps(result.requestsPerSecond)} req/s, ` +
        `p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms, errors ${errors(result)}.`,
      '',
    );
  }
  if (report.scaling) {
    const { baseTasks, scaledTasks, seedSeconds, rows } = report.scaling;
    const n = (value: number) => value.toLocaleString('en');
    out.push(
      '## Scaling',
      '',
      `The same requests at ${n(baseTasks)} and at ${n(scaledTasks)} tasks, side by side: a copy of the seeded database grown by ${n(scaledTasks - baseTasks)} tasks ` +
        `(in ${seedSeconds.toFixed(0)} s, then VACUUM ANALYZE), each size with its own app and baseline, the four alternating in rounds. ` +
        'Page sizes are ones that both data sets fill, so that each answer holds as many tasks at both sizes.',
      '',
      `| scenario | request | app p50 ms at ${n(baseTasks)} | app p50 ms at ${n(scaledTasks)} | app p50 growth | app req/s | baseline p50 growth | app/baseline at ${n(scaledTasks)} | CPU µs per request, app + database | baseline + database |`,
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(({ name, base, scaled }) => {
        const baselineGrowth =
          base.baseline && scaled.baseline ? `${ratio(scaled.baseline.p50 / base.baseline.p50)}×` : '—';
        const r = appBaselineRatio(scaled);
        const cpu = (before?: CpuPerRequest, after?: CpuPerRequest) =>
          before?.process === undefined || after?.process === undefined
            ? '—'
            : `${micros(before.process)} + ${micros(before.database)} → ${micros(after.process)} + ${micros(after.database)}`;
        return `| ${name} | ${scaled.scenario.describe} | ${ms(base.app.p50)} | ${ms(scaled.app.p50)} | ${ratio(scaled.app.p50 / base.app.p50)}× | ${rps(base.app.requestsPerSecond)} → ${rps(scaled.app.requestsPerSecond)} | ${baselineGrowth} | ${r === undefined ? '—' : ratio(r)} | ${cpu(base.appCpu, scaled.appCpu)} | ${cpu(base.baselineCpu, scaled.baselineCpu)} |`;
      }),
      '',
    );
  }
  out.push('## Targets (issue #7)', '', ...targetLines(report), '');
  if (report.plans?.length) out.push('## Query plans (EXPLAIN ANALYZE, BUFFERS)', '', ...report.plans);
  return out.join('\n');
}
