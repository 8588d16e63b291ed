// A raw Hush protocol client for tests: the real handshake (@hush/crypto) and the shared
// MessageChannel, but none of the SDK's rules. It sends whatever it is given (hostile JSON, sealed
// garbage, requests out of order) and lets the test read every reply. Exported by
// `@hush/server/testing`; the server's own tests import it from source.
import { connect, type Socket } from 'node:net';
import { ClientHandshake, DeviceIdentity, signDeviceLogin, type HandshakeResult } from '@hush/crypto';
import {
  bundleToWire,
  encodeDirectEnvelope,
  encodeFrame,
  handshakeFromWire,
  handshakeToWire,
  MessageChannel,
  SUPPORTED_VERSIONS,
  toBase64Url,
  type ClientMessage,
  type DeviceBundleWire,
  type ServerMessage,
} from '@hush/protocol';
import { DEFAULT_LIMITS } from './config.js';

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request without its id (the client adds one). */
export type ClientRequest = Without<Extract<ClientMessage, { id: string }>, 'id'>;
type Match = ServerMessage['type'] | ((m: ServerMessage) => boolean);
type Waiter = { match: (m: ServerMessage) => boolean; resolve(m: ServerMessage): void; reject(e: Error): void; timer: NodeJS.Timeout };

export const TEST_PASSWORD = 'correct horse battery';

export interface RawClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Source address (Linux routes all of 127/8 to loopback: distinct "clients" for per-address limits). */
  localAddress?: string;
  /** Frame limit both ways (default: the server's default, so batched sends split where hushd expects). */
  maxFrameSize?: number;
  /** Versions offered by `connect` (default: all this build supports). */
  versions?: number[];
  /** How long `connect` waits for the handshake (default 5 s). */
  timeoutMs?: number;
  /** Answers the server's pings, as a live client would (default false). */
  answerPings?: boolean;
}

/** How many received messages `received` and `inbox` keep: fuzz clients get many replies nobody reads. */
const KEEP = 100_000;

let nextRequest = 1;

export class RawClient {
  readonly channel: MessageChannel<'server'>;
  /** Received messages nobody has taken yet (`next`, `request`, `take` remove them). */
  readonly inbox: ServerMessage[] = [];
  /** Every message received, in order (`waitFor` reads it and removes nothing). */
  readonly received: ServerMessage[] = [];
  /** Messages received, by type; error and goodbye codes, by code. */
  readonly counts = new Map<string, number>();
  readonly codes = new Map<string, number>();
  /** Failures to decode what the server sent (a healthy server causes none); the socket is closed. */
  readonly decodeErrors: unknown[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  isClosed = false;
  session: HandshakeResult | undefined;
  /** From the handshake; login proofs are bound to it. */
  sessionId: Uint8Array = new Uint8Array(0);
  fingerprint = '';
  device: DeviceIdentity = DeviceIdentity.generate();
  /** Set by a successful register or login. */
  user: string | null = null;
  private takers: Waiter[] = [];
  private watchers: Waiter[] = [];

  private constructor(
    readonly socket: Socket,
    private readonly options: RawClientOptions,
  ) {
    this.channel = new MessageChannel({ peer: 'server', maxFrameSize: options.maxFrameSize ?? DEFAULT_LIMITS.maxFrameSize });
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
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        for (const w of [...this.takers, ...this.watchers]) {
          clearTimeout(w.timer);
          w.reject(new Error(`raw client: connection closed; ${this.describeInbox()}`));
        }
        this.takers = [];
        this.watchers = [];
        resolve();
      }),
    );
  }

  /** TCP connection only (no handshake). */
  static async raw(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const socket = connect({
      port,
      host: options.host ?? '127.0.0.1',
      noDelay: true,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket, options);
  }

  /** Connects and completes the handshake. */
  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const client = await RawClient.raw(port, options);
    try {
      await client.handshake(options.versions);
    } catch (error) {
      client.socket.destroy();
      throw error;
    }
    return client;
  }

  async handshake(versions: number[] = [...SUPPORTED_VERSIONS]): Promise<HandshakeResult> {
    const hs = new ClientHandshake({ versions });
    this.writePlain(handshakeToWire('client_hello', hs.start()));
    const reply = await this.next((m) => m.type === 'server_hello' || m.type === 'goodbye', this.options.timeoutMs ?? 5000);
    if (reply.type !== 'server_hello') throw new Error(`handshake refused: ${JSON.stringify(reply)}`);
    const { finished, result } = hs.receive(handshakeFromWire(reply));
    this.writePlain(handshakeToWire('client_finished', finished));
    this.channel.upgrade(result.cipher);
    this.session = result;
    this.sessionId = result.sessionId;
    this.fingerprint = result.fingerprint;
    // Anything sealed that arrived behind the server's hello.
    for (const m of this.channel.receive(new Uint8Array(0))) this.deliver(m);
    return result;
  }

  /** One message in a plaintext frame (the handshake's, or a test's pre-handshake probe). */
  writePlain(message: ClientMessage): void {
    for (const frame of this.channel.frame([message])) this.socket.write(frame);
  }

  /** Messages (objects or raw JSON lines) in as few sealed records as fit; false once the socket pushes back. */
  send(...messages: Array<ClientMessage | string> | [ReadonlyArray<ClientMessage | string>]): boolean {
    const list = messages.length === 1 && Array.isArray(messages[0]) ? messages[0] : (messages as Array<ClientMessage | string>);
    let ok = true;
    for (const frame of this.channel.frame(list)) ok = this.socket.write(frame);
    return ok;
  }

  /** Arbitrary JSON text as one sealed record (schema tests). */
  sendText(text: string): void {
    this.send(text);
  }

  /** Any object, serialised as is: no schema check here, the server is the one being tested. */
  sendRaw(message: Record<string, unknown>): void {
    this.send(JSON.stringify(message));
  }

  /** Seals arbitrary bytes as one record with the real session cipher. */
  sealRaw(plaintext: Uint8Array): Buffer {
    if (!this.session) throw new Error('no session');
    return encodeFrame(this.session.cipher.seal(plaintext));
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  nextId(): string {
    return `r${nextRequest++}`;
  }

  /** Sends a request with a fresh id; resolves with (and takes) the reply carrying that id. */
  request(message: ClientRequest | Record<string, unknown>, timeoutMs = 5000): Promise<ServerMessage> {
    const id = this.nextId();
    this.sendRaw({ ...message, id });
    return this.next((m) => 're' in m && m.re === id, timeoutMs);
  }

  /** Like request, but throws unless the reply has type `type`. */
  async expect<T extends ServerMessage['type']>(message: ClientRequest, type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const reply = await this.request(message);
    if (reply.type !== type) throw new Error(`expected ${type}, got ${JSON.stringify(reply)}`);
    return reply as Extract<ServerMessage, { type: T }>;
  }

  /** Takes the first message (already received or to come) matching. */
  next(match: Match, timeoutMs = 5000): Promise<ServerMessage> {
    const test = typeof match === 'string' ? (m: ServerMessage) => m.type === match : match;
    const index = this.inbox.findIndex(test);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return this.wait(this.takers, test, timeoutMs);
  }

  /**
   * Resolves with the next message matching, or one already received at index `from` or later of
   * `received`; takes nothing (several waits may see the same message).
   */
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 5000, from?: number): Promise<ServerMessage> {
    if (from !== undefined) {
      const found = this.received.slice(from).find(match);
      if (found) return Promise.resolve(found);
    }
    return this.wait(this.watchers, match, timeoutMs);
  }

  /** Every message received so far matching, taken from the inbox. */
  take(match: (m: ServerMessage) => boolean): ServerMessage[] {
    const out = this.inbox.filter(match);
    for (const m of out) this.inbox.splice(this.inbox.indexOf(m), 1);
    return out;
  }

  async register(username: string, password = TEST_PASSWORD): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const welcome = await this.expect({ type: 'register', username, password, device: this.bundle() }, 'welcome');
    this.user = welcome.user;
    return welcome;
  }

  async login(username: string, password = TEST_PASSWORD): Promise<Extract<ServerMessage, { type: 'welcome' }>> {
    const welcome = await this.expect({ type: 'login', username, password, device: this.bundle() }, 'welcome');
    this.user = welcome.user;
    return welcome;
  }

  /** A device_login for this device; `since`: the newest DM id it says it received. */
  deviceLoginRequest(username: string, since?: string): ClientRequest {
    const signature = signDeviceLogin(this.device, this.sessionId, username, new Uint8Array(0));
    return {
      type: 'device_login',
      username,
      signKey: toBase64Url(this.device.signPublicKey),
      signature: toBase64Url(signature),
      ...(since === undefined ? {} : { since }),
    };
  }

  bundle(device: DeviceIdentity = this.device): DeviceBundleWire {
    return bundleToWire(device.bundle());
  }

  /** Round trip of a ping (ms). */
  async ping(timeoutMs = 5000): Promise<number> {
    const nonce = `p${nextRequest++}`;
    const start = performance.now();
    this.send({ type: 'ping', nonce });
    await this.next((m) => m.type === 'pong' && m.nonce === nonce, timeoutMs);
    return performance.now() - start;
  }

  /** Ends the connection and waits for the socket to close. */
  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private wait(list: Waiter[], match: (m: ServerMessage) => boolean, timeoutMs: number): Promise<ServerMessage> {
    if (this.isClosed) return Promise.reject(new Error(`raw client: connection closed; ${this.describeInbox()}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = list.indexOf(waiter);
          if (at >= 0) list.splice(at, 1);
          reject(new Error(`raw client: timed out waiting; closed=${this.isClosed}; ${this.describeInbox()}`));
        }, timeoutMs),
      };
      list.push(waiter);
    });
  }

  private deliver(m: ServerMessage): void {
    this.counts.set(m.type, (this.counts.get(m.type) ?? 0) + 1);
    if (m.type === 'error' || m.type === 'goodbye') this.codes.set(m.code, (this.codes.get(m.code) ?? 0) + 1);
    keep(this.received, m);
    if (m.type === 'ping' && this.options.answerPings) this.send({ type: 'pong', ...(m.nonce === undefined ? {} : { nonce: m.nonce }) });
    for (const w of this.watchers.filter((x) => x.match(m))) {
      clearTimeout(w.timer);
      this.watchers.splice(this.watchers.indexOf(w), 1);
      w.resolve(m);
    }
    const taker = this.takers.find((w) => w.match(m));
    if (taker) {
      clearTimeout(taker.timer);
      this.takers.splice(this.takers.indexOf(taker), 1);
      taker.resolve(m);
      return;
    }
    keep(this.inbox, m);
  }

  private describeInbox(): string {
    return `inbox: ${this.inbox.slice(-5).map(describe).join(',')}`;
  }
}

/** A message's type, with its code for errors and goodbyes (for failure messages). */
function describe(m: ServerMessage): string {
  return m.type === 'goodbye' || m.type === 'error' ? `${m.type}:${m.code}` : m.type;
}

function keep(list: ServerMessage[], m: ServerMessage): void {
  list.push(m);
  if (list.length > KEEP) list.splice(0, list.length - KEEP);
}

/** Connects, handshakes and registers `username`. */
export async function registered(port: number, username: string): Promise<RawClient> {
  const client = await RawClient.connect(port);
  await client.register(username);
  return client;
}

/**
 * A direct-message envelope (0xD3 framing, PROTOCOL.md `dm_send`) from device `sender`: one entry
 * per addressed device, each with the opaque bytes given for it.
 */
export function directEnvelope(sender: DeviceIdentity, entries: readonly (readonly [DeviceIdentity, Uint8Array])[] = []): string {
  return toBase64Url(
    encodeDirectEnvelope(
      sender.signPublicKey,
      entries.map(([device, message]) => ({ device: device.signPublicKey, message })),
    ),
  );
}

/** An envelope from `client`'s device with one entry of `size` opaque bytes, for that device itself. */
export function selfEnvelope(client: RawClient, size: number, fill = 9): string {
  return directEnvelope(client.device, [[client.device, new Uint8Array(size).fill(fill)]]);
}
