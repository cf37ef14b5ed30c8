import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * `pass`: forwards both ways. `blackhole`: a network partition — new connections are accepted but never
 * reach the target, and nothing moves on open ones (both sides' bytes wait, as unacknowledged TCP
 * segments would); back to `pass`, everything flows again as after a healed partition. `delay`: new
 * connections reach the target only after `delayMs` (a compute waking up); open ones are unaffected.
 */
export type ProxyMode = 'pass' | 'blackhole' | 'delay';

interface Link {
  client: Socket;
  upstream?: Socket;
  /** Bytes held back during a partition, per direction. */
  held: { up: Buffer[]; down: Buffer[] };
}

/** A TCP proxy on 127.0.0.1 in front of a server, whose behaviour a test switches at run time. */
export class TcpProxy {
  /** Connections accepted so far. */
  accepted = 0;
  private mode: ProxyMode = 'pass';
  private delayMs = 0;
  private readonly links = new Set<Link>();
  private readonly pending = new Set<Link>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host?: string; port: number }): Promise<TcpProxy> {
    const accepting: { proxy?: TcpProxy } = {};
    const server = createServer((client) => accepting.proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== 'object') throw new Error('proxy has no address');
    accepting.proxy = new TcpProxy(server, address.port, { host: target.host ?? '127.0.0.1', port: target.port });
    return accepting.proxy;
  }

  get connections(): number {
    return this.links.size;
  }

  /** The same URL, pointed at this proxy. */
  url(targetUrl: string): string {
    const parsed = new URL(targetUrl);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  setMode(mode: ProxyMode, delayMs = 0): void {
    this.mode = mode;
    this.delayMs = delayMs;
    if (mode === 'blackhole') return;
    for (const link of this.links) {
      if (!link.upstream) continue;
      for (const chunk of link.held.up.splice(0)) link.upstream.write(chunk);
      for (const chunk of link.held.down.splice(0)) link.client.write(chunk);
    }
    // Connections that arrived during the partition reach the target now, as retransmitted SYNs would.
    for (const link of [...this.pending]) this.link(link, 0);
  }

  /** Drops every open connection (both sides see a reset). */
  resetAll(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted += 1;
    const link: Link = { client, held: { up: [], down: [] } };
    this.links.add(link);
    client.pause();
    const drop = () => {
      this.links.delete(link);
      this.pending.delete(link);
      client.destroy();
      link.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    if (this.mode === 'blackhole') this.pending.add(link);
    else this.link(link, this.mode === 'delay' ? this.delayMs : 0);
  }

  private forward(chunk: Buffer, held: Buffer[], to: Socket): void {
    if (this.mode === 'blackhole') held.push(chunk);
    else to.write(chunk);
  }

  private link(link: Link, delayMs: number): void {
    this.pending.delete(link);
    setTimeout(() => {
      if (link.client.destroyed) return;
      const upstream = connect(this.target.port, this.target.host);
      link.upstream = upstream;
      upstream.on('error', () => link.client.destroy());
      upstream.on('close', () => link.client.destroy());
      upstream.once('connect', () => {
        link.client.on('data', (chunk: Buffer) => this.forward(chunk, link.held.up, upstream));
        upstream.on('data', (chunk: Buffer) => this.forward(chunk, link.held.down, link.client));
        link.client.resume();
      });
    }, delayMs);
  }
}
