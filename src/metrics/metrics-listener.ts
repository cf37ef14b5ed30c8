import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { sendProblem } from '../http/problem-details';

const METRICS_ROUTE = '/metrics';

// Requests that came in on the metrics listener; every other request came in on PORT.
const viaMetricsListener = new WeakSet<IncomingMessage>();

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

/**
 * With METRICS_PORT set, /metrics is answered on its own listener only and that listener answers nothing
 * else (404, as for an unknown route), so a NetworkPolicy can open the API port to the ingress controller
 * and the metrics port to the monitoring namespace: NetworkPolicy sees ports, not paths.
 */
export function keepMetricsOnItsOwnListener(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (viaMetricsListener.has(request.raw) === (request.routeOptions.url === METRICS_ROUTE)) return done();
    sendProblem(request, reply, 404, `Cannot ${request.method} ${request.url.split('?')[0]}`);
  });
}

/**
 * A second HTTP server in front of the same Fastify instance (its `routing`), so answers there get the
 * same hooks as on PORT: request id, security headers, problem+json, access log.
 */
export async function listenForMetrics(fastify: FastifyInstance, host: string, port: number): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    viaMetricsListener.add(request);
    fastify.routing(request, response);
  });
  const api = fastify.server;
  for (const listener of api.listeners('clientError')) server.on('clientError', listener as () => void);
  server.requestTimeout = api.requestTimeout;
  server.headersTimeout = api.headersTimeout;
  server.keepAliveTimeout = api.keepAliveTimeout;
  server.timeout = api.timeout;

  server.listen(port, host);
  await once(server, 'listening'); // rejects on 'error' (a port in use)
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
