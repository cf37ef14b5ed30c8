// `npm run bench [-- options]`: seeds a real PostgreSQL, starts the production build and the bare
// baseline, and drives both with autocannon. See bench/results/README.md for how to read the output.
import { hash, Algorithm } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../src/config/configuration';
import { EnvironmentVariables } from '../src/config/env.validation';
import { runMigrations } from '../src/database/run-migrations';
import { CpuMeter, processCpuSeconds, processTreeCpuSeconds } from './cpu';
import { formatProfile, summarizeProfile } from './cpu-profile';
import { explainHotQueries, renderPlans } from './explain';
import {
  CREATED_TITLE,
  combine,
  fire,
  fireRaw,
  type Fixtures,
  type Limits,
  type LoadResult,
  type RawRun,
  SCENARIOS,
  type Scenario,
  type ScenarioName,
  scenarios,
} from './load';
import { ROOT, RssSampler, type Server, startDatabase, startServer } from './processes';
import {
  type AppResult,
  type CpuPerRequest,
  type Report,
  renderReport,
  type ScenarioRun,
  type Scaling,
  type Soak,
} from './report';
import { BENCH_PASSWORD, emailOf, seedTasks, seedUsers } from './seed';

const HELP = `npm run bench -- [options]
  --users N             seeded accounts (default 10000)
  --tasks-per-user N    tasks per account (default 10: 100k tasks; 100 for 1M)
  --duration S          measured seconds per scenario and target (default 10)
  --warmup S            unmeasured seconds before each (default 3)
  --connections N       concurrent connections (default 50)
  --scenarios a,b       any of ${SCENARIOS.join(',')} (default: all)
  --token-users N       users signed in for the scenarios (default 300)
  --rounds N            app/baseline alternations per scenario, sharing --duration (default 2)
  --skip-scaling        skip the scaling check (list/page/search on a copy grown to --scale-to tasks per
                        user, alternating with the seeded size)
  --scale-to N          tasks per user for the scaling check (default 100)
  --soak S              seconds of the RSS soak, 0 to skip (default 60)
  --no-baseline         drive the app only
  --profile             run the app under --cpu-prof and summarise the profile
  --app-node-options=S  extra node flags for the app, e.g. --app-node-options=--max-semi-space-size=8
BENCH_DATABASE_URL=postgres://… uses that server (databases tasks_bench and tasks_bench_scaled, re-created)
instead of an embedded one; the app runs with NODE_ENV=production, so add sslmode=disable for a server without TLS.
App variables set in the environment (DB_POOL_MAX, LOG_LEVEL, …) are passed on to the app and the baseline.`;

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    'tasks-per-user': { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    'token-users': { type: 'string', default: '300' },
    rounds: { type: 'string', default: '2' },
    'skip-scaling': { type: 'boolean', default: false },
    'scale-to': { type: 'string', default: '100' },
    soak: { type: 'string', default: '60' },
    'no-baseline': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'app-node-options': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
});

function positive(name: keyof typeof flags, min = 1): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return value;
}

const options = {
  users: positive('users'),
  tasksPerUser: positive('tasks-per-user'),
  duration: positive('duration'),
  warmup: positive('warmup', 0),
  connections: positive('connections'),
  tokenUsers: positive('token-users'),
  rounds: positive('rounds'),
  scaleTo: positive('scale-to'),
  soak: positive('soak', 0),
  scenarios: String(flags.scenarios)
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean) as ScenarioName[],
};
const LOGIN_CONNECTIONS = 10;
const RESULTS = join(ROOT, 'bench', 'results');

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The app's own variables, when set in the bench's environment, pass through (a pool size to compare…). */
function passThroughEnv(): Record<string, string> {
  const known = new Set(Object.keys(new EnvironmentVariables()).concat(['JWT_SECRET', 'DATABASE_URL']));
  const fixed = new Set(['NODE_ENV', 'DATABASE_URL', 'DATABASE_URL_UNPOOLED', 'JWT_SECRET', 'HOST', 'PORT']);
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => known.has(entry[0]) && !fixed.has(entry[0]) && entry[1] !== undefined,
    ),
  );
}

/**
 * Bulk insert without the secondary indexes, then re-create them from their own definitions
 * (pg_get_indexdef): the same schema, built in seconds instead of maintained row by row.
 */
async function withoutSecondaryIndexes(db: Client, work: () => Promise<void>): Promise<void> {
  const { rows } = await db.query<{ name: string; definition: string }>(
    `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition
     FROM pg_index WHERE indrelid = 'tasks'::regclass AND NOT indisprimary`,
  );
  for (const { name } of rows) await db.query(`DROP INDEX ${name}`);
  try {
    await work();
  } finally {
    for (const { definition } of rows) await db.query(definition);
  }
}

/**
 * Writes the seeded pages out now, so that the checkpointer does not spend the measured windows on
 * them (its CPU would be counted against whichever target runs). Needs a superuser; skipped without.
 */
async function checkpoint(db: Client): Promise<void> {
  await db.query('CHECKPOINT').catch(() => undefined);
}

async function seedClient(url: string): Promise<Client> {
  const db = new Client({ connectionString: url, application_name: 'tasks-api-bench' });
  await db.connect();
  // The migrations pin the app role's statement_timeout; bulk loads need longer.
  await db.query(`SET statement_timeout = 0`);
  await db.query(`SET synchronous_commit = off`);
  await db.query(`SET maintenance_work_mem = '256MB'`);
  return db;
}

async function signIn(app: Server, accounts: number, count: number): Promise<{ id: string; token: string }[]> {
  // A spread of accounts, not the first N.
  const picks = new Set<number>();
  while (picks.size < Math.min(count, accounts)) picks.add(1 + Math.floor(Math.random() * accounts));
  const queue = [...picks];
  const users: { id: string; token: string }[] = [];
  const worker = async () => {
    for (let n = queue.pop(); n !== undefined; n = queue.pop()) {
      const response = await fetch(`${app.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: emailOf(n), password: BENCH_PASSWORD }),
      });
      if (response.status !== 200)
        throw new Error(`login of ${emailOf(n)}: ${response.status} ${await response.text()}`);
      const body = (await response.json()) as { user: { id: string }; accessToken: string };
      users.push({ id: body.user.id, token: body.accessToken });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return users;
}

async function heapUsed(app: Server): Promise<number | undefined> {
  const text = await fetch(`${app.url}/metrics`).then((response) => response.text());
  const match = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

async function main(): Promise<void> {
  if (flags.help) return console.log(HELP);
  const unknown = options.scenarios.filter((name) => !SCENARIOS.includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build`');
  const useBaseline = !flags['no-baseline'];
  const started = Date.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  await mkdir(RESULTS, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'tasks-api-bench-run-'));
  const profileDir = join(RESULTS, `profile-${stamp}`);

  const cleanup: (() => Promise<void>)[] = [];
  const onSignal = () =>
    void Promise.allSettled([...cleanup].reverse().map((stop) => stop())).then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log('starting PostgreSQL');
    const database = await startDatabase(process.env.BENCH_DATABASE_URL);
    cleanup.push(() => database.stop());

    const appEnv: Record<string, string> = {
      // Targets take turns (below), so each sits idle while the others are measured; with the default
      // 10 s its pool would close every connection in between and each window would start with ten new
      // backends, each faulting in the shared buffers it touches anew (at 1M tasks that doubled the
      // database's CPU per request). Under steady load a pool's connections do not go idle.
      DB_IDLE_TIMEOUT_MS: '600000',
      ...passThroughEnv(),
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: randomBytes(32).toString('base64url'),
      // Rate limits off for the bench's own logins (and the login scenario); tokens outlive the run.
      THROTTLE_LOGIN_PER_IP: '999999/60',
      THROTTLE_LOGIN_PER_EMAIL: '999999/60',
      THROTTLE_REFRESH_PER_IP: '999999/60',
      JWT_ACCESS_TTL_S: '86400',
    };
    const config = loadConfig(appEnv);
    log(`migrating ${database.describe}`);
    await runMigrations(config.database);

    const db = await seedClient(database.url);
    let dbEnded: Promise<void> | undefined;
    const endDb = () => (dbEnded ??= db.end());
    cleanup.push(endDb);
    const base = options.users * options.tasksPerUser;
    let t = Date.now();
    // One argon2id hash with the app's parameters, shared by every account, so logins really verify.
    const { memoryCost, timeCost, parallelism } = config.auth.argon2;
    const passwordHash = await hash(BENCH_PASSWORD, {
      algorithm: Algorithm.Argon2id,
      memoryCost,
      timeCost,
      parallelism,
    });
    await seedUsers(db, options.users, passwordHash);
    await withoutSecondaryIndexes(db, () => seedTasks(db, options.tasksPerUser));
    await db.query('VACUUM ANALYZE');
    await checkpoint(db);
    log(
      `seeded ${options.users} users and ${base.toLocaleString('en')} tasks in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
    const [{ version }] = (await db.query<{ version: string }>(`SELECT current_setting('server_version') AS version`))
      .rows;

    // The heap limit the image ships with (Dockerfile ENV NODE_OPTIONS), so memory is measured as deployed.
    const imageNodeOptions = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    if (imageNodeOptions) appEnv.NODE_OPTIONS = imageNodeOptions;
    const appNodeArgs = String(flags['app-node-options']).split(/\s+/).filter(Boolean);
    // Profiled: the main app only (the scaling check's servers start later, without it).
    const nodeArgs = [...appNodeArgs, ...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
    const app = await startServer('app', [...nodeArgs, join(ROOT, 'dist', 'main.js')], appEnv, '/health/ready', work);
    cleanup.push(() => app.stop());
    const baselineEnv = {
      DATABASE_URL: database.url,
      JWT_SECRET: appEnv.JWT_SECRET,
      JWT_ISSUER: config.auth.issuer,
      JWT_AUDIENCE: config.auth.audience,
      DB_POOL_MAX: String(config.database.pool.max),
      DB_IDLE_TIMEOUT_MS: String(config.database.pool.idleTimeoutMs),
      DB_STATEMENT_TIMEOUT_MS: String(config.database.statementTimeoutMs),
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(config.database.idleInTransactionTimeoutMs),
      DB_PREPARED_STATEMENTS: String(config.database.preparedStatements),
    };
    const baselineMain = join(ROOT, 'bench', 'baseline', 'server.js');
    const baseline = useBaseline
      ? await startServer('baseline', [baselineMain], baselineEnv, '/health', work)
      : undefined;
    if (baseline) cleanup.push(() => baseline.stop());
    log(`app on ${app.url} (pid ${app.pid})${baseline ? `, baseline on ${baseline.url} (pid ${baseline.pid})` : ''}`);

    t = Date.now();
    const users = await signIn(app, options.users, options.tokenUsers);
    log(`signed in ${users.length} users through POST /auth/login in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const tokenOf = new Map(users.map((user) => [user.id, user.token]));
    const { rows: tasks } = await db.query<{ id: string; user_id: string }>(
      `SELECT id, user_id FROM tasks WHERE user_id = ANY($1::uuid[]) ORDER BY random()`,
      [users.map((user) => user.id)],
    );
    const fixtures: Fixtures = {
      users,
      tasks: tasks.map((task) => ({ id: task.id, token: tokenOf.get(task.user_id)! })),
      accounts: options.users,
      pageLimit: Math.max(1, Math.min(20, Math.floor(options.tasksPerUser / 5))),
    };
    const all = scenarios(fixtures);
    const explain = async (client: Client, size: number) =>
      renderPlans(
        `at ${size.toLocaleString('en')} tasks`,
        await explainHotQueries(
          client,
          users[0],
          fixtures.tasks.find((task) => task.token === users[0].token)!.id,
          fixtures.pageLimit,
        ),
      );
    const plans = [await explain(db, base)];
    const load = { connections: options.connections, duration: options.duration };
    let peakRss = 0;

    const cpuMeter = (target: Server) =>
      new CpuMeter({
        process: () => processCpuSeconds(target.pid),
        database: () => (database.serverPid === undefined ? undefined : processTreeCpuSeconds(database.serverPid)),
      });
    const runApp = async (requests: Scenario['requests'], connections = options.connections): Promise<AppResult> => {
      if (options.warmup > 0) await fire(app.url, requests(), { connections, duration: options.warmup });
      const sampler = new RssSampler(app.pid);
      const result = await fire(app.url, requests(), { connections, duration: options.duration });
      const { peak } = sampler.stop();
      peakRss = Math.max(peakRss, peak);
      return { ...result, peakRss: peak };
    };
    // Targets alternate in rounds (app, baseline, baseline, app, …) of duration/rounds seconds each, so
    // drift on a shared machine (other processes, the database's caches, autovacuum) falls on all of
    // them alike; the rounds of each target are merged, histograms included.
    const measure = async (scenario: Scenario, targets: Server[]): Promise<Map<Server, Measured>> => {
      for (const target of targets) {
        if (options.warmup > 0) await fire(target.url, scenario.requests(), { ...load, duration: options.warmup });
      }
      const raw = new Map<Server, RawRun[]>(targets.map((target) => [target, []]));
      const cpu = new Map(targets.map((target) => [target, cpuMeter(target)]));
      const peaks = new Map(targets.map((target) => [target, 0]));
      for (let round = 0; round < options.rounds; round++) {
        for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
          const sampler = new RssSampler(target.pid);
          cpu.get(target)!.start();
          raw
            .get(target)!
            .push(
              await fireRaw(target.url, scenario.requests(), { ...load, duration: options.duration / options.rounds }),
            );
          cpu.get(target)!.stop();
          peaks.set(target, Math.max(peaks.get(target)!, sampler.stop().peak));
        }
      }
      return new Map(
        targets.map((target) => {
          const result = combine(target.url, raw.get(target)!, options.connections);
          return [target, { result, peakRss: peaks.get(target)!, cpu: perRequest(cpu.get(target)!, result.requests) }];
        }),
      );
    };
    const scenarioRun = (
      scenario: Scenario,
      pair: { app: Server; baseline?: Server },
      measured: Map<Server, Measured>,
      label = '',
    ): ScenarioRun => {
      const ofApp = measured.get(pair.app)!;
      const ofBaseline = pair.baseline ? measured.get(pair.baseline) : undefined;
      peakRss = Math.max(peakRss, ofApp.peakRss);
      const run: ScenarioRun = {
        scenario,
        app: { ...ofApp.result, peakRss: ofApp.peakRss },
        baseline: ofBaseline?.result,
        appCpu: ofApp.cpu,
        baselineCpu: ofBaseline?.cpu,
      };
      const ratio = run.baseline ? ` (baseline ${run.baseline.requestsPerSecond.toFixed(0)} req/s)` : '';
      log(
        `${scenario.name}${label}: app ${run.app.requestsPerSecond.toFixed(0)} req/s, p50 ${run.app.p50} ms, p99 ${run.app.p99} ms, ` +
          `non-2xx ${run.app.non2xx}${statuses(run.app)}, errors ${run.app.errors}${ratio}`,
      );
      return run;
    };
    const runScenario = async (scenario: Scenario): Promise<ScenarioRun> => {
      const pair = { app, baseline: scenario.baseline ? baseline : undefined };
      const targets = pair.baseline ? [app, pair.baseline] : [app];
      return scenarioRun(scenario, pair, await measure(scenario, targets));
    };
    const warmUp = async (targets: Server[], names: ScenarioName[], limits?: Limits) => {
      const chosen = scenarios(fixtures, limits);
      for (const target of targets) {
        await fire(
          target.url,
          names.flatMap((name) => chosen[name].requests()),
          { ...load, duration: options.warmup * 4 },
        );
      }
    };

    // Both servers warm up on every read first, so that the first scenario does not pay for V8 still
    // compiling the request path (the scenarios' own warm-ups are short); writes warm up in their own.
    const warming = (['list', 'filter', 'search', 'page', 'get'] as const).filter((name) =>
      options.scenarios.includes(name),
    );
    if (options.warmup > 0 && warming.length > 0) {
      log(`warming up on ${warming.join(', ')}`);
      await warmUp(baseline ? [app, baseline] : [app], warming);
    }

    const runs: ScenarioRun[] = [];
    for (const name of SCENARIOS.filter((s) => options.scenarios.includes(s))) {
      runs.push(await runScenario(all[name]));
      if (name === 'create') {
        // Keep the data set at its seeded size for what follows.
        const { rowCount } = await db.query(`DELETE FROM tasks WHERE title = $1`, [CREATED_TITLE]);
        await db.query('VACUUM ANALYZE tasks');
        log(`removed the ${rowCount} tasks the create scenario added`);
      } else if (name === 'update') {
        await db.query('VACUUM ANALYZE tasks');
      }
    }

    const report: Report = {
      title: `Tasks API benchmark, ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      setup: [
        `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, PostgreSQL ${version} (${database.describe}); app, baseline, database and load generator share it`,
        `data: ${options.users.toLocaleString('en')} users × ${options.tasksPerUser} tasks = ${base.toLocaleString('en')} tasks; requests rotate over ${users.length} signed-in users and their ${tasks.length.toLocaleString('en')} tasks`,
        `load: autocannon, ${options.connections} connections, ${options.warmup} s warm-up then ${options.duration} s measured per scenario and target, in ${options.rounds} alternating rounds (app, baseline, baseline, app…) merged per target`,
        `app: node dist/main.js, NODE_ENV=production${imageNodeOptions ? `, NODE_OPTIONS=${imageNodeOptions} (the image's)` : ''}, LOG_LEVEL=${config.http.logLevel} (access log to a file), DB_POOL_MAX=${config.database.pool.max}, DB_IDLE_TIMEOUT_MS=${config.database.pool.idleTimeoutMs}${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}; baseline: bench/baseline/server.js, same pool settings`,
      ],
      runs,
      peakRss: 0,
      plans,
    };

    if (options.scenarios.includes('login') && options.scenarios.includes('get')) {
      log(`login interference: get alone, then get while login runs at ${LOGIN_CONNECTIONS} connections`);
      const idle = await runApp(all.get.requests);
      const loginRun = fire(app.url, all.login.requests(), {
        connections: LOGIN_CONNECTIONS,
        duration: options.warmup + options.duration + 1,
      });
      await new Promise((resolve) => setTimeout(resolve, options.warmup * 1000));
      const sampler = new RssSampler(app.pid);
      const underLogin = await fire(app.url, all.get.requests(), load);
      peakRss = Math.max(peakRss, sampler.stop().peak);
      report.interference = {
        connections: options.connections,
        loginConnections: LOGIN_CONNECTIONS,
        idle,
        underLogin,
        login: await loginRun,
      };
      log(`get p99 ${idle.p99} ms alone, ${underLogin.p99} ms during logins`);
    }

    if (options.soak > 0) {
      log(`soak: ${options.soak} s of list and get`);
      const mixed = () => [...all.list.requests(), ...all.get.requests()];
      await fire(app.url, mixed(), { ...load, duration: Math.max(1, options.warmup) });
      const heapStart = await heapUsed(app);
      const sampler = new RssSampler(app.pid);
      const result = await fire(app.url, mixed(), { ...load, duration: options.soak });
      const { peak, samples } = sampler.stop();
      const heapEnd = await heapUsed(app);
      peakRss = Math.max(peakRss, peak);
      const window = Math.min(10_000, (options.soak * 1000) / 3);
      const first = samples.filter((s) => s.at - samples[0].at <= window).map((s) => s.rss);
      const last = samples.filter((s) => samples.at(-1)!.at - s.at <= window).map((s) => s.rss);
      const soak: Soak = {
        seconds: options.soak,
        result: { ...result, peakRss: peak },
        startRss: median(first),
        endRss: median(last),
        heapStart,
        heapEnd,
      };
      report.soak = soak;
      log(`soak: RSS ${(soak.startRss / 2 ** 20).toFixed(0)} → ${(soak.endRss / 2 ** 20).toFixed(0)} MB`);
    }

    const scalable = (['list', 'page', 'search'] as const).filter((name) => options.scenarios.includes(name));
    if (!flags['skip-scaling'] && options.tasksPerUser < options.scaleTo && scalable.length > 0) {
      // Pages that both sizes fill. With limit=20 a user of the base data set (10 tasks) gets 10 tasks
      // back and one of the grown set 20, and search matches 4 of 10 tasks against 18 of 100 — which
      // measures the size of the answer, not the cost of finding it in a bigger table. So the scaling
      // check asks for `tasks-per-user` − 1 tasks per list page (a full page and a next cursor at both
      // sizes) and `pageLimit` per search page.
      const fill: Limits = { list: Math.max(1, Math.min(20, options.tasksPerUser - 1)), search: fixtures.pageLimit };
      // Both sizes are served at once, not one after the other: the seeded database (sessions of the
      // signed-in users included) is copied and the copy grown, each gets its own app and baseline, and
      // the four alternate in rounds as app and baseline do above. Measured one after the other, the
      // machine's drift in between moved even the baseline by 1.2-1.5x, and list, whose cost does not
      // depend on the table's size, anywhere from 0.8x to 1.4x from run to run.
      await app.stop();
      await baseline?.stop();
      await endDb();
      const more = options.scaleTo - options.tasksPerUser;
      log(`scaling: copying the database, adding ${(options.users * more).toLocaleString('en')} tasks to the copy`);
      t = Date.now();
      const grownUrl = await database.copy(`${new URL(database.url).pathname.slice(1)}_scaled`);
      const grown = await seedClient(grownUrl);
      cleanup.push(() => grown.end());
      await withoutSecondaryIndexes(grown, () => seedTasks(grown, more));
      await grown.query('VACUUM ANALYZE tasks');
      await checkpoint(grown);
      const seedSeconds = (Date.now() - t) / 1000;
      const scaledTasks = options.users * options.scaleTo;
      plans.push(await explain(grown, scaledTasks));

      const start = async (label: string, url: string) => {
        const pair = {
          app: await startServer(
            `app-${label}`,
            [...appNodeArgs, join(ROOT, 'dist', 'main.js')],
            { ...appEnv, DATABASE_URL: url },
            '/health/ready',
            work,
          ),
          baseline: baseline
            ? await startServer(
                `baseline-${label}`,
                [baselineMain],
                { ...baselineEnv, DATABASE_URL: url },
                '/health',
                work,
              )
            : undefined,
        };
        cleanup.push(() => pair.app.stop());
        if (pair.baseline) cleanup.push(() => pair.baseline!.stop());
        return pair;
      };
      const small = await start(String(base), database.url);
      const large = await start(String(scaledTasks), grownUrl);
      const targets = [small.app, large.app, small.baseline, large.baseline].filter((s): s is Server => !!s);
      log(
        `scaling: ${targets.length} servers alternating, list with limit=${fill.list}, search with limit=${fill.search}`,
      );
      if (options.warmup > 0) await warmUp(targets, scalable, fill);
      const scaling: Scaling = { baseTasks: base, scaledTasks, seedSeconds, rows: [] };
      for (const name of scalable) {
        const scenario = scenarios(fixtures, fill)[name];
        const measured = await measure(scenario, targets);
        scaling.rows.push({
          name,
          base: scenarioRun(scenario, small, measured, ` at ${base.toLocaleString('en')}`),
          scaled: scenarioRun(scenario, large, measured, ` at ${scaledTasks.toLocaleString('en')}`),
        });
      }
      for (const target of targets) await target.stop();
      report.scaling = scaling;
    }
    report.peakRss = peakRss;

    await app.stop();
    // The app says so when its database connection drops prepared statements (a pooler between them).
    const unprepared = readFileSync(app.logFile, 'utf8')
      .split('\n')
      .find((line) => line.includes('does not keep prepared statements'));
    report.setup.push(
      config.database.preparedStatements && !unprepared
        ? 'statements: prepared (named), in the app and in the baseline'
        : `statements: unnamed${unprepared ? ` (the app fell back: ${unprepared})` : ' (DB_PREPARED_STATEMENTS=false)'}`,
    );
    const markdown = renderReport(report);
    let profile = '';
    if (flags.profile) {
      const files = (await readdir(profileDir)).filter((name) => name.endsWith('.cpuprofile'));
      if (files[0]) {
        profile = `\n## CPU profile of the app\n\n${join('bench', 'results', `profile-${stamp}`, files[0])}\n\n${formatProfile(summarizeProfile(join(profileDir, files[0])))}\n`;
      }
    }
    const file = join(RESULTS, `${stamp}.md`);
    await writeFile(file, markdown + profile);
    console.log(`\n${markdown}${profile}`);
    log(`written to ${file}; took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    for (const stop of [...cleanup].reverse()) await stop().catch((error: unknown) => console.error(error));
    await rm(work, { recursive: true, force: true });
  }
}

function statuses(result: LoadResult): string {
  const other = Object.entries(result.statusCodes).filter(([code]) => !code.startsWith('2'));
  return other.length ? ` (${other.map(([code, count]) => `${count}× ${code}`).join(', ')})` : '';
}

/** One target's share of a measurement. */
interface Measured {
  result: LoadResult;
  peakRss: number;
  cpu: CpuPerRequest;
}

/** CPU microseconds per answered request, of the server process and of the database. */
function perRequest(meter: CpuMeter<'process' | 'database'>, requests: number): CpuPerRequest {
  const micros = (seconds: number | undefined) =>
    seconds === undefined || requests === 0 ? undefined : (seconds * 1e6) / requests;
  return { process: micros(meter.seconds('process')), database: micros(meter.seconds('database')) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
