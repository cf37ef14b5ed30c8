import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { inspectImage } from '../support/dockerfile-replay';
import { loadConfig } from '../../src/config/configuration';
import { trustProxyOption } from '../../src/http/trust-proxy';
import { TEST_JWT_SECRET } from '../support/app';
import { checkManifests, EXAMPLE_SECRET, loadManifests, ROOT, type Raw } from '../support/k8s-manifests';

// The checks are in test/support/k8s-manifests.ts; each is also run against a broken copy of the
// manifests below, so none of them can pass vacuously.
describe('Kubernetes manifests (deploy/k8s)', () => {
  const files = loadManifests();
  const image = inspectImage(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

  it('parse, match their Kubernetes schemas and wire up to the app and its image', () => {
    expect(files.map(({ file }) => file)).toEqual([
      'configmap.yaml',
      'deployment.yaml',
      'hpa.yaml',
      'kustomization.yaml',
      'migration-job.yaml',
      'networkpolicy.yaml',
      'pdb.yaml',
      EXAMPLE_SECRET,
      'service.yaml',
    ]);
    expect(checkManifests(files, image)).toEqual([]);
  });

  it('ships a TRUST_PROXY that believes the ingress controller pods, wherever a standard pod network puts them, and no client', () => {
    const configMap = files.find(({ file }) => file === 'configmap.yaml')!.docs[0] as unknown as IConfigMap;
    const trust = loadConfig({
      ...configMap.data,
      DATABASE_URL: 'postgres://x@db.example.com/x',
      JWT_SECRET: TEST_JWT_SECRET,
    }).http.trustProxy;
    expect(trust).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fd00::/8']);
    const believes = trustProxyOption(trust) as (address: string, hop: number) => boolean;
    // Pod addresses of kubeadm/flannel and AKS (10.244/16), GKE (10.x), Calico (192.168/16), EKS VPCs, dual-stack ULAs.
    for (const pod of ['10.244.1.17', '10.52.0.9', '192.168.12.3', '172.20.4.5', 'fd00:10:244::5']) {
      expect([pod, believes(pod, 0)]).toEqual([pod, true]);
    }
    // A client that reaches a pod directly connects from its own address: not believed, so it stays itself.
    for (const client of ['203.0.113.9', '100.64.0.1', '127.0.0.1', '2001:db8::1']) {
      expect([client, believes(client, 0)]).toEqual([client, false]);
    }
  });

  const deployment = (raw: Raw) => raw as unknown as IDeployment;
  const apiContainer = (raw: Raw) => deployment(raw).spec!.template.spec!.containers[0];
  const jobContainer = (raw: Raw) => (raw as unknown as IJob).spec!.template.spec!.containers[0];
  const configMap = (raw: Raw) => (raw as unknown as IConfigMap).data!;
  const policyRules = (raw: Raw) => (raw as unknown as INetworkPolicy).spec!.ingress!;
  const breakages: [string, string, (raw: Raw) => void, RegExp][] = [
    ['a schema error', 'deployment.yaml', (raw) => (deployment(raw).spec!.replicas = 'two' as never), /schema/],
    [
      'a container port other than PORT',
      'deployment.yaml',
      (raw) => (apiContainer(raw).ports![0].containerPort = 3001),
      /container port/,
    ],
    ['PORT moved in the ConfigMap', 'configmap.yaml', (raw) => (configMap(raw).PORT = '8080'), /container port http/],
    [
      'a liveness probe that asks the database',
      'deployment.yaml',
      (raw) => (apiContainer(raw).livenessProbe!.httpGet!.path = '/health/ready'),
      /livenessProbe must GET/,
    ],
    [
      'a probe on another port',
      'deployment.yaml',
      (raw) => (apiContainer(raw).readinessProbe!.httpGet!.port = 8080),
      /readinessProbe does not reach/,
    ],
    [
      "a readiness timeout below the database check's",
      'deployment.yaml',
      (raw) => (apiContainer(raw).readinessProbe!.timeoutSeconds = 1),
      /timeoutSeconds/,
    ],
    [
      'a startup probe that gives up before the database retries do',
      'deployment.yaml',
      (raw) => (apiContainer(raw).startupProbe!.failureThreshold = 10),
      /startupProbe allows/,
    ],
    [
      'a variable the app does not read',
      'configmap.yaml',
      (raw) => (configMap(raw).DB_POOL_SIZE = '10'),
      /DB_POOL_SIZE/,
    ],
    [
      'an invalid value',
      'configmap.yaml',
      (raw) => (configMap(raw).SHUTDOWN_TIMEOUT_MS = 'soon'),
      /does not start the app: SHUTDOWN_TIMEOUT_MS/,
    ],
    [
      'a missing Secret key',
      'deployment.yaml',
      (raw) => (apiContainer(raw).env![1].valueFrom!.secretKeyRef!.key = 'JWT'),
      /missing Secret key tasks-api\/JWT/,
    ],
    [
      'a Job connecting through the pooler',
      'migration-job.yaml',
      (raw) => (jobContainer(raw).env![0].valueFrom!.secretKeyRef!.key = 'DATABASE_URL'),
      /DATABASE_URL_UNPOOLED/,
    ],
    [
      'a Deployment connecting to the direct host',
      'deployment.yaml',
      (raw) =>
        (apiContainer(raw).env![0].valueFrom!.secretKeyRef = {
          name: 'tasks-api-migrations',
          key: 'DATABASE_URL_UNPOOLED',
        }),
      /pooled/,
    ],
    [
      "the Deployment reading the migrations' Secret",
      'deployment.yaml',
      (raw) => apiContainer(raw).envFrom!.push({ secretRef: { name: 'tasks-api-migrations' } }),
      /Deployment must not read the migrations' Secret tasks-api-migrations/,
    ],
    [
      'a Job granting another role than the one the app connects as',
      'migration-job.yaml',
      (raw) => (jobContainer(raw).env![1].value = 'tasks_reader'),
      /DATABASE_APP_ROLE \(tasks_reader\) must be the user of the Deployment's DATABASE_URL \(tasks_app\)/,
    ],
    [
      'the app connecting as the schema owner',
      EXAMPLE_SECRET,
      (raw) => {
        const values = (raw as { stringData: Record<string, string> }).stringData;
        values.DATABASE_URL = values.DATABASE_URL.replace('tasks_app:', 'neondb_owner:');
      },
      /must not connect as the schema owner \(neondb_owner\)/,
    ],
    [
      "a Job deadline shorter than a migration's lock retries",
      'migration-job.yaml',
      (raw) => ((raw as unknown as IJob).spec!.activeDeadlineSeconds = 60),
      /activeDeadlineSeconds \(60 s\) must leave room/,
    ],
    [
      'a Service selecting other pods',
      'service.yaml',
      (raw) => ((raw.spec as { selector: Record<string, string> }).selector['app.kubernetes.io/component'] = 'web'),
      /Service selector misses/,
    ],
    [
      'a PDB counting migration pods',
      'pdb.yaml',
      (raw) =>
        ((raw.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels[
          'app.kubernetes.io/component'
        ] = 'migrations'),
      /PodDisruptionBudget/,
    ],
    [
      'an HPA scaling something else',
      'hpa.yaml',
      (raw) => ((raw.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name = 'tasks'),
      /HorizontalPodAutoscaler does not target/,
    ],
    [
      'a grace period shorter than the shutdown',
      'deployment.yaml',
      (raw) => (deployment(raw).spec!.template.spec!.terminationGracePeriodSeconds = 30),
      /terminationGracePeriodSeconds 30/,
    ],
    [
      'a drain longer than the grace period allows',
      'configmap.yaml',
      (raw) => (configMap(raw).SHUTDOWN_DRAIN_MS = '30000'),
      /terminationGracePeriodSeconds/,
    ],
    [
      'a rolling update that may take pods away',
      'deployment.yaml',
      (raw) => (deployment(raw).spec!.strategy!.rollingUpdate!.maxUnavailable = 1),
      /maxUnavailable/,
    ],
    [
      'a Job running another command',
      'migration-job.yaml',
      (raw) => (jobContainer(raw).command = ['npx', 'typeorm', 'migration:run']),
      /migration command/,
    ],
    [
      'a writable root file system',
      'migration-job.yaml',
      (raw) => (jobContainer(raw).securityContext!.readOnlyRootFilesystem = false),
      /Job must set readOnlyRootFilesystem/,
    ],
    [
      "no numeric user for the image's USER node",
      'deployment.yaml',
      (raw) => delete deployment(raw).spec!.template.spec!.securityContext!.runAsUser,
      /runAsUser/,
    ],
    [
      'a heap as large as the memory limit',
      'deployment.yaml',
      (raw) => (apiContainer(raw).env![2].value = '--max-old-space-size=512'),
      /max-old-space-size/,
    ],
    [
      'no METRICS_PORT: /metrics on the API port',
      'configmap.yaml',
      (raw) => delete configMap(raw).METRICS_PORT,
      /must set METRICS_PORT/,
    ],
    [
      'a metrics container port other than METRICS_PORT',
      'deployment.yaml',
      (raw) => (apiContainer(raw).ports![1].containerPort = 9100),
      /container port metrics/,
    ],
    [
      'Prometheus told to scrape the API port',
      'deployment.yaml',
      (raw) => (deployment(raw).spec!.template.metadata!.annotations!['prometheus.io/port'] = '3000'),
      /prometheus\.io annotations/,
    ],
    [
      'a NetworkPolicy on other pods',
      'networkpolicy.yaml',
      (raw) =>
        ((raw as unknown as INetworkPolicy).spec!.podSelector.matchLabels!['app.kubernetes.io/component'] = 'web'),
      /does not select the API pods/,
    ],
    [
      'an API rule open to every source',
      'networkpolicy.yaml',
      (raw) => delete policyRules(raw)[0].from,
      /every source/,
    ],
    [
      'a metrics rule open to every port',
      'networkpolicy.yaml',
      (raw) => delete policyRules(raw)[1].ports,
      /every port/,
    ],
    [
      'the metrics port opened to the ingress namespace',
      'networkpolicy.yaml',
      (raw) => policyRules(raw)[0].ports!.push({ port: 'metrics', protocol: 'TCP' }),
      /only monitoring to the metrics port \(9464\); it admits ingress-nginx, monitoring/,
    ],
    [
      'the API port opened to the monitoring namespace',
      'networkpolicy.yaml',
      (raw) => (policyRules(raw)[1].ports![0].port = 'http'),
      /only ingress-nginx to the API port \(3000\); it admits ingress-nginx, monitoring/,
    ],
    [
      'an API rule admitting an IP block',
      'networkpolicy.yaml',
      (raw) => policyRules(raw)[0].from!.push({ ipBlock: { cidr: '0.0.0.0/0' } }),
      /not one namespace by name/,
    ],
    [
      'TRUST_PROXY true',
      'configmap.yaml',
      (raw) => (configMap(raw).TRUST_PROXY = 'true'),
      /does not start the app: TRUST_PROXY=true .* refused in production/,
    ],
    [
      'TRUST_PROXY as a hop count',
      'configmap.yaml',
      (raw) => (configMap(raw).TRUST_PROXY = '1'),
      /TRUST_PROXY must list/,
    ],
    [
      'TRUST_PROXY trusting every address',
      'configmap.yaml',
      (raw) => (configMap(raw).TRUST_PROXY = '0.0.0.0/0'),
      /TRUST_PROXY trusts public addresses \(203\.0\.113\.9/,
    ],
    [
      'kustomize applying the example Secret',
      'kustomization.yaml',
      (raw) => (raw.resources as string[]).push(EXAMPLE_SECRET),
      /must not apply secret\.example\.yaml/,
    ],
  ];

  it.each(breakages)('catches %s', (_name, file, breakIt, problem) => {
    const broken = structuredClone(files);
    const target = broken.find((entry) => entry.file === file)!;
    breakIt(target.docs[0]);
    expect(checkManifests(broken, image)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });
});
