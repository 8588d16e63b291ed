// A small raw Hush client for the server's integration tests, built only from @hush/protocol and
// @hush/crypto: handshake, then sealed messages; an inbox the tests await messages from.
import { connect, type Socket } from 'node:net';
import {
  bundleToWire, handshakeFromWire, handshakeToWire, MessageChannel, SUPPORTED_VERSIONS, toBase64Url,
  type ClientMessage, type ServerMessage,
} from '@hush/protocol';
import { ClientHandshake, DeviceIdentity, signDeviceLogin } from '@hush/crypto';

type Waiter = { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void };
type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type ClientRequest = Without<Extract<ClientMessage, { id: string }>, 'id'>;

let nextRequest = 1;

export class TestClient {
  // The server's default frame limit, so batched sends split where the server expects.
  readonly channel = new MessageChannel({ peer: 'server', maxFrameSize: 256 * 1024 });
  readonly inbox: ServerMessage[] = [];
  readonly errors: unknown[] = [];
  sessionId: Uint8Array = new Uint8Array(0);
  fingerprint = '';
  device: DeviceIdentity = DeviceIdentity.generate();
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  isClosed = false;
  private waiters: Waiter[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.channel.receive(chunk)) this.deliver(m);
      } catch (error) {
        this.errors.push(error);
      }
    });
    socket.on('error', (error) => this.errors.push(error));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  /** TCP connection only (no handshake). */
  static async raw(port: number, host = '127.0.0.1'): Promise<TestClient> {
    const socket = connect({ port, host, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  /** Connects and completes the handshake. */
  static async connect(port: number, host = '127.0.0.1'): Promise<TestClient> {
    const client = await TestClient.raw(port, host);
    await client.handshake();
    return client;
  }

  async handshake(): Promise<void> {
    const hs = new ClientHandshake({ versions: [...SUPPORTED_VERSIONS] });
    const hello = hs.start();
    this.writePlain(handshakeToWire('client_hello', hello));
    const reply = await this.next('server_hello');
    if (reply.type !== 'server_hello') throw new Error('unreachable');
    const { finished, result } = hs.receive(handshakeFromWire(reply));
    this.writePlain(handshakeToWire('client_finished', finished));
    this.channel.upgrade(result.cipher);
    this.sessionId = result.sessionId;
    this.fingerprint = result.fingerprint;
  }

  writePlain(message: ClientMessage): void {
    for (const frame of this.channel.frame([message])) this.socket.write(frame);
  }

  /** Sends messages (sealed once the handshake is done) in one record. */
  send(...messages: ClientMessage[]): void {
    for (const frame of this.channel.frame(messages)) this.socket.write(frame);
  }

  /** Sends arbitrary JSON text as one sealed record (for schema tests). */
  sendText(text: string): void {
    for (const frame of this.channel.frame([text])) this.socket.write(frame);
  }

  /** Sends a request with a fresh id; resolves with the reply carrying that id. */
  async request(message: ClientRequest, timeoutMs = 5000): Promise<ServerMessage> {
    const id = `r${nextRequest++}`;
    this.send({ ...message, id } as ClientMessage);
    return this.next((m) => 're' in m && m.re === id, timeoutMs);
  }

  /** Like request, but throws unless the reply has type `type`. */
  async expect<T extends ServerMessage['type']>(message: ClientRequest, type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const reply = await this.request(message);
    if (reply.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(reply)}`);
    return reply as Extract<ServerMessage, { type: T }>;
  }

  /** The first message (already received or to come) matching; removed from the inbox. */
  next(match: ServerMessage['type'] | ((m: ServerMessage) => boolean), timeoutMs = 5000): Promise<ServerMessage> {
    const test = typeof match === 'string' ? (m: ServerMessage) => m.type === match : match;
    const index = this.inbox.findIndex(test);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { match: test, resolve: (m) => { clearTimeout(timer); resolve(m); } };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting; inbox: ${this.inbox.map((m) => (m.type === 'goodbye' || m.type === 'error' ? `${m.type}:${m.code}` : m.type)).join(',')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Every message received so far matching, removed from the inbox. */
  take(match: (m: ServerMessage) => boolean): ServerMessage[] {
    const out = this.inbox.filter(match);
    for (const m of out) this.inbox.splice(this.inbox.indexOf(m), 1);
    return out;
  }

  async register(username: string, password = 'correct horse battery'): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    return this.expect({ type: 'register', username, password, device: this.bundle() }, 'welcome');
  }

  async login(username: string, password = 'correct horse battery'): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    return this.expect({ type: 'login', username, password, device: this.bundle() }, 'welcome');
  }

  /** `since`: the newest DM id this device says it received. */
  deviceLoginRequest(username: string, since?: string): ClientRequest {
    const signature = signDeviceLogin(this.device, this.sessionId, username, new Uint8Array(0));
    return {
      type: 'device_login', username, signKey: toBase64Url(this.device.signPublicKey), signature: toBase64Url(signature),
      ...(since === undefined ? {} : { since }),
    };
  }

  bundle() {
    return bundleToWire(this.device.bundle());
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private deliver(m: ServerMessage): void {
    const waiter = this.waiters.find((w) => w.match(m));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(m);
      return;
    }
    this.inbox.push(m);
  }
}

/** Connects, handshakes and registers `username`. */
export async function registered(port: number, username: string): Promise<TestClient> {
  const client = await TestClient.connect(port);
  await client.register(username);
  return client;
}
