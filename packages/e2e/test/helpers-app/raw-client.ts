// A raw protocol client for attacks: real handshake (@hush/crypto) and the shared MessageChannel,
// but it sends whatever JSON it is given (extra fields, foreign names, hostile text) and lets the
// test read every reply. It pins nothing and checks nothing beyond the handshake itself.
import { connect as netConnect, type Socket } from 'node:net';
import { ClientHandshake, DeviceIdentity, type HandshakeResult } from '@hush/crypto';
import {
  bundleToWire, handshakeFromWire, handshakeToWire, MessageChannel, SUPPORTED_VERSIONS, type DeviceBundleWire, type ServerMessage,
} from '@hush/protocol';

export { toBase64Url as b64, fromBase64Url as unb64 } from '@hush/protocol';

export function bundleWire(device: DeviceIdentity): DeviceBundleWire {
  return bundleToWire(device.bundle());
}

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export interface RawConnectOptions {
  host: string;
  port: number;
  /** Source address (Linux routes all of 127/8 to loopback: distinct "clients" for per-address limits). */
  localAddress?: string;
  timeoutMs?: number;
}

export class RawClient {
  /** Every message received, in order. */
  readonly received: ServerMessage[] = [];
  closed = false;
  device: DeviceIdentity = DeviceIdentity.generate();
  user: string | null = null;
  private waiters: Waiter[] = [];
  private counter = 0;
  private readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: Socket,
    private readonly channel: MessageChannel<'server'>,
    readonly session: HandshakeResult,
  ) {
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get sessionId(): Uint8Array {
    return this.session.sessionId;
  }

  static connect(opts: RawConnectOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
      socket.setNoDelay(true);
      const channel = new MessageChannel({ peer: 'server' });
      const handshake = new ClientHandshake({ versions: [...SUPPORTED_VERSIONS] });
      let client: RawClient | undefined;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('raw client: handshake timeout'));
      }, opts.timeoutMs ?? 5000);
      socket.on('connect', () => {
        const hello = handshake.start();
        socket.write(channel.frame([handshakeToWire('client_hello', hello)])[0]!);
      });
      socket.on('data', (chunk: Buffer) => {
        let messages: ServerMessage[];
        try {
          messages = channel.receive(chunk);
        } catch (error) {
          socket.destroy();
          if (!client) reject(error as Error);
          return;
        }
        if (client) {
          for (const m of messages) client.onMessage(m);
          return;
        }
        const hello = messages[0];
        if (!hello || hello.type !== 'server_hello') {
          socket.destroy();
          reject(new Error(`raw client: expected server_hello, got ${hello?.type}`));
          return;
        }
        const { finished, result } = handshake.receive(handshakeFromWire(hello));
        socket.write(channel.frame([handshakeToWire('client_finished', finished)])[0]!);
        channel.upgrade(result.cipher);
        clearTimeout(timer);
        client = new RawClient(socket, channel, result);
        resolve(client);
        for (const m of channel.receive(new Uint8Array(0))) client.onMessage(m);
      });
      socket.on('error', (error) => {
        if (!client) {
          clearTimeout(timer);
          reject(error);
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (client) client.onClose();
        else reject(new Error('raw client: closed during handshake'));
      });
    });
  }

  /** Sends one JSON object as is (no schema check here: the server is the one being tested). */
  sendRaw(message: Record<string, unknown>): void {
    for (const frame of this.channel.frame([JSON.stringify(message)])) this.socket.write(frame);
  }

  nextId(): string {
    return `x${++this.counter}`;
  }

  /**
   * Sends a request (an id is added unless given) and resolves with its reply: the message whose
   * `re` is the id, or an `error` without `re` (what a message that failed to decode gets).
   */
  request(message: Record<string, unknown>, timeoutMs = 5000): Promise<ServerMessage> {
    const id = typeof message.id === 'string' ? message.id : this.nextId();
    const reply = this.next((m) => ('re' in m && m.re === id) || (m.type === 'error' && m.re === undefined) || m.type === 'goodbye', timeoutMs);
    this.sendRaw({ ...message, id });
    return reply;
  }

  /** Resolves with the next received message passing `match` (also one already received since `from`). */
  next(match: (m: ServerMessage) => boolean, timeoutMs = 5000, from?: number): Promise<ServerMessage> {
    if (from !== undefined) {
      const found = this.received.slice(from).find(match);
      if (found) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('raw client: connection closed'));
        return;
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('raw client: timed out waiting for a message'));
      }, timeoutMs);
      const waiter: Waiter = { match, resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  async register(username: string, password: string): Promise<ServerMessage> {
    const reply = await this.request({ type: 'register', username, password, device: bundleWire(this.device) });
    if (reply.type === 'welcome') this.user = reply.user;
    return reply;
  }

  async login(username: string, password: string, device: DeviceIdentity = this.device): Promise<ServerMessage> {
    const reply = await this.request({ type: 'login', username, password, device: bundleWire(device) });
    if (reply.type === 'welcome') this.user = reply.user;
    return reply;
  }

  /** Ends the connection and waits for the socket to close. */
  async close(): Promise<void> {
    if (!this.socket.destroyed) this.socket.destroy();
    await this.closedPromise;
  }

  /** Resolves when the server closes the connection. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  private onMessage(m: ServerMessage): void {
    this.received.push(m);
    if (m.type === 'ping') this.sendRaw({ type: 'pong', ...(m.nonce === undefined ? {} : { nonce: m.nonce }) });
    for (const w of [...this.waiters]) {
      if (!w.match(m)) continue;
      clearTimeout(w.timer);
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(m);
    }
  }

  private onClose(): void {
    this.closed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('raw client: connection closed'));
    }
    this.waiters = [];
  }
}
