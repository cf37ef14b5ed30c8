import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import type { AppConfig } from '../../src/config/configuration';
import { trustProxyOption } from '../../src/http/trust-proxy';

// Who deploy/k8s/networkpolicy.yaml is meant to admit, by namespace name (the label Kubernetes sets on
// every namespace), to which of the app's ports.
export const INGRESS_NAMESPACE = 'ingress-nginx';
export const MONITORING_NAMESPACE = 'monitoring';
const NAMESPACE_LABEL = 'kubernetes.io/metadata.name';

export interface NetworkManifests {
  deployment: IDeployment;
  service: IService;
  networkPolicy: INetworkPolicy;
  /** The migration Job's pod labels: no rule is meant for those pods. */
  jobLabels: Record<string, string>;
}

/**
 * Every problem with how the API pods are reached: /metrics on a port of its own that the app, the
 * container, the Service and Prometheus' annotations agree on, and a NetworkPolicy that admits only the
 * ingress controller's namespace to PORT and only the monitoring namespace to METRICS_PORT.
 */
export function checkNetworkAccess(m: NetworkManifests, api: IContainer, app: AppConfig): string[] {
  const problems: string[] = [];
  const expect = (ok: unknown, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const { port, metricsPort } = app.http;
  const portNumber = (value: number | string | undefined) =>
    typeof value === 'number' ? value : api.ports?.find((entry) => entry.name === value)?.containerPort;

  // A NetworkPolicy sees ports, not paths: /metrics on PORT would be open to whoever reaches the API.
  if (metricsPort === undefined || metricsPort === port) {
    return ['the ConfigMap must set METRICS_PORT, or /metrics is served on the API port the ingress reaches'];
  }
  expect(portNumber('metrics') === metricsPort, `container port metrics is not METRICS_PORT (${metricsPort})`);
  const annotations = m.deployment.spec?.template.metadata?.annotations ?? {};
  expect(
    annotations['prometheus.io/port'] === String(metricsPort) && annotations['prometheus.io/path'] === '/metrics',
    `the prometheus.io annotations must name port ${metricsPort} and path /metrics`,
  );
  for (const entry of m.service.spec?.ports ?? []) {
    const target = portNumber(entry.targetPort);
    expect(
      target === port || target === metricsPort,
      `Service port ${entry.name} reaches neither PORT nor METRICS_PORT`,
    );
  }

  const spec = m.networkPolicy.spec;
  const selector = spec?.podSelector.matchLabels ?? {};
  const selects = (labels: Record<string, string> | undefined) =>
    Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value);
  expect(selects(m.deployment.spec?.template.metadata?.labels), 'the NetworkPolicy does not select the API pods');
  expect(!selects(m.jobLabels), 'the NetworkPolicy also selects the migration pods');
  expect(spec?.policyTypes?.includes('Ingress'), 'the NetworkPolicy must list Ingress in policyTypes');

  // Which namespace may reach which port, rule by rule; a rule without `from` or `ports` admits everyone
  // or every port.
  const admitted = new Map<number, Set<string>>([
    [port, new Set()],
    [metricsPort, new Set()],
  ]);
  (spec?.ingress ?? []).forEach((rule, index) => {
    if (!rule.from?.length) return problems.push(`NetworkPolicy rule ${index} admits every source (no from)`);
    if (!rule.ports?.length) return problems.push(`NetworkPolicy rule ${index} opens every port (no ports)`);
    const namespaces = rule.from.map((peer) => {
      const labels = peer.namespaceSelector?.matchLabels ?? {};
      const exact = !peer.ipBlock && !peer.namespaceSelector?.matchExpressions && Object.keys(labels).length === 1;
      return exact ? labels[NAMESPACE_LABEL] : undefined;
    });
    if (namespaces.some((name) => name === undefined)) {
      return problems.push(`NetworkPolicy rule ${index} admits a peer that is not one namespace by name`);
    }
    for (const entry of rule.ports) {
      const number = portNumber(entry.port);
      if (number === undefined || !admitted.has(number) || entry.endPort !== undefined) {
        problems.push(`NetworkPolicy rule ${index} opens port ${entry.port}, which is neither PORT nor METRICS_PORT`);
        continue;
      }
      for (const name of namespaces) admitted.get(number)!.add(name!);
    }
  });
  const only = (number: number, namespace: string, what: string) => {
    const names = [...admitted.get(number)!];
    expect(
      names.length === 1 && names[0] === namespace,
      `the NetworkPolicy must admit only ${namespace} to ${what} (${number}); it admits ${names.join(', ') || 'nobody'}`,
    );
  };
  only(port, INGRESS_NAMESPACE, 'the API port');
  only(metricsPort, MONITORING_NAMESPACE, 'the metrics port');
  problems.push(...checkTrustProxy(app));
  return problems;
}

// Addresses real clients connect from (documentation ranges); a trusted one could name any client address.
const PUBLIC_ADDRESSES = ['203.0.113.9', '198.51.100.7', '8.8.8.8', '2001:db8::1'];

/**
 * Behind the ingress, the app must believe X-Forwarded-For from the ingress controller's pods and from no
 * one else: an address list (a hop count or `true` believes whoever reaches a pod) that trusts no public address.
 */
export function checkTrustProxy(app: AppConfig): string[] {
  const trust = app.http.trustProxy;
  if (!Array.isArray(trust)) {
    return [
      `the ConfigMap's TRUST_PROXY must list the ingress controller's addresses/CIDRs, not ${String(trust)}: ` +
        'true or a hop count believes X-Forwarded-For from whoever reaches a pod',
    ];
  }
  const believes = trustProxyOption(trust) as (address: string, hop: number) => boolean;
  const trusted = PUBLIC_ADDRESSES.filter((address) => believes(address, 0));
  return trusted.length === 0 ? [] : [`TRUST_PROXY trusts public addresses (${trusted.join(', ')})`];
}
