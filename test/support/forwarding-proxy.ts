import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP reverse proxy in front of the app, as an ingress controller is: it connects to the app from its
 * own address (`from`, 127.0.0.2 by default: Linux answers for all of 127.0.0.0/8) and appends the address
 * its client connected from to `X-Forwarded-For`, keeping what the client sent (nginx's
 * `$proxy_add_x_forwarded_for`), so a forged entry reaches the app as it would through such a proxy.
 */
export class ForwardingProxy {
  private constructor(
    private readonly server: Server,
    private readonly upstream: Agent,
    readonly url: string,
  ) {}

  static async start(target: string, from = '127.0.0.2'): Promise<ForwardingProxy> {
    const { hostname, port } = new URL(target);
    const upstream = new Agent({ keepAlive: true, localAddress: from });
    const server = createServer((incoming, outgoing) => {
      const forwardedFor = [incoming.headers['x-forwarded-for'], incoming.socket.remoteAddress]
        .filter(Boolean)
        .join(', ');
      const headers: IncomingHttpHeaders = { ...incoming.headers, 'x-forwarded-for': forwardedFor };
      const proxied = request(
        { host: hostname, port, method: incoming.method, path: incoming.url, headers, agent: upstream },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      proxied.on('error', () => outgoing.destroy());
      incoming.pipe(proxied);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as AddressInfo;
    return new ForwardingProxy(server, upstream, `http://127.0.0.1:${address.port}`);
  }

  async close(): Promise<void> {
    this.upstream.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An HTTP agent whose connections leave from `address` (one of 127.0.0.0/8): one client, one address. */
export function clientAt(address: string): Agent {
  return new Agent({ keepAlive: false, localAddress: address });
}
