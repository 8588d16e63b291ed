import { randomBytes } from 'node:crypto';
import {
  DeviceIdentity, decodeSealedDirect, deviceId, encodeSealedDirect, openDirect, safetyNumber as cryptoSafetyNumber,
  sealDirect, shortFingerprint, signDeviceLogin, verifyBundle, type DeviceBundle, type DirectInner, type HandshakeResult,
} from '@hush/crypto';
import type { ClientMessage, ServerMessage, ServerMessageOf, ServerMessageType } from '@hush/protocol';
import { backoffDelay } from './backoff.js';
import { compareIds, conversationKey, Cursors, SeenIds } from './catch-up.js';
import { DeviceStore } from './device-store.js';
import { decodeBody, encodeBody, keySetDigest, keySetKey, type DirectBody, type DirectFileInfo } from './direct-body.js';
import { TypedEmitter } from './emitter.js';
import { HushError, isHushError, type HushErrorCode } from './errors.js';
import { FileTransfers } from './file-transfers.js';
import { costsMessageBudget, Outbox } from './outbox.js';
import { DEFAULT_CLIENT_LIMITS, limitsFrom, TokenPacer, type ClientLimits } from './pacer.js';
import { SendQueue } from './send-queue.js';
import { Signals } from './signals.js';
import { decidePin, keyChangedError, KnownServersFile, serverKey } from './known-servers.js';
import { defaultPaths, type ClientPaths } from './paths.js';
import { Requests, type RequestBody } from './requests.js';
import { Transport } from './transport.js';
import type {
  ChatMessage, ClientEvents, ConnectionState, ConnectOptions, FileOffer, MemberInfo, PendingSend, RoomInfo, RoomRole, Target, UserInfo,
} from './types.js';
import { UserState } from './user-state.js';
import { b64, bundleFromWire, bundleToWire, unb64 } from './wire.js';

const DEFAULT_TIMEOUT_MS = 15_000;
const HEARTBEAT_MS = 15_000;
const CATCH_UP_PAGE = 200;
/** After a restart, at most this many missed messages per room come as events (the rest: history()). */
const RESTART_CATCH_UP_LIMIT = 1000;
/** goodbye codes after which reconnecting would be wrong. */
const TERMINAL_GOODBYES = new Set<string>(['BANNED', 'KICKED', 'AUTH_FAILED', 'TOO_MANY_CONNECTIONS']);
/** Failures while reconnecting that retrying cannot fix. */
const TERMINAL_RECONNECT_ERRORS = new Set<HushErrorCode>([
  'SERVER_KEY_CHANGED', 'UNTRUSTED_SERVER', 'AUTH_FAILED', 'DEVICE_UNKNOWN', 'BANNED', 'UNSUPPORTED_VERSION',
]);

type Welcome = ServerMessageOf<'welcome'>;
type DirectWire = ServerMessageOf<'dm'>;

/**
 * The headless Hush client: one connection to one server, pinned like SSH, with device-key login,
 * end-to-end direct messages, automatic reconnect and catch-up. See README.md.
 */
export class HushClient extends TypedEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  readonly paths: ClientPaths;
  private readonly options: ConnectOptions;
  private readonly timeoutMs: number;
  private readonly requests: Requests;
  private readonly devices: DeviceStore;
  private readonly knownServers: KnownServersFile;
  private transport: Transport | undefined;
  private session: HandshakeResult | undefined;
  private _fingerprint = '';
  private _shortFingerprint = '';
  private _state: ConnectionState = 'connecting';
  private _user: string | null = null;
  private readonly _rooms = new Map<string, RoomInfo>();
  private device: DeviceIdentity | undefined;
  private userState: UserState | undefined;
  private readonly keyCache = new Map<string, DeviceBundle[]>();
  private readonly seen = new SeenIds();
  private readonly cursors = new Cursors();
  /** Server events are handled one after another (some need a key lookup first). */
  private inbox: Promise<void> = Promise.resolve();
  private goodbye: { code: string; message: string } | undefined;
  private closing = false;
  private reconnecting = false;
  /** Logged in again after a reconnect, catching up: internal requests must not wait for 'ready'. */
  private resuming = false;
  private loggingOut = false;
  private wakeReconnect: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastReceived = Date.now();
  private readonly files: FileTransfers;
  private _limits: ClientLimits = { ...DEFAULT_CLIENT_LIMITS };
  private readonly outbox = new Outbox(new TokenPacer(DEFAULT_CLIENT_LIMITS.messagesPerSecond, DEFAULT_CLIENT_LIMITS.messageBurst, Date.now()));
  private readonly sends: SendQueue;
  private readonly signals: Signals;

  private constructor(options: ConnectOptions) {
    super();
    this.options = options;
    this.host = options.host;
    this.port = options.port;
    this.paths = options.paths ?? defaultPaths();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.requests = new Requests(this.timeoutMs);
    this.devices = new DeviceStore(this.paths.dataDir, this.host, this.port);
    this.knownServers = new KnownServersFile(this.paths.configDir);
    this.files = new FileTransfers({
      emit: (event, ...args) => this.emit(event, ...args),
      request: (body, expect) => this.request(body, expect),
      sendRaw: (message) => this.transport?.send([message]),
      waitWritable: async () => {
        const t = this.transport;
        if (t?.congested) await t.waitDrain();
      },
      sendDirectBody: (user, body) => this.sendDirectBody(user, body),
      me: () => this._user,
    });
    this.sends = new SendQueue({
      ready: () => this.canSend(),
      request: (body) => this.rawRequest(body, ['ack'], { timeout: false }),
      backOff: (ms) => this.outbox.backOff(ms),
      changed: () => this.emit('outbox', this.sends.pending),
    });
    this.signals = new Signals({
      connected: () => this.canSend(),
      sendTyping: (target, active) => this.transport?.send([{ type: 'typing', target, active }]),
      sendRead: async (target, msgId) => {
        await this.rawRequest({ type: 'read', target, msgId }, ['ok']);
      },
    });
  }

  /** TCP + handshake + pin check. Throws HushError('SERVER_KEY_CHANGED' | 'UNTRUSTED_SERVER' | 'CONNECT_FAILED' | ...). */
  static async connect(options: ConnectOptions): Promise<HushClient> {
    const client = new HushClient(options);
    await client.openTransport();
    client.setState('ready');
    return client;
  }

  get fingerprint(): string {
    return this._fingerprint;
  }
  get shortFingerprint(): string {
    return this._shortFingerprint;
  }
  get user(): string | null {
    return this._user;
  }
  get state(): ConnectionState {
    return this._state;
  }
  get rooms(): ReadonlyMap<string, RoomInfo> {
    return this._rooms;
  }
  /** What the server holds this connection to (its welcome's limits; the defaults before one). */
  get limits(): Readonly<ClientLimits> {
    return this._limits;
  }
  /** Sends not acknowledged yet, oldest first (the `outbox` event says when this changes). */
  get pendingSends(): PendingSend[] {
    return this.sends.pending;
  }

  // ------------------------------------------------------------------------------------------
  // Accounts

  async register(username: string, password: string, opts: { invite?: string } = {}): Promise<void> {
    await this.holdingEvents(() => this.registerNow(username, password, opts));
  }

  private async registerNow(username: string, password: string, opts: { invite?: string }): Promise<void> {
    const device = this.devices.load(username)?.device ?? DeviceIdentity.generate();
    const reply = await this.request(
      { type: 'register', username, password, device: bundleToWire(device.bundle()), ...(opts.invite ? { invite: opts.invite } : {}) },
      ['welcome', 'ok'],
    );
    if (reply.type === 'welcome') await this.afterWelcome(reply, device, false);
    else await this.passwordLogin(username, password, device);
  }

  /** Device login when this device is bound to `username` on this server, else password (required then). */
  async login(username: string, password?: string): Promise<void> {
    await this.holdingEvents(() => this.loginNow(username, password));
  }

  private async loginNow(username: string, password?: string): Promise<void> {
    const stored = this.devices.load(username);
    if (stored?.bound) {
      try {
        const name = username.toLowerCase();
        const state = await this.stateOf(name);
        const welcome = await this.deviceLogin(name, stored.device, state.newestDm);
        await this.afterWelcome(welcome, stored.device, true, welcome.user === name ? state : undefined);
        return;
      } catch (error) {
        if (!(isHushError(error, 'DEVICE_UNKNOWN') || isHushError(error, 'AUTH_FAILED')) || password === undefined) throw error;
      }
    }
    if (password === undefined) throw new HushError('PASSWORD_REQUIRED');
    await this.passwordLogin(username, password, stored?.device ?? DeviceIdentity.generate());
  }

  hasDeviceFor(username: string): boolean {
    try {
      return this.devices.load(username)?.bound === true;
    } catch {
      return false;
    }
  }

  /** Ends the session; the server closes the connection, so a fresh anonymous one is opened at once. */
  async logout(): Promise<void> {
    this.loggingOut = true;
    try {
      await this.request({ type: 'logout' }, ['ok']);
      this.sends.rejectAll(new HushError('NOT_LOGGED_IN', 'logged out before the message was sent'));
      this.signals.rejectAll(new HushError('NOT_LOGGED_IN'));
      await this.userState?.flush();
      this._user = null;
      this.device = undefined;
      this.userState = undefined;
      this._rooms.clear();
      this.keyCache.clear();
      const old = this.transport;
      this.transport = undefined;
      this.outbox.detach();
      await old?.end();
      if (this.closing) return;
      try {
        await this.openTransport();
      } catch {
        void this.reconnectLoop();
      }
    } finally {
      this.loggingOut = false;
    }
  }

  private async passwordLogin(username: string, password: string, device: DeviceIdentity): Promise<void> {
    const welcome = await this.request({ type: 'login', username, password, device: bundleToWire(device.bundle()) }, ['welcome']);
    await this.afterWelcome(welcome, device, false);
  }

  /**
   * `since`: the newest DM this device has handled. The server's delivery cursor moves when a DM is
   * queued to us, so one written into a dying socket is only offered again because of it.
   */
  private deviceLogin(username: string, device: DeviceIdentity, since: string | undefined): Promise<Welcome> {
    const session = this.session;
    if (!session) throw new HushError('CONNECTION_CLOSED');
    const signature = signDeviceLogin(device, session.sessionId, username, new Uint8Array(0));
    return this.rawRequest({
      type: 'device_login', username, signKey: b64(device.signPublicKey), signature: b64(signature),
      ...(since === undefined ? {} : { since }),
    }, ['welcome']);
  }

  /** The persisted state of `user` (the loaded one when it is the current user). */
  private async stateOf(user: string): Promise<UserState> {
    if (this._user === user && this.userState) return this.userState;
    return UserState.load(this.paths.dataDir, this.host, this.port, user);
  }

  private async afterWelcome(welcome: Welcome, device: DeviceIdentity, wasBound: boolean, state?: UserState): Promise<void> {
    const switching = this._user !== welcome.user;
    this._user = welcome.user;
    this.device = device;
    await this.devices.save(welcome.user, device, welcome.deviceBound || wasBound);
    if (switching || !this.userState) this.userState = state ?? await UserState.load(this.paths.dataDir, this.host, this.port, welcome.user);
    this.applyLimits(welcome);
    this.setRooms(welcome.rooms);
    await this.catchUpSinceLastRun();
    await this.baselineCursors();
    this.signals.onConnected();
    this.sends.pump();
  }

  private applyLimits(welcome: Welcome): void {
    this._limits = limitsFrom(welcome);
    this.outbox.pacer.configure(this._limits.messagesPerSecond, this._limits.messageBurst, Date.now());
    this.signals.configure(this._limits.signalsPerSecond, this._limits.signalBurst);
  }

  // ------------------------------------------------------------------------------------------
  // Rooms

  async createRoom(room: string, topic?: string): Promise<void> {
    await this.request({ type: 'room_create', room, ...(topic === undefined ? {} : { topic }) }, ['ok']);
    await this.refreshRooms();
  }

  async joinRoom(room: string): Promise<void> {
    await this.request({ type: 'room_join', room }, ['ok', 'rooms']);
    await this.refreshRooms();
  }

  async partRoom(room: string): Promise<void> {
    await this.request({ type: 'room_part', room }, ['ok']);
    this._rooms.delete(room);
  }

  async listRooms(): Promise<RoomInfo[]> {
    const rooms = await allPages(async (cursor) => {
      const reply = await this.request({ type: 'room_list', ...(cursor === undefined ? {} : { cursor }) }, ['rooms']);
      return { items: reply.rooms, next: reply.next };
    });
    return rooms.map(roomInfo);
  }

  async setTopic(room: string, topic: string): Promise<void> {
    await this.request({ type: 'room_topic', room, topic }, ['ok']);
    const info = this._rooms.get(room);
    if (info) info.topic = topic;
  }

  async members(room: string): Promise<MemberInfo[]> {
    const members = await allPages(async (cursor) => {
      const reply = await this.request({ type: 'room_members', room, ...(cursor === undefined ? {} : { cursor }) }, ['members']);
      return { items: reply.members, next: reply.next };
    });
    return members.map((m) => ({ user: m.user, role: m.role, state: m.state, status: m.status }));
  }

  async listUsers(): Promise<UserInfo[]> {
    const users = await allPages(async (cursor) => {
      const reply = await this.request({ type: 'users_list', ...(cursor === undefined ? {} : { cursor }) }, ['users']);
      return { items: reply.users, next: reply.next };
    });
    return users.map((u) => ({ user: u.user, state: u.state, status: u.status, role: u.role }));
  }

  private async refreshRooms(): Promise<void> {
    const list = await this.listRooms();
    this.setRooms(list.filter((r) => r.joined));
    await this.baselineCursors();
  }

  private setRooms(rooms: readonly RoomInfo[]): void {
    this._rooms.clear();
    for (const r of rooms) if (r.joined) this._rooms.set(r.room, roomInfo(r));
  }

  // ------------------------------------------------------------------------------------------
  // Messages

  /**
   * Resolves once the server stored the message. Waits (queued, see `pendingSends`) while the
   * client is paced or reconnecting, however long; rejects only when the server refuses it for good
   * (NOT_MEMBER, MUTED...), the text is too long or empty, or the client is closed.
   */
  send(room: string, text: string): Promise<{ id: string; ts: number }> {
    return this.sendRoom(room, text, false);
  }

  /** A /me action. */
  action(room: string, text: string): Promise<{ id: string; ts: number }> {
    return this.sendRoom(room, text, true);
  }

  private async sendRoom(room: string, text: string, action: boolean): Promise<{ id: string; ts: number }> {
    const from = this.requireUser();
    this.checkText(text);
    const ack = await this.queueSend({ target: { room }, text, action }, async (key) => ({
      type: 'send', room, text, key, ...(action ? { action: true } : {}),
    }));
    // The server echoes it ahead of the ack, in server order among the room's messages: that echo,
    // already in the inbox, shows it. Delivering after it in the inbox only covers a missing echo
    // (e.g. the room was left meanwhile, or a resend the server had stored already) and keeps it
    // shown exactly once, in order.
    const chat: ChatMessage = { kind: 'room', id: ack.msgId, ts: ack.ts, from, room, text, action, mine: true };
    await new Promise<void>((resolve) => this.enqueue(() => {
      resolve();
      this.deliver(chat);
    }));
    return { id: ack.msgId, ts: ack.ts };
  }

  /** End-to-end sealed to every device of `user` and this account's own devices. Settles as `send` does. */
  async sendDirect(user: string, text: string, opts: { action?: boolean } = {}): Promise<{ id: string; ts: number }> {
    const action = opts.action === true;
    const from = this.requireUser();
    this.checkText(text);
    const ack = await this.sendDirectBody(user, { text, action });
    this.deliver({ kind: 'dm', id: ack.id, ts: ack.ts, from, peer: user, text, action, mine: true });
    return ack;
  }

  private queueSend(...args: Parameters<SendQueue['add']>): ReturnType<SendQueue['add']> {
    if (this.closing) return Promise.reject(new HushError('CONNECTION_CLOSED', 'the client is closed'));
    return this.sends.add(...args);
  }

  /** A person's text, checked before anything is sent: the server would only answer SCHEMA_VIOLATION. */
  private checkText(text: string): void {
    if (text.length === 0) throw new HushError('BAD_REQUEST', 'a message cannot be empty');
    const max = this._limits.maxTextLength;
    if (text.length > max) throw new HushError('TEXT_TOO_LONG', `the text has ${text.length} characters; the server accepts at most ${max}: split it`);
  }

  /**
   * Queued like a room send. The envelope is sealed once, when it first goes out, so every attempt
   * carries the same sequence number.
   */
  private async sendDirectBody(user: string, body: DirectBody): Promise<{ id: string; ts: number }> {
    const me = this.requireUser();
    const device = this.device!;
    const state = this.userState!;
    let seq = 0;
    const ack = await this.queueSend(
      { target: { user }, text: 'text' in body ? body.text : '', action: 'text' in body && body.action, listed: 'text' in body },
      async (key) => {
        const theirs = await this.keysOf(user);
        if (theirs.length === 0) throw new HushError('E2E_NO_DEVICES', `${user} has no device keys yet`);
        const verified = state.verified.get(user);
        if (verified !== undefined && verified !== keySetDigest(theirs)) {
          throw new HushError('E2E_KEY_CHANGED', `the keys of ${user} changed since you verified them: compare the safety number and verify again`);
        }
        const mine = user === me ? [] : await this.keysOf(me);
        const inner: DirectInner = {
          from: me,
          to: user,
          id: randomBytes(12).toString('base64url'),
          seq: await state.nextSeq(user),
          sentAt: Date.now(),
          body: encodeBody(body),
        };
        seq = inner.seq;
        const sealed = sealDirect(device, [...theirs, ...mine, device.bundle()], inner);
        return { type: 'dm_send', to: user, envelope: b64(encodeSealedDirect(sealed)), key };
      },
    );
    // Record our own sequence number too: a server that later plays this envelope back to us
    // (under a new id) is then caught as a replay like any other.
    state.checkSequence(directConversation(me, device.signPublicKey, user), seq);
    // Everything queued to us before this ack arrived before it: since can move past our own DM.
    state.noteDm(ack.msgId);
    void state.save().catch((error: unknown) => this.emitError(error));
    return { id: ack.msgId, ts: ack.ts };
  }

  async setPresence(state: 'online' | 'away', status?: string): Promise<void> {
    await this.request({ type: 'presence_set', state, ...(status === undefined ? {} : { status }) }, ['ok']);
  }

  /** Coalesced (the latest state per conversation goes out, a few per second at most); dropped while disconnected. */
  setTyping(target: Target, active: boolean): void {
    this.signals.setTyping(target, active);
  }

  /** Coalesced like typing: resolves once the server took this marker or a newer one for the conversation. */
  markRead(target: Target, msgId: string): Promise<void> {
    return this.signals.markRead(target, msgId);
  }

  /** One page of history, oldest first; `before` pages back. DMs are opened here (undecryptable ones are left out). */
  async history(target: Target, opts: { before?: string; limit?: number } = {}): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    const page = await this.request(
      { type: 'history', target, limit: opts.limit ?? 50, ...(opts.before === undefined ? {} : { before: opts.before }) },
      ['history_page'],
    );
    const messages: ChatMessage[] = [];
    for (const item of page.messages) {
      if (item.type === 'message') messages.push(this.roomChat(item));
      else {
        const opened = await this.openDm(item, false);
        if (opened?.chat) messages.push(opened.chat);
      }
    }
    return { messages, hasMore: page.hasMore };
  }

  // ------------------------------------------------------------------------------------------
  // Moderation

  async kick(room: string, user: string, reason?: string): Promise<void> {
    await this.request({ type: 'kick', room, user, ...(reason === undefined ? {} : { reason }) }, ['ok']);
  }

  async ban(opts: { user?: string; address?: string; reason?: string; seconds?: number }): Promise<void> {
    await this.request({ type: 'ban', ...definedOnly(opts) }, ['ok']);
  }

  async unban(opts: { user?: string; address?: string }): Promise<void> {
    await this.request({ type: 'unban', ...definedOnly(opts) }, ['ok']);
  }

  async mute(room: string, user: string, seconds?: number): Promise<void> {
    await this.request({ type: 'mute', room, user, ...(seconds === undefined ? {} : { seconds }) }, ['ok']);
  }

  async unmute(room: string, user: string): Promise<void> {
    await this.request({ type: 'unmute', room, user }, ['ok']);
  }

  async setRole(room: string, user: string, role: RoomRole): Promise<void> {
    await this.request({ type: 'role_set', room, user, role }, ['ok']);
  }

  // ------------------------------------------------------------------------------------------
  // Contacts and keys

  /** 60 digits to compare out of band; covers every device of both accounts. */
  async safetyNumber(user: string): Promise<string> {
    const me = this.requireUser();
    const [mine, theirs] = await Promise.all([this.keysOf(me, true), this.keysOf(user, true)]);
    if (theirs.length === 0 || mine.length === 0) throw new HushError('E2E_NO_DEVICES');
    return cryptoSafetyNumber(me, keySetKey(mine), user, keySetKey(theirs));
  }

  /** Marks the contact's current keys as verified (persisted). */
  async verifyContact(user: string): Promise<void> {
    this.requireUser();
    const keys = await this.keysOf(user, true);
    if (keys.length === 0) throw new HushError('E2E_NO_DEVICES');
    this.userState!.verified.set(user, keySetDigest(keys));
    await this.userState!.save();
  }

  isVerified(user: string): boolean {
    const state = this.userState;
    if (!state) return false;
    const verified = state.verified.get(user);
    return verified !== undefined && verified === state.seenKeys.get(user);
  }

  /** Device bundles of `user` (verified; cached; refetched on demand). */
  private async keysOf(user: string, force = false): Promise<DeviceBundle[]> {
    const cached = this.keyCache.get(user);
    if (cached && !force) return cached;
    // While catching up after a reconnect the state is still 'reconnecting': waiting for 'ready'
    // here would wait for ourselves (and time out, leaving missed DMs unopened).
    const body = { type: 'keys_get', user } as const;
    const reply = this.resuming ? await this.rawRequest(body, ['keys']) : await this.request(body, ['keys']);
    return this.updateKeys(user, reply.devices.map(bundleFromWire));
  }

  private updateKeys(user: string, bundles: DeviceBundle[]): DeviceBundle[] {
    const valid = bundles.filter((b) => {
      try {
        verifyBundle(b);
        return true;
      } catch {
        return false;
      }
    });
    if (valid.length < bundles.length) {
      this.emit('notice', { level: 'warn', code: 'E2E_BAD_KEYS', text: `ignored ${bundles.length - valid.length} invalid device key(s) of ${user}` });
    }
    this.keyCache.set(user, valid);
    const state = this.userState;
    if (state && valid.length > 0) {
      const digest = keySetDigest(valid);
      const previous = state.seenKeys.get(user);
      if (previous !== digest) {
        state.seenKeys.set(user, digest);
        void state.save().catch((error: unknown) => this.emitError(error));
        if (previous !== undefined && user !== this._user) this.emit('keyChange', { user, verified: state.verified.has(user) });
      }
    }
    return valid;
  }

  // ------------------------------------------------------------------------------------------
  // Files (issue 6)

  sendFile(target: Target, path: string): Promise<{ fileId: string }> {
    this.requireUser();
    return this.files.send(target, path);
  }

  acceptFile(fileId: string, directory?: string): Promise<string> {
    this.requireUser();
    return this.files.accept(fileId, directory);
  }

  declineFile(fileId: string): Promise<void> {
    return this.files.decline(fileId);
  }

  cancelFile(fileId: string): Promise<void> {
    return this.files.cancel(fileId);
  }

  pendingFiles(): FileOffer[] {
    return this.files.pending();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Clean close: no reconnect, pending calls rejected with CONNECTION_CLOSED, socket ended. */
  async close(): Promise<void> {
    if (this.closing && this._state === 'closed') return;
    this.closing = true;
    this.wakeReconnect?.();
    this.stopHeartbeat();
    this.sends.rejectAll(new HushError('CONNECTION_CLOSED', 'the client was closed before the server acknowledged the message'));
    this.signals.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.outbox.detach();
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.files.abortAll();
    const transport = this.transport;
    this.transport = undefined;
    if (transport) await transport.end();
    await this.userState?.flush();
    this.finish({});
  }

  private finish(info: { code?: string; reason?: string }): void {
    this.closing = true;
    this.stopHeartbeat();
    const why = `the connection ended (${info.code ?? 'closed'}${info.reason ? `: ${info.reason}` : ''}) before the server acknowledged the message`;
    this.sends.rejectAll(new HushError('CONNECTION_CLOSED', why));
    this.signals.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.outbox.detach();
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.files.abortAll();
    this.transport?.destroy();
    this.transport = undefined;
    if (this._state === 'closed') return;
    this.setState('closed');
    this.emit('closed', info);
  }

  private setState(state: ConnectionState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
    if (state === 'ready' && this._user !== null) {
      this.signals.onConnected();
      this.sends.pump();
    }
  }

  private async openTransport(): Promise<void> {
    let pinnedNow = false;
    const verifyServer = async (session: HandshakeResult): Promise<void> => {
      pinnedNow = await this.checkServer(session);
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const transport = await Transport.open({
          host: this.host,
          port: this.port,
          timeoutMs: this.timeoutMs,
          verifyServer,
          onMessage: (m) => this.onMessage(transport, m),
          onClose: (error) => this.onTransportClosed(transport, error),
        });
        this.transport = transport;
        this.outbox.attach((message) => transport.send([message]));
        this.session = transport.session;
        this.goodbye = undefined;
        this.startHeartbeat();
        return;
      } catch (error) {
        // A slow trust decision can outlast the server's handshake deadline: the pin is saved, so go again.
        if (pinnedNow && attempt === 0 && isHushError(error, 'CONNECTION_CLOSED')) continue;
        throw error;
      }
    }
  }

  /** Pin check; true when the server was pinned just now. */
  private async checkServer(session: HandshakeResult): Promise<boolean> {
    const server = serverKey(this.host, this.port);
    const decision = decidePin(await this.knownServers.entries(), server, session.fingerprint);
    if (decision.status === 'changed') throw keyChangedError(this.knownServers.path, server, decision.known, session.fingerprint);
    if (this._fingerprint !== '' && this._fingerprint !== session.fingerprint) {
      throw new HushError('SERVER_KEY_CHANGED', `the server key changed during this session: was ${this._fingerprint}, now ${session.fingerprint}`);
    }
    const short = shortFingerprint(session.serverIdentity);
    const expected = this.options.expectedFingerprint;
    if (expected !== undefined && !fingerprintMatches(expected, session.fingerprint, short)) {
      throw new HushError('UNTRUSTED_SERVER', `server fingerprint ${session.fingerprint} does not match the expected ${expected}`);
    }
    let pinned = false;
    if (decision.status === 'new') {
      if (expected === undefined) {
        const trusted = this.options.trust
          ? await this.options.trust({ host: this.host, port: this.port, fingerprint: session.fingerprint, shortFingerprint: short })
          : false;
        if (!trusted) {
          throw new HushError(
            'UNTRUSTED_SERVER',
            `first contact with ${server}: fingerprint ${session.fingerprint} (${short}) was not confirmed`,
          );
        }
      }
      await this.knownServers.add(server, session.fingerprint);
      pinned = true;
    }
    this._fingerprint = session.fingerprint;
    this._shortFingerprint = short;
    return pinned;
  }

  private onMessage(transport: Transport, message: ServerMessage): void {
    if (transport !== this.transport) return;
    this.lastReceived = Date.now();
    if (this.requests.settle(message)) return;
    switch (message.type) {
      case 'ping':
        this.sendQuietly({ type: 'pong', ...(message.nonce === undefined ? {} : { nonce: message.nonce }) });
        return;
      case 'pong':
        return;
      case 'goodbye':
        this.goodbye = { code: message.code, message: message.message };
        return;
      case 'error':
        this.emit('error', new HushError(message.code, message.message));
        return;
      default:
        this.enqueue(() => this.handleEvent(message));
    }
  }

  private enqueue(task: () => Promise<void> | void): void {
    this.inbox = this.inbox.then(task).catch((error: unknown) => this.emitError(error));
  }

  private emitError(error: unknown): void {
    this.emit('error', error instanceof HushError ? error : new HushError('INTERNAL', String(error), { cause: error }));
  }

  private async handleEvent(m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'message':
        this.deliver(this.roomChat(m));
        return;
      case 'dm':
        await this.receiveDm(m);
        return;
      case 'room_event':
        this.applyRoomEvent(m);
        return;
      case 'presence':
        this.emit('presence', { user: m.user, state: m.state, status: m.status });
        return;
      case 'typing_notice':
        this.emit('typing', { from: m.from, target: m.target, active: m.active });
        return;
      case 'read_notice':
        this.emit('read', { from: m.from, target: m.target, msgId: m.msgId });
        return;
      case 'key_change':
        this.updateKeys(m.user, m.devices.map(bundleFromWire));
        return;
      case 'notice':
        this.emit('notice', { level: m.level, ...(m.code === undefined ? {} : { code: m.code }), text: m.text });
        return;
      case 'file_offered':
      case 'file_data':
      case 'file_cancelled':
      case 'file_status':
        await this.files.onServerMessage(m);
        return;
      default:
        return; // replies to requests that timed out, and anything else not meant as an event
    }
  }

  private applyRoomEvent(m: ServerMessageOf<'room_event'>): void {
    const info = this._rooms.get(m.room);
    const me = m.user === this._user;
    switch (m.event) {
      case 'join':
        if (info && !me) info.members++;
        if (me && !info) this.enqueue(() => this.refreshRooms());
        break;
      case 'part':
      case 'kick':
      case 'ban':
        if (me) this._rooms.delete(m.room);
        else if (info) info.members = Math.max(0, info.members - 1);
        break;
      case 'topic':
        if (info && m.topic !== undefined) info.topic = m.topic;
        break;
      case 'role':
        if (info && me && m.role !== undefined) info.role = m.role;
        break;
      default:
        break;
    }
    this.emit('roomEvent', {
      room: m.room, event: m.event, user: m.user, ts: m.ts,
      ...definedOnly({ by: m.by, topic: m.topic, role: m.role, reason: m.reason }),
    });
  }

  /** Emits a message once (by server id) and moves the conversation's catch-up cursor. */
  private deliver(chat: ChatMessage): void {
    if (chat.kind === 'room') this.advanceRoom(chat.room!, chat.id);
    else this.cursors.advance(`@${chat.peer}`, chat.id);
    if (!this.seen.add(chat.id)) return;
    this.emit('message', chat);
  }

  /** A room's catch-up cursor, kept in the user's state file too so a restart starts from it. */
  private advanceRoom(room: string, id: string): void {
    this.cursors.advance(`#${room}`, id);
    if (this.userState?.noteRoom(room, id)) this.userState.saveSoon();
  }

  private roomChat(m: ServerMessageOf<'message'>): ChatMessage {
    return { kind: 'room', id: m.msgId, ts: m.ts, from: m.from, room: m.room, text: m.text, action: m.action, mine: m.from === this._user };
  }

  private async receiveDm(m: DirectWire): Promise<void> {
    if (this.seen.has(m.msgId)) return;
    const opened = await this.openDm(m, true);
    this.noteDm(m.msgId); // handled, even when it could not be opened: offering it again would not help
    if (!opened) return;
    if (opened.chat) this.deliver(opened.chat);
    else if (opened.file) {
      this.seen.add(m.msgId);
      this.files.onDirectOffer(m, opened.file);
    }
  }

  private noteDm(id: string): void {
    const state = this.userState;
    if (state?.noteDm(id)) void state.save().catch((error: unknown) => this.emitError(error));
  }

  /**
   * Opens a sealed DM with the sender's device bundle (fetched if unknown, refetched once on failure),
   * checks the inner routing against the server's, and (live) the per-conversation sequence.
   */
  private async openDm(m: DirectWire, live: boolean): Promise<{ chat?: ChatMessage; file?: DirectFileInfo } | undefined> {
    const me = this._user;
    const device = this.device;
    if (!me || !device) return undefined;
    const peer = m.from === me ? m.to : m.from;
    const warn = (kind: 'replay' | 'gap' | 'undecryptable', missing?: number) => {
      if (live) this.emit('dmWarning', { user: peer, kind, ...(missing === undefined ? {} : { missing }) });
    };
    let inner: DirectInner | undefined;
    let senderKey: Uint8Array | undefined;
    try {
      const sealed = decodeSealedDirect(unb64(m.envelope));
      senderKey = sealed.sender;
      for (const force of [false, true]) {
        const bundles = await this.keysOf(m.from, force);
        const bundle = bundles.find((b) => Buffer.compare(Buffer.from(b.signKey), Buffer.from(sealed.sender)) === 0);
        if (!bundle) continue;
        try {
          inner = openDirect(device, sealed, bundle);
          break;
        } catch {
          // stale bundle? refetch once
        }
      }
    } catch {
      inner = undefined;
    }
    if (!inner || !senderKey || inner.from !== m.from || inner.to !== m.to || (m.to !== me && m.from !== me)) {
      warn('undecryptable');
      return undefined;
    }
    if (live && this.userState) {
      const status = this.userState.checkSequence(directConversation(inner.from, senderKey, inner.to), inner.seq);
      void this.userState.save().catch((error: unknown) => this.emitError(error));
      if (status.status === 'replay') {
        warn('replay');
        return undefined;
      }
      if (status.status === 'gap') warn('gap', status.missing);
    }
    const body = decodeBody(inner.body);
    if (!body) {
      warn('undecryptable');
      return undefined;
    }
    if ('file' in body) return { file: body.file };
    return {
      chat: { kind: 'dm', id: m.msgId, ts: m.ts, from: m.from, peer, text: body.text, action: body.action, mine: m.from === me },
    };
  }

  // ------------------------------------------------------------------------------------------
  // Requests

  /** Public calls: wait out a reconnect instead of failing at once. */
  private async request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>> {
    if (this._state === 'reconnecting') await this.waitReady();
    return this.rawRequest(body, expect);
  }

  /** On this connection now: fails with CONNECTION_CLOSED when there is none. Budgeted frames wait in the outbox. */
  private rawRequest<T extends ServerMessageType>(
    body: RequestBody,
    expect: readonly T[],
    opts: { timeout?: boolean } = {},
  ): Promise<ServerMessageOf<T>> {
    const transport = this.transport;
    if (this.closing || !transport?.isOpen) return Promise.reject(new HushError('CONNECTION_CLOSED'));
    const { message, reply } = this.requests.create(body, expect, opts);
    if (costsMessageBudget(message)) {
      this.outbox.push(message);
      return reply;
    }
    try {
      transport.send([message]);
    } catch (error) {
      this.requests.fail(message, error instanceof HushError ? error : new HushError('CONNECTION_CLOSED', undefined, { cause: error }));
    }
    return reply;
  }

  /** Logged in on an open connection, not catching up: queued sends and signals may go out. */
  private canSend(): boolean {
    return this._state === 'ready' && !this.closing && this.transport?.isOpen === true && this._user !== null && this.userState !== undefined;
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(new HushError('TIMEOUT', 'still reconnecting'));
      }, this.timeoutMs);
      const onState = (state: ConnectionState) => {
        if (state === 'reconnecting' || state === 'connecting') return;
        clearTimeout(timer);
        this.off('state', onState);
        if (state === 'ready') resolve();
        else reject(new HushError('CONNECTION_CLOSED'));
      };
      this.on('state', onState);
    });
  }

  private sendQuietly(message: Parameters<Transport['send']>[0][number]): void {
    try {
      this.transport?.send([message]);
    } catch {
      // closing anyway
    }
  }

  private requireUser(): string {
    if (!this._user || !this.device || !this.userState) throw new HushError('NOT_LOGGED_IN');
    return this._user;
  }

  // ------------------------------------------------------------------------------------------
  // Liveness, reconnect and catch-up

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.lastReceived = Date.now();
    this.heartbeat = setInterval(() => {
      const silent = Date.now() - this.lastReceived;
      if (silent > 3 * HEARTBEAT_MS) this.transport?.destroy(); // dead peer: the close starts a reconnect
      else if (silent > HEARTBEAT_MS) this.sendQuietly({ type: 'ping' });
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private onTransportClosed(transport: Transport, error: Error | undefined): void {
    if (transport !== this.transport) return;
    this.transport = undefined;
    this.outbox.detach();
    this.signals.onDisconnected();
    this.stopHeartbeat();
    // Queued sends stay queued: their requests fail here and go out again after the reconnect.
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.files.onDisconnect();
    if (this.closing || this.reconnecting) return;
    if (this.loggingOut && this._user === null) return; // logout() opens the next connection itself
    const goodbye = this.goodbye;
    this.goodbye = undefined;
    if (goodbye) this.emit('notice', { level: 'warn', code: goodbye.code, text: goodbye.message });
    if ((goodbye && TERMINAL_GOODBYES.has(goodbye.code)) || this.options.reconnect === false) {
      this.finish({ code: goodbye?.code ?? 'CONNECTION_CLOSED', reason: goodbye?.message ?? error?.message ?? 'connection closed' });
      return;
    }
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    this.reconnecting = true;
    this.setState('reconnecting');
    try {
      for (let attempt = 0; !this.closing; attempt++) {
        await this.pause(backoffDelay(attempt));
        if (this.closing) return;
        try {
          await this.openTransport();
          if (this._user) await this.resumeSession();
          if (this.closing) return;
          this.reconnecting = false;
          this.setState('ready');
          return;
        } catch (error) {
          this.transport?.destroy();
          this.transport = undefined;
          if (isHushError(error) && TERMINAL_RECONNECT_ERRORS.has(error.code)) {
            this.emit('error', error);
            this.finish({ code: error.code, reason: error.message });
            return;
          }
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeReconnect = done;
    });
  }

  /** Device login again, then fetch what was missed, holding live events back so order is kept. */
  private resumeSession(): Promise<void> {
    const user = this._user!;
    const device = this.device!;
    return this.holdingEvents(async () => {
      const welcome = await this.deviceLogin(user, device, this.userState?.newestDm);
      this.applyLimits(welcome);
      this.keyCache.clear(); // key_change notices may have been missed
      this.setRooms(welcome.rooms);
      this.resuming = true;
      try {
        await this.catchUp();
      } finally {
        this.resuming = false;
      }
    });
  }

  /**
   * Runs `fn` (a login, a catch-up) while server events wait in the inbox: the offline DMs that follow
   * a welcome need the user's keys and state loaded, and live messages must come after caught-up ones.
   */
  private async holdingEvents<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.inbox = this.inbox.then(() => gate);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Everything after each conversation's cursor, paged, then shown once each in server order. */
  private async catchUp(): Promise<void> {
    const targets: Target[] = [];
    for (const room of this._rooms.keys()) targets.push({ room });
    for (const [key] of this.cursors.entries()) if (key.startsWith('@')) targets.push({ user: key.slice(1) });
    await this.deliverMissed(targets, Infinity);
  }

  /**
   * A new process: each joined room's messages after the newest one a previous run saw (the state
   * file), as events, before live ones. Bounded per room; past the bound the rest stays in history().
   */
  private async catchUpSinceLastRun(): Promise<void> {
    const stored = this.userState!.rooms;
    const targets: Target[] = [];
    for (const room of this._rooms.keys()) {
      const id = stored.get(room);
      if (id === undefined || this.cursors.get(`#${room}`) !== undefined) continue;
      this.cursors.advance(`#${room}`, id);
      targets.push({ room });
    }
    const cut = await this.deliverMissed(targets, RESTART_CATCH_UP_LIMIT);
    for (const target of cut) {
      const room = 'room' in target ? target.room : '';
      this.emit('notice', {
        level: 'warn', code: 'CATCH_UP_LIMIT',
        text: `more than ${RESTART_CATCH_UP_LIMIT} messages in #${room} since this client last ran: the newest are shown, older ones are in its history`,
      });
    }
  }

  /**
   * Fetches each target's messages after its cursor (pages of CATCH_UP_PAGE, at most `limit` per
   * target: the newest ones when there are more) and delivers them in server order. Returns the
   * targets that had more.
   */
  private async deliverMissed(targets: Target[], limit: number): Promise<Target[]> {
    const missed: ServerMessageOf<'history_page'>['messages'] = [];
    const cut: Target[] = [];
    await Promise.all(
      targets.map(async (target) => {
        let after = this.cursors.get(conversationKey(target));
        if (after === undefined) return;
        const mine: typeof missed = [];
        for (;;) {
          const page: ServerMessageOf<'history_page'> = await this.rawRequest(
            { type: 'history', target, after, limit: CATCH_UP_PAGE },
            ['history_page'],
          );
          for (const item of page.messages) {
            mine.push(item);
            if (compareIds(item.msgId, after) > 0) after = item.msgId;
          }
          if (!page.hasMore || page.messages.length === 0) break;
          if (mine.length >= limit) {
            mine.splice(0, mine.length, ...(await this.newestOf(target, limit)));
            cut.push(target);
            break;
          }
        }
        missed.push(...mine);
      }),
    );
    missed.sort((a, b) => compareIds(a.msgId, b.msgId));
    for (const item of missed) {
      if (item.type === 'message') this.deliver(this.roomChat(item));
      else await this.receiveDm(item);
    }
    return cut;
  }

  /** The newest `limit` messages of a conversation, oldest first (paging back from the newest). */
  private async newestOf(target: Target, limit: number): Promise<ServerMessageOf<'history_page'>['messages']> {
    const newest: ServerMessageOf<'history_page'>['messages'] = [];
    let before: string | undefined;
    while (newest.length < limit) {
      const page: ServerMessageOf<'history_page'> = await this.rawRequest(
        { type: 'history', target, limit: CATCH_UP_PAGE, ...(before === undefined ? {} : { before }) },
        ['history_page'],
      );
      newest.unshift(...page.messages);
      const oldest = page.messages[0];
      if (!page.hasMore || !oldest) break;
      before = oldest.msgId;
    }
    return newest.slice(-limit);
  }

  /** Where catch-up starts for rooms not seen yet: their newest message now. */
  private async baselineCursors(): Promise<void> {
    const rooms = [...this._rooms.keys()].filter((room) => this.cursors.get(`#${room}`) === undefined);
    await Promise.all(
      rooms.map(async (room) => {
        const page = await this.rawRequest({ type: 'history', target: { room }, limit: 1 }, ['history_page']);
        const last = page.messages[page.messages.length - 1];
        this.advanceRoom(room, last?.msgId ?? '0');
      }),
    );
  }
}

function roomInfo(r: RoomInfo): RoomInfo {
  return { room: r.room, topic: r.topic, members: r.members, joined: r.joined, ...(r.role === undefined ? {} : { role: r.role }) };
}

/** Copies an object without its undefined properties (keeps optional fields out of the frame). */
function definedOnly<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** An expected fingerprint may be given in full (`SHA512:...`), without the prefix, or as the short digits. */
export function fingerprintMatches(expected: string, full: string, short: string): boolean {
  const e = expected.trim();
  if (e === full || `SHA512:${e}` === full) return true;
  const digits = e.replace(/\s+/g, '');
  return /^\d{30}$/.test(digits) && digits === short.replace(/\s+/g, '');
}

/** Sequence-tracker key of one sending device's conversation with a user. */
function directConversation(from: string, senderKey: Uint8Array, to: string): string {
  return `${from}/${deviceId(senderKey)}>${to}`;
}

/** Lists are paged to fit one record: follows `next` until the server has sent everything. */
async function allPages<T>(fetch: (cursor?: string) => Promise<{ items: T[]; next?: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    all.push(...page.items);
    cursor = page.next;
  } while (cursor !== undefined);
  return all;
}
