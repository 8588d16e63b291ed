// A raw Hush client for attacks the SDK would refuse to make: built only from @hush/protocol
// (MessageChannel, framing) and @hush/crypto (ClientHandshake). After the handshake it can seal any
// bytes with its real session cipher, so the server has to parse whatever the test sends.
import { connect, type Socket } from 'node:net';
import { ClientHandshake, DeviceIdentity, type HandshakeResult } from '@hush/crypto';
import {
  bundleToWire, encodeFrame, handshakeFromWire, handshakeToWire, MessageChannel, SUPPORTED_VERSIONS,
  type ClientMessage, type ServerMessage,
} from '@hush/protocol';

export { toBase64Url as b64, fromBase64Url as unb64 } from '@hush/protocol';

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void };

let nextId = 1;

export class RawClient {
  readonly channel: MessageChannel<'server'>;
  readonly inbox: ServerMessage[] = [];
  /** Messages received, by type; error and goodbye codes, by code. */
  readonly counts = new Map<string, number>();
  readonly codes = new Map<string, number>();
  /** Decoding failures of what the server sent (a healthy server causes none). */
  readonly decodeErrors: unknown[] = [];
  readonly closed: Promise<void>;
  isClosed = false;
  session: HandshakeResult | undefined;
  readonly device = DeviceIdentity.generate();
  private waiters: Waiter[] = [];

  private constructor(readonly socket: Socket, maxFrameSize: number) {
    this.channel = new MessageChannel({ peer: 'server', maxFrameSize });
    socket.on('data', (chunk: Buffer) => {
      let messages: ServerMessage[];
      try {
        messages = this.channel.receive(chunk);
      } catch (error) {
        this.decodeErrors.push(error);
        socket.destroy();
        return;
      }
      for (const m of messages) this.deliver(m);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  /** TCP only. */
  static async raw(port: number, options: { host?: string; maxFrameSize?: number } = {}): Promise<RawClient> {
    const socket = connect({ port, host: options.host ?? '127.0.0.1', noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket, options.maxFrameSize ?? 1024 * 1024);
  }

  /** TCP + handshake. */
  static async connect(port: number, options: { host?: string; versions?: number[]; maxFrameSize?: number } = {}): Promise<RawClient> {
    const client = await RawClient.raw(port, options);
    try {
      await client.handshake(options.versions ?? [...SUPPORTED_VERSIONS]);
    } catch (error) {
      client.socket.destroy();
      throw error;
    }
    return client;
  }

  async handshake(versions: number[]): Promise<HandshakeResult> {
    const hs = new ClientHandshake({ versions });
    const hello = hs.start();
    this.writePlain(handshakeToWire('client_hello', hello));
    const reply = await this.next((m) => m.type === 'server_hello' || m.type === 'goodbye');
    if (reply.type !== 'server_hello') throw new Error(`handshake refused: ${JSON.stringify(reply)}`);
    const { finished, result } = hs.receive(handshakeFromWire(reply));
    this.writePlain(handshakeToWire('client_finished', finished));
    this.channel.upgrade(result.cipher);
    this.session = result;
    return result;
  }

  writePlain(message: ClientMessage): void {
    for (const f of this.channel.frame([message])) this.socket.write(f);
  }

  /** Messages (objects or raw JSON lines) in as few sealed records as fit. */
  send(messages: ReadonlyArray<ClientMessage | string>): boolean {
    let ok = true;
    for (const f of this.channel.frame(messages)) ok = this.socket.write(f);
    return ok;
  }

  /** Seals arbitrary bytes as one record with the real session cipher. */
  sealRaw(plaintext: Uint8Array): Buffer {
    if (!this.session) throw new Error('no session');
    return encodeFrame(this.session.cipher.seal(plaintext));
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  async request(message: Record<string, unknown>, timeoutMs = 5000): Promise<ServerMessage> {
    const id = `n${nextId++}`;
    this.send([{ ...message, id } as ClientMessage]);
    return this.next((m) => 're' in m && m.re === id, timeoutMs);
  }

  async register(username: string, password = 'correct horse battery staple'): Promise<ServerMessage> {
    const reply = await this.request({ type: 'register', username, password, device: this.bundle() });
    if (reply.type !== 'welcome') throw new Error(`register failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  bundle(): { signKey: string; boxKey: string; signature: string } {
    return bundleToWire(this.device.bundle());
  }

  /** Round trip of a ping (ms). */
  async ping(timeoutMs = 5000): Promise<number> {
    const nonce = `p${nextId++}`;
    const start = performance.now();
    this.send([{ type: 'ping', nonce }]);
    await this.next((m) => m.type === 'pong' && m.nonce === nonce, timeoutMs);
    return performance.now() - start;
  }

  next(match: (m: ServerMessage) => boolean, timeoutMs = 5000): Promise<ServerMessage> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out; closed=${this.isClosed}; inbox: ${this.inbox.slice(-5).map(describe).join(',')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private deliver(m: ServerMessage): void {
    this.counts.set(m.type, (this.counts.get(m.type) ?? 0) + 1);
    if (m.type === 'error' || m.type === 'goodbye') this.codes.set(m.code, (this.codes.get(m.code) ?? 0) + 1);
    const waiter = this.waiters.find((w) => w.match(m));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(m);
      return;
    }
    this.inbox.push(m);
    // Bounded: fuzz clients get many replies nobody waits for.
    if (this.inbox.length > 10_000) this.inbox.splice(0, this.inbox.length - 10_000);
  }
}

export function describe(m: ServerMessage): string {
  return m.type === 'goodbye' || m.type === 'error' ? `${m.type}:${m.code}` : m.type;
}
