import type { Socket } from 'node:net';
import {
  bundleToWire,
  decode,
  FrameDecoder,
  HANDSHAKE_MAX_FRAME_SIZE,
  handshakeFromWire,
  handshakeToWire,
  MessageChannel,
  SUPPORTED_VERSIONS,
  toBase64Url,
  validate,
  type ClientMessage,
  type DeviceBundleWire,
  type ServerMessage,
  type ServerMessageOf,
} from '@hush/protocol';
import { ClientHandshake, type DeviceIdentity, signDeviceLogin, type SessionCipher } from '@hush/crypto';
import { countLines, ownMarker, readStamps } from './deliveries.js';
import { connectSocket, LoadClientBase } from './load-client.js';

// A lean Hush client for load generation: the protocol's MessageChannel frames and seals what it
// sends; received records are opened and their room messages and acks counted by prefix, so only
// the rare other lines (replies, errors, presence) are JSON-parsed and validated. The full SDK's
// end-to-end and state work would make the load generator the bottleneck.

type Reply = ServerMessage & { re?: string };
type Omit2<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type RequestBody = Omit2<Extract<ClientMessage, { id: string }>, 'id'>;

export class HushRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface HushConnectOptions {
  host: string;
  port: number;
  timeoutMs?: number;
}

export class HushLoadClient extends LoadClientBase {
  /** Other server messages received, by type (presence, room events, ...). */
  readonly events = new Map<string, number>();
  /** Listener for other server messages (file transfer uses it). */
  onEvent: ((message: ServerMessage) => void) | null = null;
  sessionId: Uint8Array = new Uint8Array(0);
  private readonly channel = new MessageChannel({ peer: 'server' });
  private readonly decoder = new FrameDecoder({ maxFrameSize: HANDSHAKE_MAX_FRAME_SIZE });
  private cipher: SessionCipher | null = null;
  private helloWaiter: ((m: ServerMessage) => void) | null = null;
  private readonly waiting = new Map<string, { resolve(m: Reply): void; reject(e: Error): void }>();
  private nextId = 1;
  private closed = false;
  /** Marks this client's own (echoed) room messages, which are not counted; set at login. */
  private own: Buffer | undefined;

  private socket!: Socket;

  private constructor(private readonly room: string) {
    super();
  }

  /** Connects and completes the handshake (the server's identity is not pinned: loopback benchmark). */
  static async connect(options: HushConnectOptions, room = 'lobby'): Promise<HushLoadClient> {
    const client = new HushLoadClient(room);
    const socket = await connectSocket(options.host, options.port, (chunk) => client.onData(chunk), options.timeoutMs);
    client.socket = socket;
    socket.on('error', (error) => client.fail(`socket: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    socket.on('close', () => client.fail('closed'));
    try {
      await withTimeout(client.handshake(), options.timeoutMs ?? 30_000, 'handshake');
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  private async handshake(): Promise<void> {
    const hs = new ClientHandshake({ versions: [...SUPPORTED_VERSIONS] });
    const hello = hs.start();
    const reply = new Promise<ServerMessage>((resolve) => (this.helloWaiter = resolve));
    this.write([handshakeToWire('client_hello', hello)]);
    const m = await reply;
    if (m.type !== 'server_hello') throw new HushRequestError('HANDSHAKE_FAILED', `got ${m.type}`);
    const { finished, result } = hs.receive(handshakeFromWire(m));
    this.write([handshakeToWire('client_finished', finished)]);
    this.cipher = result.cipher;
    this.sessionId = result.sessionId;
    this.channel.upgrade(result.cipher);
    this.decoder.setMaxFrameSize(64 * 1024 * 1024);
  }

  private onData(chunk: Buffer): void {
    if (this.discards(chunk)) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(`frame: ${(error as Error).message}`);
      return;
    }
    const now = performance.now();
    for (const frame of frames) {
      if (!this.cipher) {
        try {
          const [m] = decode('server', frame);
          if (m && this.helloWaiter) this.helloWaiter(m);
        } catch (error) {
          this.fail(`hello: ${(error as Error).message}`);
        }
        continue;
      }
      let payload: Buffer;
      try {
        const opened = this.cipher.open(frame);
        payload = Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength);
      } catch {
        this.fail('record rejected');
        return;
      }
      const acks = this.counts.acks;
      countLines(payload, this.counts, (line) => this.onOther(line));
      // Every acknowledged send was echoed to this client just ahead of its ack: not a delivery.
      this.counts.messages -= this.counts.acks - acks;
      if (this.observer) readStamps(payload, now, this.latencies, this.own);
    }
    this.onPayload?.();
  }

  private onOther(line: Buffer): void {
    // Broadcast notices (presence, joins, ...) are only counted: parsing thousands of them in a
    // login storm would make the load generator the bottleneck.
    const type = lineType(line);
    if (type !== null && COUNTED_ONLY.has(type) && this.onEvent === null) {
      this.events.set(type, (this.events.get(type) ?? 0) + 1);
      return;
    }
    let m: Reply;
    try {
      m = validate('server', JSON.parse(line.toString('utf8'))) as Reply;
    } catch (error) {
      this.problems.push(`invalid server message: ${(error as Error).message}`);
      return;
    }
    if (typeof m.re === 'string') {
      const w = this.waiting.get(m.re);
      if (w) {
        this.waiting.delete(m.re);
        if (m.type === 'error') w.reject(new HushRequestError(m.code, m.message));
        else w.resolve(m);
        return;
      }
    }
    if (m.type === 'ping') {
      // Heartbeats: an idle benchmark connection must stay alive.
      this.write([m.nonce === undefined ? { type: 'pong' } : { type: 'pong', nonce: m.nonce }]);
      return;
    }
    if (m.type === 'error') this.problems.push(`error ${m.code}`);
    else if (m.type === 'goodbye') this.problems.push(`goodbye ${m.code}`);
    this.events.set(m.type, (this.events.get(m.type) ?? 0) + 1);
    this.onEvent?.(m);
  }

  private fail(reason: string): void {
    if (!this.closed) this.problems.push(reason);
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(new Error(reason));
    this.waiting.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  write(messages: ReadonlyArray<ClientMessage | string>): void {
    if (this.socket.destroyed) return;
    const frames = this.channel.frame(messages);
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** Sends a request and resolves with its reply (`re` = its id); rejects on an error reply. */
  request<T extends ServerMessage['type'] = ServerMessage['type']>(body: RequestBody, timeoutMs = 30_000): Promise<ServerMessageOf<T>> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    const id = `q${this.nextId++}`;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.write([{ ...body, id } as ClientMessage]);
    return withTimeout(reply, timeoutMs, body.type) as Promise<ServerMessageOf<T>>;
  }

  register(username: string, password: string, device: DeviceIdentity): Promise<ServerMessageOf<'welcome'>> {
    this.own = ownMarker(username);
    return this.request<'welcome'>({ type: 'register', username, password, device: wireBundle(device) });
  }

  login(username: string, password: string, device: DeviceIdentity): Promise<ServerMessageOf<'welcome'>> {
    this.own = ownMarker(username);
    return this.request<'welcome'>({ type: 'login', username, password, device: wireBundle(device) });
  }

  deviceLogin(username: string, device: DeviceIdentity): Promise<ServerMessageOf<'welcome'>> {
    this.own = ownMarker(username);
    const signature = signDeviceLogin(device, this.sessionId, username, new Uint8Array(0));
    return this.request<'welcome'>({
      type: 'device_login',
      username,
      signKey: toBase64Url(device.signPublicKey),
      signature: toBase64Url(signature),
    });
  }

  /** A round trip the server must answer only once the handshake is verified. */
  async ping(timeoutMs = 30_000): Promise<void> {
    const nonce = `p${this.nextId++}`;
    const pong = new Promise<void>((resolve) => {
      const previous = this.onEvent;
      this.onEvent = (m) => {
        if (m.type === 'pong' && m.nonce === nonce) {
          this.onEvent = previous;
          resolve();
        } else previous?.(m);
      };
    });
    this.write([{ type: 'ping', nonce }]);
    await withTimeout(pong, timeoutMs, 'ping');
  }

  sendTexts(texts: readonly string[]): void {
    const room = this.room;
    this.write(
      texts.map((text) => `{"type":"send","id":"s${this.nextId++}","room":${JSON.stringify(room)},"text":${JSON.stringify(text)}}`),
    );
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

const COUNTED_ONLY = new Set(['presence', 'room_event', 'typing_notice', 'read_notice', 'key_change']);
const TYPE_PREFIX = '{"type":"';

function lineType(line: Buffer): string | null {
  if (line.length < TYPE_PREFIX.length + 2 || line.toString('latin1', 0, TYPE_PREFIX.length) !== TYPE_PREFIX) return null;
  const end = line.indexOf(0x22, TYPE_PREFIX.length);
  return end === -1 ? null : line.toString('latin1', TYPE_PREFIX.length, end);
}

export function wireBundle(device: DeviceIdentity): DeviceBundleWire {
  return bundleToWire(device.bundle());
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no reply within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
