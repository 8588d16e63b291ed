// A frame-aware TCP man in the middle for the network attacks: listens on 127.0.0.1:0, forwards
// every connection to the target, splits each direction into frames (4-byte big-endian length +
// payload) and lets a test rewrite, inject, drop, hold or truncate frames by connection, direction
// and index. It also records every byte both ways (wire capture).
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Direction = 'c2s' | 's2c';

export interface FrameContext {
  /** 0 for the first connection through the proxy, 1 for the next... */
  conn: number;
  dir: Direction;
  /** Index of the frame in this direction of this connection (0 = first). */
  index: number;
  payload: Buffer;
}

/**
 * What to do with a frame: pass it, drop it, send other payloads instead (each framed with a
 * correct header; several = inject, none = drop), or write raw bytes (a forged header, a cut).
 */
export type FrameVerdict = 'forward' | 'drop' | { payloads: Buffer[] } | { raw: Buffer };
export type FrameHook = (frame: FrameContext) => FrameVerdict;

export interface ProxyConnection {
  conn: number;
  client: Socket;
  upstream: Socket;
  /** Resolves once both sides are closed. */
  closed: Promise<void>;
}

export function frame(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const length = this.buffered.readUInt32BE(0);
      if (this.buffered.length < 4 + length) break;
      out.push(Buffer.from(this.buffered.subarray(4, 4 + length)));
      this.buffered = this.buffered.subarray(4 + length);
    }
    return out;
  }
}

export class FrameProxy {
  readonly connections: ProxyConnection[] = [];
  /** Every byte that crossed the proxy, per direction, in order. */
  readonly captured: Record<Direction, Buffer[]> = { c2s: [], s2c: [] };
  /** Rewrites frames; default: forward everything. Replace it at any time. */
  hook: FrameHook = () => 'forward';
  /** Where new connections go (a test can point the proxy at another server). */
  target: { host: string; port: number };
  private server: Server | undefined;
  private count = 0;
  private readonly seen = new Map<string, number>();
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  static async start(target: { host: string; port: number }): Promise<FrameProxy> {
    const proxy = new FrameProxy(target);
    await proxy.listen();
    return proxy;
  }

  get host(): string {
    return '127.0.0.1';
  }

  /** All captured bytes of one direction (or both) as one buffer. */
  wire(dir?: Direction): Buffer {
    if (dir) return Buffer.concat(this.captured[dir]);
    return Buffer.concat([...this.captured.c2s, ...this.captured.s2c]);
  }

  private listen(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => {
        const address = this.server!.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve();
      });
    });
  }

  private accept(client: Socket): void {
    const conn = this.count++;
    client.setNoDelay(true);
    client.pause();
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const done = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
    const entry: ProxyConnection = { conn, client, upstream, closed: Promise.all([done(client), done(upstream)]).then(() => undefined) };
    this.connections.push(entry);
    upstream.once('connect', () => client.resume());
    this.pipe(conn, 'c2s', client, upstream);
    this.pipe(conn, 's2c', upstream, client);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', kill);
    upstream.on('close', kill);
  }

  private pipe(conn: number, dir: Direction, from: Socket, to: Socket): void {
    const splitter = new FrameSplitter();
    let index = 0;
    from.on('data', (chunk: Buffer) => {
      for (const payload of splitter.push(chunk)) {
        this.seen.set(`${conn}:${dir}`, index + 1);
        const verdict = this.hook({ conn, dir, index: index++, payload });
        let out: Buffer;
        if (verdict === 'forward') out = frame(payload);
        else if (verdict === 'drop') continue;
        else if ('raw' in verdict) out = verdict.raw;
        else out = Buffer.concat(verdict.payloads.map(frame));
        if (out.length === 0 || to.destroyed) continue;
        this.captured[dir].push(out);
        to.write(out);
      }
    });
  }

  /** Frames the proxy received from one side of a connection (before the hook). */
  framesSeen(conn: number, dir: Direction): number {
    return this.seen.get(`${conn}:${dir}`) ?? 0;
  }

  /** Writes a frame into one direction of a connection, as if that side had sent it. */
  inject(conn: number, dir: Direction, payload: Buffer): void {
    const c = this.connections[conn];
    if (!c) throw new Error(`no connection ${conn}`);
    const to = dir === 'c2s' ? c.upstream : c.client;
    const out = frame(payload);
    this.captured[dir].push(out);
    to.write(out);
  }

  /** Drops every open connection (both sides), as a network cut would. */
  cutAll(): void {
    for (const c of this.connections) {
      c.client.destroy();
      c.upstream.destroy();
    }
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await Promise.all(this.connections.map((c) => c.closed));
  }
}

/** JSON of a plaintext (handshake) frame, or undefined when the frame is not JSON. */
export function handshakeJson(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function jsonPayload(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
