// A TCP relay a test can cut (drop every connection, refuse new ones), heal, or make swallow what the
// server sends (bytes the server believes delivered that never arrive, as on a dying network).
import { connect, createServer, type Server, type Socket } from 'node:net';

export class CutProxy {
  port = 0;
  /** Connections refused while cut: a client's reconnect attempts. */
  refused = 0;
  /** Connections taken and relayed (or, stalled, swallowed). */
  accepted = 0;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private refusing = false;
  private swallowing = false;
  private stalled = false;
  private holding = false;

  private constructor(private readonly target: { host: string; port: number }) {
    // Half-open: a client's end is passed on by hand, so that hold() can leave it unanswered.
    this.server = createServer({ allowHalfOpen: true }, (client) => this.relay(client));
  }

  static async start(target: { host: string; port: number }): Promise<CutProxy> {
    const proxy = new CutProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    proxy.port = address.port;
    return proxy;
  }

  get host(): string {
    return '127.0.0.1';
  }

  /** Drops every open connection and refuses new ones until heal(). */
  cut(): void {
    this.refusing = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** From now on, bytes from the server are read and thrown away. */
  swallow(): void {
    this.swallowing = true;
  }

  /** From now on, bytes either way are thrown away: a network that died without closing anything. */
  stall(): void {
    this.stalled = true;
  }

  /** From now on, a client that ends its connection is left waiting: nobody closes the other side. */
  hold(): void {
    this.holding = true;
  }

  heal(): void {
    this.refusing = false;
    this.swallowing = false;
    this.stalled = false;
    this.holding = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private relay(client: Socket): void {
    if (this.refusing) {
      this.refused++;
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect(this.target);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => {
      if (!this.stalled) upstream.write(d);
    });
    client.on('end', () => {
      if (!this.holding) end();
    });
    upstream.on('data', (d) => {
      if (!this.swallowing && !this.stalled) client.write(d);
    });
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
  }
}
