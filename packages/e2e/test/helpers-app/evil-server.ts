// A malicious Hush server: it holds a genuine server identity (so the client pins it and talks to
// it), speaks the real protocol through MessageChannel + ServerHandshake, and implements just
// enough of a server for a client to log in, look up keys and send DMs. The test then lies through
// it: swapped key bundles, replayed, dropped or misrouted direct messages.
import { createServer, type Server, type Socket } from 'node:net';
import { ServerHandshake, ServerIdentity } from '@hush/crypto';
import {
  handshakeFromWire,
  handshakeToWire,
  MessageChannel,
  SUPPORTED_VERSIONS,
  type ClientMessage,
  type DeviceBundleWire,
  type ServerMessage,
  type ServerMessageOf,
} from '@hush/protocol';
import type { PrekeyBundleWire } from './direct.js';

export type DirectWire = ServerMessageOf<'dm'>;

/** What the evil server announces in welcome: roomy limits (it lies about other things). */
const EVIL_LIMITS = { messagesPerSecond: 1000, messageBurst: 1000, signalsPerSecond: 1000, signalBurst: 1000, maxTextLength: 4000 };

/** One client connection to the evil server. */
export class EvilConnection {
  user: string | null = null;
  /** The device (base64url sign key) this connection logged in with. */
  device: string | null = null;
  readonly received: ClientMessage[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly channel: MessageChannel<'client'>,
  ) {}

  send(message: ServerMessage): void {
    if (this.socket.destroyed) return;
    for (const frame of this.channel.frame([message])) this.socket.write(frame);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class EvilServer {
  /** The key directory the server answers with: user -> bundles. Tests overwrite entries to lie. */
  readonly directory = new Map<string, DeviceBundleWire[]>();
  /** The rooms every welcome and room list gives (the test says which exist and of what kind). */
  readonly rooms: ServerMessageOf<'welcome'>['rooms'] = [];
  /** Every dm_send the clients made, in order (sealed envelopes the server could replay). */
  readonly sentDms: DirectWire[] = [];
  readonly connections = new Set<EvilConnection>();
  /** What a room's history request is answered with (one page, no more): whatever the test puts here. */
  readonly roomHistory = new Map<string, ServerMessageOf<'history_page'>['messages']>();
  /** Prekeys the clients uploaded (or tests put here), by device sign key; handed out as the test says. */
  readonly prekeys = new Map<
    string,
    { signedPrekey: PrekeyBundleWire['signedPrekey']; oneTime: NonNullable<PrekeyBundleWire['oneTimePrekey']>[] }
  >();
  private nextMsgId = 1000;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly identity: ServerIdentity,
  ) {}

  readonly host = '127.0.0.1';

  get fingerprint(): string {
    return this.identity.fingerprint();
  }

  /**
   * A fresh identity on a free port by default; or, to play a real server turned hostile (its key
   * taken, its clients' pins and state all still valid), that server's identity on its port.
   */
  static async start(as: { identity?: ServerIdentity; port?: number } = {}): Promise<EvilServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(as.port ?? 0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const evil = new EvilServer(server, address.port, as.identity ?? ServerIdentity.generate());
    server.on('connection', (socket) => evil.accept(socket));
    return evil;
  }

  /** A fresh server message id (ids only grow, as a real server's do). */
  msgId(): string {
    return String(++this.nextMsgId);
  }

  /**
   * Bundles for `user`'s devices in the directory that have prekeys, each with its next one-time
   * prekey (removed, as an honest server does).
   */
  prekeyBundles(user: string): PrekeyBundleWire[] {
    const out: PrekeyBundleWire[] = [];
    for (const device of this.directory.get(user) ?? []) {
      const held = this.prekeys.get(device.signKey);
      if (!held) continue;
      const oneTimePrekey = held.oneTime.shift();
      out.push({ device, signedPrekey: held.signedPrekey, ...(oneTimePrekey ? { oneTimePrekey } : {}) });
    }
    return out;
  }

  /** The logged-in connection of `user` (the latest one). */
  connectionOf(user: string): EvilConnection {
    const found = [...this.connections].reverse().find((c) => c.user === user);
    if (!found) throw new Error(`evil server: ${user} is not connected`);
    return found;
  }

  /** Delivers a DM to `to`'s connection exactly as given (the server stamps whatever it likes). */
  deliver(to: string, dm: Omit<DirectWire, 'type'>): void {
    this.connectionOf(to).send({ type: 'dm', ...dm });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const channel = new MessageChannel({ peer: 'client' });
    const handshake = new ServerHandshake({ identity: this.identity, versions: [...SUPPORTED_VERSIONS] });
    const conn = new EvilConnection(socket, channel);
    let phase: 'hello' | 'finished' | 'open' = 'hello';
    const onMessage = (m: ClientMessage): void => {
      if (phase === 'hello' && m.type === 'client_hello') {
        const hello = handshake.receive(handshakeFromWire(m));
        socket.write(channel.frame([handshakeToWire('server_hello', hello)])[0]!);
        phase = 'finished';
        return;
      }
      if (phase === 'finished' && m.type === 'client_finished') {
        const result = handshake.finish(handshakeFromWire(m));
        channel.upgrade(result.cipher);
        phase = 'open';
        this.connections.add(conn);
        socket.on('close', () => this.connections.delete(conn));
        return;
      }
      if (phase !== 'open') {
        socket.destroy();
        return;
      }
      conn.received.push(m);
      this.handle(conn, m);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        let items = channel.receive(chunk);
        while (items.length > 0) {
          const wasSecure = channel.secure;
          for (const m of items) onMessage(m);
          if (wasSecure) return;
          items = channel.receive(new Uint8Array(0));
        }
      } catch {
        socket.destroy();
      }
    });
  }

  /** The connection is `user`'s device `device` from now on, and is told so. */
  private welcome(conn: EvilConnection, re: string, user: string, device: string): void {
    conn.user = user;
    conn.device = device;
    conn.send({
      type: 'welcome',
      re,
      user,
      role: 'user',
      rooms: this.rooms,
      deviceBound: true,
      serverTime: Date.now(),
      limits: EVIL_LIMITS,
    });
  }

  private handle(conn: EvilConnection, m: ClientMessage): void {
    const now = Date.now();
    switch (m.type) {
      case 'register':
      case 'login': {
        const user = m.username.toLowerCase();
        const list = this.directory.get(user) ?? [];
        if (!list.some((b) => b.signKey === m.device.signKey)) this.directory.set(user, [...list, m.device]);
        this.welcome(conn, m.id, user, m.device.signKey);
        return;
      }
      case 'device_login':
        this.welcome(conn, m.id, m.username.toLowerCase(), m.signKey);
        return;
      case 'prekeys_upload': {
        const held = this.prekeys.get(conn.device ?? '') ?? { signedPrekey: m.signedPrekey, oneTime: [] };
        held.signedPrekey = m.signedPrekey;
        held.oneTime.push(...m.oneTimePrekeys);
        this.prekeys.set(conn.device ?? '', held);
        conn.send({ type: 'prekeys', re: m.id, remaining: held.oneTime.length });
        return;
      }
      case 'prekey_bundle_get':
        conn.send({ type: 'prekey_bundles', re: m.id, user: m.user, bundles: this.prekeyBundles(m.user) });
        return;
      case 'keys_get':
        conn.send({ type: 'keys', re: m.id, user: m.user, devices: this.directory.get(m.user) ?? [] });
        return;
      case 'dm_send': {
        const dm: DirectWire = { type: 'dm', msgId: this.msgId(), ts: now, from: conn.user ?? 'nobody', to: m.to, envelope: m.envelope };
        this.sentDms.push(dm);
        conn.send({ type: 'ack', re: m.id, msgId: dm.msgId, ts: dm.ts });
        return;
      }
      case 'history':
        conn.send({
          type: 'history_page',
          re: m.id,
          target: m.target,
          messages: 'room' in m.target ? (this.roomHistory.get(m.target.room) ?? []) : [],
          hasMore: false,
        });
        return;
      case 'room_list':
        conn.send({ type: 'rooms', re: m.id, rooms: this.rooms });
        return;
      case 'ping':
        conn.send({ type: 'pong', ...(m.nonce === undefined ? {} : { nonce: m.nonce }) });
        return;
      case 'typing':
      case 'pong':
      case 'client_hello':
      case 'client_finished':
        return;
      default:
        conn.send({ type: 'ok', re: m.id });
    }
  }
}
