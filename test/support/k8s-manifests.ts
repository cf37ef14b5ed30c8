import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type AppConfig } from '../../src/config/configuration';
import { type ConfigPurpose, EnvironmentVariables } from '../../src/config/env.validation';
import { resolveConnection } from '../../src/database/data-source.options';
import { lockGiveUpBoundMs } from '../../src/database/migration-locks';
import type { StageResult } from './dockerfile-replay';
import { checkNetworkAccess } from './k8s-network';

// Checks deploy/k8s against the Kubernetes schemas and against what the app and its image really do: the port it
// listens on, its probe paths, the variables it reads (validated by the app's own config loader), which URL
// each workload connects with, label selectors, shutdown timing and the image's migration command.
// test/ops/k8s-manifests.e2e-spec.ts runs every check against a broken copy too.

export const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');
const MIGRATION_COMMAND_LABEL = 'tasks-api.migration-command';
export const EXAMPLE_SECRET = 'secret.example.yaml';
// The example JWT_SECRET is deliberately too short to start with; a real one replaces it.
const STAND_IN_JWT_SECRET = 'k8s-manifest-check-secret-0123456789abcdef';

export type Raw = Record<string, unknown>;
interface ManifestFile {
  file: string;
  docs: Raw[];
}

interface Kustomization {
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

interface Manifests {
  deployment: Deployment;
  service: Service;
  job: Job;
  hpa: HorizontalPodAutoscaler;
  pdb: PodDisruptionBudget;
  configMap: ConfigMap;
  /** The example Secrets: the app's (DATABASE_URL, JWT_SECRET) and the migrations' (the owner's URL). */
  secrets: Secret[];
  networkPolicy: NetworkPolicy;
  kustomization: Kustomization;
}

export function loadManifests(): ManifestFile[] {
  return readdirSync(K8S)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => ({
      file,
      docs: parseAllDocuments(readFileSync(join(K8S, file), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
        return doc.toJS() as Raw;
      }),
    }));
}

/** Every problem found, as readable sentences; empty when the manifests are sound. */
export function checkManifests(files: ManifestFile[], image: StageResult): string[] {
  const problems: string[] = [];
  const found: Partial<Manifests> = {};
  const keep = <K extends keyof Manifests>(key: K, value: Manifests[K], file: string) => {
    if (found[key]) problems.push(`${file}: a second ${key}; expected exactly one`);
    found[key] = value;
  };
  found.secrets = [];
  for (const { file, docs } of files) {
    for (const raw of docs) {
      const type = `${String(raw.apiVersion)}/${String(raw.kind)}`;
      try {
        const model = toModel(raw);
        if (model === 'kustomization') keep('kustomization', raw as Kustomization, file);
        else if (!model) problems.push(`${file}: unknown kind ${type}`);
        else {
          model.value.validate();
          if (model.key === 'secret') found.secrets!.push(model.value);
          else keep(model.key, model.value as never, file);
        }
      } catch (error) {
        problems.push(`${file}: ${type} fails its schema: ${(error as Error).message}`);
      }
    }
  }
  const kinds = ['deployment', 'service', 'job', 'hpa', 'pdb', 'configMap', 'networkPolicy', 'kustomization'];
  const missing = (kinds as (keyof Manifests)[]).filter((key) => !found[key]).map((key) => `no ${key} in deploy/k8s`);
  if (found.secrets!.length !== 2) missing.push(`${EXAMPLE_SECRET} needs two Secrets, the app's and the migrations'`);
  if (missing.length > 0 || problems.length > 0) return [...problems, ...missing];
  return checkWiring(found as Manifests, files, image);
}

type Model =
  | { key: 'deployment'; value: Deployment }
  | { key: 'service'; value: Service }
  | { key: 'job'; value: Job }
  | { key: 'hpa'; value: HorizontalPodAutoscaler }
  | { key: 'pdb'; value: PodDisruptionBudget }
  | { key: 'configMap'; value: ConfigMap }
  | { key: 'secret'; value: Secret }
  | { key: 'networkPolicy'; value: NetworkPolicy };

function toModel(raw: Raw): Model | 'kustomization' | undefined {
  const data = raw as never;
  switch (`${String(raw.apiVersion)}/${String(raw.kind)}`) {
    case 'apps/v1/Deployment':
      return { key: 'deployment', value: new Deployment(data) };
    case 'v1/Service':
      return { key: 'service', value: new Service(data) };
    case 'batch/v1/Job':
      return { key: 'job', value: new Job(data) };
    case 'autoscaling/v2/HorizontalPodAutoscaler':
      return { key: 'hpa', value: new HorizontalPodAutoscaler(data) };
    case 'policy/v1/PodDisruptionBudget':
      return { key: 'pdb', value: new PodDisruptionBudget(data) };
    case 'v1/ConfigMap':
      return { key: 'configMap', value: new ConfigMap(data) };
    case 'v1/Secret':
      return { key: 'secret', value: new Secret(data) };
    case 'networking.k8s.io/v1/NetworkPolicy':
      return { key: 'networkPolicy', value: new NetworkPolicy(data) };
    case 'kustomize.config.k8s.io/v1beta1/Kustomization':
      return 'kustomization';
    default:
      return undefined;
  }
}

function checkWiring(m: Manifests, files: ManifestFile[], image: StageResult): string[] {
  const problems: string[] = [];
  const expect = (ok: unknown, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const defaults = new EnvironmentVariables();
  const allowed = new Set([
    ...Object.keys(defaults),
    'DATABASE_URL',
    'DATABASE_URL_UNPOOLED',
    'DATABASE_APP_ROLE',
    'JWT_SECRET',
    'NODE_OPTIONS',
  ]);
  const secrets = new Map(m.secrets.map((secret) => [secret.metadata?.name ?? '', secretData(secret)]));
  const configValues = m.configMap.data ?? {};

  // Kustomization: everything but the example Secret, and the image override reaches both workloads.
  const resources = m.kustomization.resources ?? [];
  const manifestFiles = files.map(({ file }) => file).filter((file) => file !== 'kustomization.yaml');
  expect(!resources.includes(EXAMPLE_SECRET), `kustomization.yaml must not apply ${EXAMPLE_SECRET}`);
  for (const file of manifestFiles.filter((name) => name !== EXAMPLE_SECRET)) {
    expect(resources.includes(file), `kustomization.yaml does not list ${file}`);
  }
  for (const resource of resources) expect(manifestFiles.includes(resource), `kustomization.yaml lists ${resource}`);

  const podSpec = m.deployment.spec?.template.spec;
  const jobSpec = m.job.spec?.template.spec;
  const api = podSpec?.containers[0];
  const migrate = jobSpec?.containers[0];
  if (!podSpec || !jobSpec || !api || !migrate) return ['the Deployment and the Job each need a pod with a container'];
  for (const [workload, container] of [
    ['Deployment', api],
    ['Job', migrate],
  ] as const) {
    const images = (m.kustomization.images ?? []).map((entry) => entry.name);
    expect(images.includes(container.image ?? ''), `${workload} image ${container.image} is not set by kustomization`);
  }

  // Variables: every name is one the app reads, every reference resolves, and the app accepts the values.
  for (const key of Object.keys(configValues)) expect(allowed.has(key), `ConfigMap key ${key} is not read by the app`);
  for (const [name, values] of secrets) {
    for (const key of Object.keys(values)) expect(allowed.has(key), `Secret ${name} key ${key} is not read by the app`);
  }
  for (const [workload, container] of [
    ['Deployment', api],
    ['Job', migrate],
  ] as const) {
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) {
        expect(source.configMapRef.name === m.configMap.metadata?.name, `${workload} envFrom names another ConfigMap`);
      }
      if (source.secretRef) {
        expect(secrets.has(source.secretRef.name ?? ''), `${workload} envFrom names an unknown Secret`);
      }
    }
    for (const variable of container.env ?? []) {
      expect(allowed.has(variable.name), `${workload} sets ${variable.name}, which the app does not read`);
      const secretRef = variable.valueFrom?.secretKeyRef;
      if (secretRef) {
        expect(
          secretRef.key in (secrets.get(secretRef.name ?? '') ?? {}),
          `${workload} ${variable.name} refers to a missing Secret key ${secretRef.name}/${secretRef.key}`,
        );
      }
      const configRef = variable.valueFrom?.configMapKeyRef;
      if (configRef) {
        expect(
          configRef.name === m.configMap.metadata?.name && configRef.key in configValues,
          `${workload} ${variable.name} refers to a missing ConfigMap key ${configRef.name}/${configRef.key}`,
        );
      }
    }
  }
  const fromSecret = (container: IContainer, name: string) =>
    container.env?.find((variable) => variable.name === name)?.valueFrom?.secretKeyRef?.key === name;
  expect(fromSecret(api, 'DATABASE_URL'), 'the Deployment must take DATABASE_URL from the Secret');
  expect(fromSecret(api, 'JWT_SECRET'), 'the Deployment must take JWT_SECRET from the Secret');
  expect(
    !api.env?.some((variable) => variable.name === 'DATABASE_URL_UNPOOLED'),
    'the Deployment must not get DATABASE_URL_UNPOOLED (migrations only)',
  );
  expect(fromSecret(migrate, 'DATABASE_URL_UNPOOLED'), 'the Job must take DATABASE_URL_UNPOOLED from the Secret');

  // Two roles, two Secrets: the Job holds the schema owner's credentials, the Deployment the app role's.
  const secretsOf = (container: IContainer) =>
    new Set([
      ...(container.envFrom ?? []).map((source) => source.secretRef?.name),
      ...(container.env ?? []).map((variable) => variable.valueFrom?.secretKeyRef?.name),
    ]);
  const secretOf = (container: IContainer, name: string) =>
    container.env?.find((variable) => variable.name === name)?.valueFrom?.secretKeyRef?.name;
  const appSecret = secretOf(api, 'DATABASE_URL');
  const ownerSecret = secretOf(migrate, 'DATABASE_URL_UNPOOLED');
  expect(appSecret !== ownerSecret, 'the Job and the Deployment must take their database URLs from separate Secrets');
  expect(!secretsOf(api).has(ownerSecret), `the Deployment must not read the migrations' Secret ${ownerSecret}`);
  expect(!secretsOf(migrate).has(appSecret), `the Job must not read the app's Secret ${appSecret}`);

  const appConfig = configFor('Deployment', api, 'app');
  const jobConfig = configFor('Job', migrate, 'migrations');
  if (!appConfig || !jobConfig) return problems;
  tryTo(() => {
    const app = resolveConnection(appConfig.database, 'app');
    expect(app.variable === 'DATABASE_URL' && app.pooled, 'the Deployment must connect to the pooled (-pooler) host');
  });
  tryTo(() => {
    const job = resolveConnection(jobConfig.database, 'migrations');
    expect(job.variable === 'DATABASE_URL_UNPOOLED', 'the Job must connect with DATABASE_URL_UNPOOLED');
    const appUser = resolveConnection(appConfig.database, 'app').target.user;
    expect(appUser !== job.target.user, `the app must not connect as the schema owner (${appUser})`);
    expect(
      jobConfig.database.appRole === appUser,
      `the Job's DATABASE_APP_ROLE (${jobConfig.database.appRole}) must be the user of the Deployment's DATABASE_URL (${appUser})`,
    );
  });

  // The port the app listens on (as its own config loader reads it) is the container's, the image's, and
  // the one Service and probes reach.
  const port = appConfig.http.port;
  const httpPort = api.ports?.find((entry) => entry.name === 'http');
  expect(httpPort?.containerPort === port, `container port http (${httpPort?.containerPort}) is not PORT (${port})`);
  expect(
    image.expose.some((entry) => entry === String(port) || entry === `${port}/tcp`),
    `the Dockerfile does not EXPOSE ${port}`,
  );
  const targetPort = m.service.spec?.ports?.[0]?.targetPort;
  expect(resolvePort(api, targetPort) === port, `the Service targetPort ${targetPort} does not reach port ${port}`);
  const probes = [
    ['startupProbe', '/health/ready'],
    ['readinessProbe', '/health/ready'],
    ['livenessProbe', '/health/live'],
  ] as const;
  for (const [probe, path] of probes) {
    const get = api[probe]?.httpGet;
    expect(get?.path === path, `${probe} must GET ${path} (has ${get?.path})`);
    expect(get && resolvePort(api, get.port) === port, `${probe} does not reach port ${port}`);
  }
  const jobPodLabels = m.job.spec?.template.metadata?.labels ?? {};
  problems.push(...checkNetworkAccess({ ...m, jobLabels: jobPodLabels }, api, appConfig));

  const readiness = api.readinessProbe;
  expect(
    (readiness?.timeoutSeconds ?? 1) >= 2 && (readiness?.timeoutSeconds ?? 1) * 1000 > appConfig.health.dbTimeoutMs,
    `readinessProbe timeoutSeconds must be at least 2 and above HEALTH_DB_TIMEOUT_MS (${appConfig.health.dbTimeoutMs} ms)`,
  );
  expect(readiness?.periodSeconds === 5, 'readinessProbe periodSeconds should be 5');
  const startup = api.startupProbe;
  const startupBudgetMs = (startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3) * 1000;
  const bootMs = appConfig.database.startupRetryMs + appConfig.database.pool.connectTimeoutMs;
  expect(
    startupBudgetMs >= bootMs,
    `startupProbe allows ${startupBudgetMs} ms, less than DB_STARTUP_RETRY_MS + DB_CONNECT_TIMEOUT_MS (${bootMs} ms)`,
  );

  // Shutdown: SIGKILL must not cut the preStop pause, the drain or the in-flight requests short.
  const preStop = preStopSeconds(api);
  const shutdownS = (appConfig.http.shutdownDrainMs + appConfig.http.shutdownTimeoutMs) / 1000;
  const grace = podSpec.terminationGracePeriodSeconds ?? 30;
  expect(
    grace > preStop + shutdownS,
    `terminationGracePeriodSeconds ${grace} must exceed preStop ${preStop} s + SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS (${shutdownS} s)`,
  );
  expect(preStop > 0, 'the Deployment needs a preStop pause');

  // Selectors: the Service, PDB, HPA and Deployment agree on the API pods, and none picks the Job's.
  const podLabels = m.deployment.spec?.template.metadata?.labels;
  const jobLabels = m.job.spec?.template.metadata?.labels ?? {};
  const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
    !!selector &&
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => labels?.[key] === value);
  expect(selects(m.deployment.spec?.selector.matchLabels, podLabels), 'the Deployment selector misses its pods');
  expect(selects(m.service.spec?.selector, podLabels), 'the Service selector misses the Deployment pods');
  expect(!selects(m.service.spec?.selector, jobLabels), 'the Service selector also picks the migration pods');
  expect(selects(m.pdb.spec?.selector?.matchLabels, podLabels), 'the PodDisruptionBudget misses the Deployment pods');
  expect(!selects(m.pdb.spec?.selector?.matchLabels, jobLabels), 'the PodDisruptionBudget also counts migration pods');
  const target = m.hpa.spec?.scaleTargetRef;
  expect(
    target?.kind === 'Deployment' && target.apiVersion === 'apps/v1' && target.name === m.deployment.metadata?.name,
    'the HorizontalPodAutoscaler does not target the Deployment',
  );

  // Availability.
  const minReplicas = m.hpa.spec?.minReplicas ?? 1;
  expect((m.deployment.spec?.replicas ?? 1) >= 2, 'the Deployment needs at least 2 replicas');
  expect(minReplicas >= 2, 'the HorizontalPodAutoscaler needs minReplicas of at least 2');
  expect(
    typeof m.pdb.spec?.minAvailable === 'number' && m.pdb.spec.minAvailable < minReplicas,
    'the PodDisruptionBudget minAvailable must stay below minReplicas, or node drains block',
  );
  const rolling = m.deployment.spec?.strategy?.rollingUpdate;
  expect(
    m.deployment.spec?.strategy?.type === 'RollingUpdate' && String(rolling?.maxUnavailable) === '0',
    'the rolling update must keep maxUnavailable 0',
  );

  // The Job runs the image's documented migration command, and may retry, time out and be cleaned up.
  const documented = image.labels[MIGRATION_COMMAND_LABEL]?.split(' ');
  const command = [...(migrate.command ?? []), ...(migrate.args ?? [])];
  expect(
    documented && command.join('\u0000') === documented.join('\u0000'),
    `the Job's migration command (${command.join(' ')}) is not the image's ${MIGRATION_COMMAND_LABEL} label`,
  );
  const job = m.job.spec;
  expect(job?.backoffLimit === 3, 'the Job needs backoffLimit 3');
  const giveUpS = lockGiveUpBoundMs(jobConfig.database.migrations) / 1000;
  expect(
    (job?.activeDeadlineSeconds ?? 0) > 2 * giveUpS,
    `the Job's activeDeadlineSeconds (${job?.activeDeadlineSeconds} s) must leave room for a migration's lock retries (${giveUpS} s) and its work`,
  );
  expect(job?.activeDeadlineSeconds && job.ttlSecondsAfterFinished, 'the Job needs activeDeadlineSeconds and TTL');
  expect(['Never', 'OnFailure'].includes(jobSpec.restartPolicy ?? ''), 'the Job needs restartPolicy Never');

  // Both pods: a restricted security context, bounded resources and a heap below the memory limit.
  for (const [workload, spec, container] of [
    ['Deployment', podSpec, api],
    ['Job', jobSpec, migrate],
  ] as const) {
    problems.push(...checkSecurity(workload, spec, container, image));
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    expect(limits.cpu && limits.memory && requests.cpu && requests.memory, `${workload} needs requests and limits`);
    const heap = /--max-old-space-size=(\d+)/.exec(env(container, 'NODE_OPTIONS') ?? '');
    const limitMi = mebibytes(String(limits.memory ?? '0'));
    expect(
      heap && Number(heap[1]) < limitMi * 0.8,
      `${workload} NODE_OPTIONS --max-old-space-size must stay well below the ${limitMi}Mi memory limit`,
    );
  }
  // The image caps the heap by itself (docker run, npm run bench); the Deployment states the same value.
  expect(
    env(api, 'NODE_OPTIONS') === image.env.NODE_OPTIONS,
    `the Deployment's NODE_OPTIONS must match the Dockerfile's ENV NODE_OPTIONS (${image.env.NODE_OPTIONS})`,
  );

  // The example Secrets: placeholders in the shape Neon gives.
  const pooled = new URL(secrets.get(appSecret ?? '')?.DATABASE_URL ?? 'x:');
  const direct = new URL(secrets.get(ownerSecret ?? '')?.DATABASE_URL_UNPOOLED ?? 'x:');
  expect(pooled.hostname.includes('-pooler.'), 'the example DATABASE_URL must be the pooled (-pooler) host');
  expect(!direct.hostname.includes('-pooler'), 'the example DATABASE_URL_UNPOOLED must be the direct host');
  for (const url of [pooled, direct]) {
    expect(
      url.searchParams.get('sslmode') === 'verify-full' && url.searchParams.get('channel_binding') === 'require',
      'the example URLs need sslmode=verify-full&channel_binding=require',
    );
  }
  for (const [name, values] of secrets) {
    for (const [key, value] of Object.entries(values)) {
      expect(value.includes('REPLACE_ME'), `the example Secret ${name}'s ${key} must be an obvious placeholder`);
    }
  }
  return problems;

  function configFor(workload: string, container: IContainer, purpose: ConfigPurpose): AppConfig | undefined {
    const values: Record<string, string> = { ...image.env };
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef) Object.assign(values, configValues);
      if (source.secretRef) Object.assign(values, secrets.get(source.secretRef.name ?? ''));
    }
    for (const variable of container.env ?? []) {
      const secretRef = variable.valueFrom?.secretKeyRef;
      const configKey = variable.valueFrom?.configMapKeyRef?.key;
      const value =
        variable.value ??
        (secretRef ? secrets.get(secretRef.name ?? '')?.[secretRef.key] : configKey ? configValues[configKey] : '');
      values[variable.name] = value ?? '';
    }
    if (values.JWT_SECRET) values.JWT_SECRET = STAND_IN_JWT_SECRET;
    try {
      return loadConfig(values, purpose);
    } catch (error) {
      problems.push(`the ${workload}'s environment does not start the app: ${(error as Error).message}`);
      return undefined;
    }
  }

  function tryTo(work: () => void): void {
    try {
      work();
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
}

function checkSecurity(workload: string, pod: IPodSpec, container: IContainer, image: StageResult): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  const context = container.securityContext ?? {};
  const runAsNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
  const runAsUser = context.runAsUser ?? podContext.runAsUser;
  if (runAsNonRoot !== true) problems.push(`${workload} must set runAsNonRoot`);
  // The kubelet refuses a non-numeric image user (`USER node`) under runAsNonRoot unless runAsUser is set.
  if (!/^\d+$/.test(image.user) && !(typeof runAsUser === 'number' && runAsUser > 0)) {
    problems.push(`${workload} must set a numeric non-root runAsUser: the image's USER is ${image.user}`);
  }
  if (context.readOnlyRootFilesystem !== true) problems.push(`${workload} must set readOnlyRootFilesystem`);
  if (context.allowPrivilegeEscalation !== false) problems.push(`${workload} must forbid allowPrivilegeEscalation`);
  if (!context.capabilities?.drop?.includes('ALL')) problems.push(`${workload} must drop ALL capabilities`);
  if ((context.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault') {
    problems.push(`${workload} must use the RuntimeDefault seccomp profile`);
  }
  return problems;
}

function secretData(secret: Secret): Record<string, string> {
  const decoded = Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
  );
  return { ...decoded, ...secret.stringData };
}

function resolvePort(container: IContainer, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (port !== undefined && /^\d+$/.test(port)) return Number(port);
  return container.ports?.find((entry) => entry.name === port)?.containerPort;
}

function preStopSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const [program, seconds] = preStop?.exec?.command ?? [];
  return /(^|\/)sleep$/.test(program ?? '') && /^\d+$/.test(seconds ?? '') ? Number(seconds) : 0;
}

function env(container: IContainer, name: string): string | undefined {
  return container.env?.find((variable) => variable.name === name)?.value;
}

function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  return match ? Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1) : 0;
}
