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
import { ClientHandshake, type DeviceIdentity, OutboundSenderKey, signDeviceLogin, type SessionCipher } from '@hush/crypto';
import { countLines, ENVELOPE_HEAD_CHARS, envelopeStamps, ownMarker, readStamps, TEXT_STAMPS, type StampFormat } from './deliveries.js';
import { connectSocket, LoadClientBase } from './load-client.js';

// A lean Hush client for load generation: the protocol's MessageChannel frames and seals what it
// sends; received records are opened and their room messages and acks counted by prefix, so only
// the rare other lines (replies, errors, presence) are JSON-parsed and validated. The full SDK's
// end-to-end and state work would make the load generator the bottleneck.
//
// In an end-to-end room a client sends what a real member sends: sender-key messages (encrypted
// and signed with its own sender key, @hush/crypto's OutboundSenderKey). A stamped text (the
// fixed-rate phase) is sealed as it is sent; the saturation loop's filler texts are replaced by
// envelopes sealed ahead of time, taken in turn (the server relays them unread either way).
// Receivers count envelopes by prefix like any message and never open them: nobody handed them
// the sender keys, and opening is measured in-process (the sessions scenario). Observers know a
// message by its envelope's head, recorded with its send time in SENT_AT.

/** Envelopes each e2e client seals ahead of time for the saturation loop. */
const PRESEALED = 8;
/** Send time (performance.now()) by envelope head, for every stamped message sealed in this process. */
const SENT_AT = new Map<string, number>();
const ENVELOPE_STAMPS = envelopeStamps(SENT_AT);

/** Forgets the send times of sealed messages (between rooms). */
export function forgetSealedStamps(): void {
  SENT_AT.clear();
}

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
  private device: DeviceIdentity | undefined;
  /** In an e2e room: this device's sender key, its envelopes sealed ahead, and which one is next. */
  private sealer: { key: OutboundSenderKey; presealed: string[]; next: number } | null = null;
  private stamps: StampFormat = TEXT_STAMPS;

  private socket!: Socket;

  private constructor(private room: string) {
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
      if (this.observer) readStamps(payload, now, this.latencies, this.own, this.stamps);
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
    this.device = device;
    return this.request<'welcome'>({ type: 'register', username, password, device: wireBundle(device) });
  }

  login(username: string, password: string, device: DeviceIdentity): Promise<ServerMessageOf<'welcome'>> {
    this.own = ownMarker(username);
    this.device = device;
    return this.request<'welcome'>({ type: 'login', username, password, device: wireBundle(device) });
  }

  deviceLogin(username: string, device: DeviceIdentity): Promise<ServerMessageOf<'welcome'>> {
    this.own = ownMarker(username);
    this.device = device;
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

  /**
   * Joins `room` (logged in first) and sends there from now on; in an e2e room, with a fresh
   * sender key of this client's device and `PRESEALED` envelopes sealed ahead.
   */
  async joinRoom(room: string, e2e: boolean, textSize: number): Promise<void> {
    await this.request({ type: 'room_join', room });
    this.room = room;
    if (!e2e) return;
    if (!this.device) throw new Error('joinRoom: log in first');
    const key = OutboundSenderKey.create(room, this.device.id());
    const filler = new TextEncoder().encode('x'.repeat(textSize));
    const presealed = Array.from({ length: PRESEALED }, () => toBase64Url(key.encrypt(filler)));
    this.sealer = { key, presealed, next: 0 };
    this.stamps = ENVELOPE_STAMPS;
  }

  sendTexts(texts: readonly string[]): void {
    const room = JSON.stringify(this.room);
    const sealer = this.sealer;
    this.write(
      texts.map((text) =>
        sealer
          ? `{"type":"send","id":"s${this.nextId++}","room":${room},"envelope":"${this.envelopeFor(sealer, text)}"}`
          : `{"type":"send","id":"s${this.nextId++}","room":${room},"text":${JSON.stringify(text)}}`,
      ),
    );
  }

  /** A stamped text is sealed now and its send time recorded; a filler text takes the next envelope sealed ahead. */
  private envelopeFor(sealer: NonNullable<HushLoadClient['sealer']>, text: string): string {
    if (!text.startsWith('~T')) return sealer.presealed[sealer.next++ % sealer.presealed.length]!;
    const envelope = toBase64Url(sealer.key.encrypt(new TextEncoder().encode(text)));
    SENT_AT.set(envelope.slice(0, ENVELOPE_HEAD_CHARS), Number(text.slice(2, text.indexOf('~', 2))));
    return envelope;
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
