import { DeviceIdentity, deviceId, signDeviceLogin } from '@hush/crypto';
import {
  MAX_HISTORY_PAGE,
  MAX_REACTION_LENGTH,
  messageId,
  reaction,
  requestInVersion,
  type MessageRef,
  type ServerMessage,
  type ServerMessageOf,
  type ServerMessageType,
} from '@hush/protocol';
import { CatchUp } from './catch-up.js';
import { ConversationLedger, listedRef, roomMessage, type IncomingMessage } from './conversation-ledger.js';
import { isEnding } from './connection-state.js';
import { Connection } from './connection.js';
import { DeviceLock } from './device-lock.js';
import { DeviceStore } from './device-store.js';
import type { DirectBody } from './direct-body.js';
import { DirectMessages, type Account } from './direct-messages.js';
import { TypedEmitter } from './emitter.js';
import { HushError, isHushError } from './errors.js';
import { FileKeyStore } from './file-keys.js';
import { FileTransfers } from './file-transfers.js';
import { JoinedRooms, roomInfo, type OwnMove, type RoomChanges } from './joined-rooms.js';
import { LocalHistory } from './local-history.js';
import { DEVICE_READDED_NOTICE, passwordChangeRequest, removeDeviceRequest } from './own-devices.js';
import { ReadMarkers } from './read-markers.js';
import { RoomCrypto } from './room-crypto.js';
import { RoomKeyStore } from './room-keys.js';
import { SeenIds } from './message-ids.js';
import { DEFAULT_CLIENT_LIMITS, limitsFrom, type ClientLimits } from './limits.js';
import { defaultPaths, type ClientPaths } from './paths.js';
import type { RequestBody } from './requests.js';
import { SendQueue, SENDS_HELD, SENDS_RESUMED } from './send-queue.js';
import { ServerPin } from './server-pin.js';
import { Signals } from './signals.js';
import type {
  ChatMessage,
  ClientEvents,
  ConnectionState,
  ConnectOptions,
  FileOffer,
  MemberInfo,
  PendingSend,
  Reaction,
  RoomInfo,
  RoomKind,
  RoomRole,
  SearchResult,
  Target,
  UserInfo,
} from './types.js';
import { openServerHome, type ServerHome } from './server-home.js';
import { SessionStore } from './session-store.js';
import { UserState } from './user-state.js';
import { b64, bundleFromWire, bundleToWire } from './wire.js';

const DEFAULT_TIMEOUT_MS = 15_000;

type Welcome = ServerMessageOf<'welcome'>;

/**
 * The headless Hush client: one connection to one server, pinned like SSH, with device-key login,
 * end-to-end direct messages, automatic reconnect and catch-up. See README.md.
 *
 * A facade: the connection core (connection.ts) owns the socket, requests, reconnects and event
 * order; direct messages, catch-up, files, sends and signals each live in their own module. This
 * class holds the session (who is logged in, the joined rooms) and turns server events into events.
 */
export class HushClient extends TypedEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  readonly paths: ClientPaths;
  /** This server's folders and device keys: known once its key is verified (connect). */
  private home!: ServerHome;
  private devices!: DeviceStore;
  /** Held while logged in: one process at a time per device. */
  private deviceLock: DeviceLock | undefined;
  /** Resolves once a session the server ended for good has released this device. */
  private freed: Promise<void> = Promise.resolve();
  private readonly pin: ServerPin;
  private readonly connection: Connection;
  private account: Account | undefined;
  private readonly joined = new JoinedRooms();
  private readonly seen = new SeenIds();
  /** Edits, deletes and reactions folded into the messages they change. */
  private readonly ledger = new ConversationLedger();
  /** What this account received, for search; opened at login. */
  private localHistory: LocalHistory | undefined;
  private _limits: ClientLimits = { ...DEFAULT_CLIENT_LIMITS };
  private readonly catchUp: CatchUp;
  private readonly dms: DirectMessages;
  /** This account's sender keys for end-to-end rooms; loaded at login. */
  private roomKeys: RoomKeyStore | undefined;
  private readonly roomCrypto: RoomCrypto;
  private readonly files: FileTransfers;
  private readonly sends: SendQueue;
  private readonly signals: Signals;
  private readonly reads = new ReadMarkers();

  private constructor(options: ConnectOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.paths = options.paths ?? defaultPaths();
    const emit = this.emit.bind(this);
    this.pin = new ServerPin(this.paths.configDir, options);
    this.connection = new Connection(
      {
        addresses: [{ host: this.host, port: this.port }, ...(options.failover ?? [])],
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        reconnect: options.reconnect !== false,
      },
      {
        emit,
        verifyServer: (session) => this.pin.check(session),
        onEvent: (message) => this.handleEvent(message),
        loggedIn: () => this.account !== undefined,
        resume: () => this.resumeSession(),
        onDisconnected: () => {
          this.signals.onDisconnected();
          this.files.onDisconnect();
        },
        onReady: () => {
          if (!this.account) return;
          this.signals.onConnected();
          this.sends.pump();
          this.files.onReconnected();
        },
        sendsSettled: () => this.sends.settled(),
        onClosing: (why) => {
          this.sends.rejectAll(new HushError('CONNECTION_CLOSED', why));
          this.signals.rejectAll(new HushError('CONNECTION_CLOSED'));
          this.files.abortAll();
        },
      },
    );
    this.catchUp = new CatchUp({
      emit,
      request: (body, expect) => this.connection.rawRequest(body, expect),
      show: async (item) => {
        if (item.type === 'message') await this.receiveRoom(item, 'missed');
        else await this.receiveDm(item);
      },
      roomCursorMoved: (room, id) => {
        const state = this.account?.state;
        if (state?.noteRoom(room, id)) state.saveSoon();
      },
    });
    this.dms = new DirectMessages({
      emit,
      account: () => this.account,
      // While catching up after a reconnect the state is still 'reconnecting': waiting for 'ready'
      // here would wait for ourselves (and time out, leaving missed DMs unopened).
      request: (body, expect) =>
        this.connection.phase === 'resuming' ? this.connection.rawRequest(body, expect) : this.connection.request(body, expect),
      queueSend: (...args) => this.queueSend(...args),
      afterEvents: (task) => this.connection.enqueue(task),
      reportError: (error) => this.connection.emitError(error),
    });
    this.roomCrypto = new RoomCrypto({
      emit,
      keys: () => (this.account && this.roomKeys ? { user: this.account.user, store: this.roomKeys } : undefined),
      memberNames: async (room) => (await this.members(room)).map((m) => m.user),
      devicesOf: (user) => this.dms.deviceIdsOf(user),
      sendKey: async (user, distribution) => {
        await this.dms.send(user, { roomKey: b64(distribution) });
      },
      deliver: (chat) => this.deliver(chat, true),
      fileOffer: (from, file) => this.files.onSealedOffer(from, file),
    });
    this.files = new FileTransfers({
      emit,
      request: (body, expect) => this.request(body, expect),
      sendRaw: (message) => this.connection.send(message),
      waitWritable: () => this.connection.waitWritable(),
      sendDirectBody: (user, body) => this.dms.send(user, body),
      sendRoomBody: async (room, body) => {
        await this.sendSealed(room, body, { target: { room }, text: '', action: false, listed: false });
      },
      isE2eRoom: (room) => this.isE2eRoom(room),
      me: () => this.user,
    });
    this.sends = new SendQueue({
      ready: () => this.canSend(),
      request: (body) => this.connection.rawRequest(body, ['ack'], { timeout: false }),
      backOff: (ms) => this.connection.backOff(ms),
      changed: () => this.emit('outbox', this.sends.pending),
      held: (held) => this.emit('notice', held ? SENDS_HELD : SENDS_RESUMED),
    });
    this.signals = new Signals({
      connected: () => this.canSend(),
      sendTyping: (target, active) => this.connection.send({ type: 'typing', target, active }),
      sendRead: async (target, msgId) => {
        await this.connection.rawRequest({ type: 'read', target, msgId }, ['ok']);
      },
    });
    // Ended by the server for good (banned, device removed): once its state is written, the device is
    // free; close() resolves after that.
    this.on('closed', () => {
      const lock = this.deviceLock;
      if (lock)
        this.freed = Promise.resolve(this.account?.state.flush())
          .catch(() => undefined)
          .then(() => lock.release());
    });
  }

  /** TCP + handshake + pin check. Throws HushError('SERVER_KEY_CHANGED' | 'UNTRUSTED_SERVER' | 'CONNECT_FAILED' | 'BAD_REQUEST' for an address that is none | ...). */
  static async connect(options: ConnectOptions): Promise<HushClient> {
    const client = new HushClient(options);
    await client.connection.start();
    try {
      // Local state belongs to the server's key, not to the address typed (see server-home.ts).
      client.home = await openServerHome(client.paths.dataDir, client.pin.fingerprint, client.pin.sameKey);
    } catch (error) {
      await client.close();
      throw new HushError('INTERNAL', `cannot open this server's local state: ${String(error)}`, { cause: error });
    }
    client.devices = new DeviceStore(client.home.devices);
    return client;
  }

  get fingerprint(): string {
    return this.pin.fingerprint;
  }
  get shortFingerprint(): string {
    return this.pin.shortFingerprint;
  }
  get user(): string | null {
    return this.account?.user ?? null;
  }
  get state(): ConnectionState {
    return this.connection.state;
  }
  get rooms(): ReadonlyMap<string, RoomInfo> {
    return this.joined.view;
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

  async register(username: string, password: string, opts: { invite?: string | undefined } = {}): Promise<void> {
    await this.withDeviceLock(username, () => this.connection.holdingEvents(() => this.registerNow(username, password, opts)));
  }

  private async registerNow(username: string, password: string, opts: { invite?: string | undefined }): Promise<void> {
    const device = this.devices.load(username)?.device ?? DeviceIdentity.generate();
    const reply = await this.request(
      { type: 'register', username, password, device: bundleToWire(device.bundle()), ...(opts.invite ? { invite: opts.invite } : {}) },
      ['welcome', 'ok'],
    );
    if (reply.type === 'welcome') await this.afterWelcome(reply, device, false);
    else await this.passwordLogin(username, password, device);
    // The new account was put into rooms (the default room): what was said there before is closed to it.
    for (const [room, info] of this.joined.view) if (info.kind === 'e2e') this.e2eRoomJoined(room);
  }

  /** Device login when this device is bound to `username` on this server, else password (required then). */
  async login(username: string, password?: string): Promise<void> {
    await this.withDeviceLock(username, () => this.connection.holdingEvents(() => this.loginNow(username, password)));
  }

  /**
   * Runs a login of `username` holding its device's lock (HushError('DEVICE_IN_USE') before anything
   * is read when another process holds it); the lock stays while logged in.
   */
  private async withDeviceLock(username: string, login: () => Promise<void>): Promise<void> {
    const held = this.deviceLock;
    const before = this.account;
    const lock = held?.isFor(this.home.devices, username) ? held : DeviceLock.acquire(this.home.devices, username);
    try {
      await login();
    } finally {
      // A welcome (even if a step after it failed) means this device is in use now: hold its lock.
      if (this.account !== undefined && this.account !== before) {
        if (held !== lock) held?.release();
        this.deviceLock = lock;
      } else if (lock !== held) lock.release();
    }
  }

  private async loginNow(username: string, password?: string): Promise<void> {
    const stored = this.devices.load(username);
    let removed = false;
    if (stored?.bound) {
      try {
        const name = username.toLowerCase();
        const state = await this.stateOf(name);
        const welcome = await this.deviceLogin(name, stored.device, state.dmSince());
        await this.afterWelcome(welcome, stored.device, true, welcome.user === name ? state : undefined);
        return;
      } catch (error) {
        if (!(isHushError(error, 'DEVICE_UNKNOWN') || isHushError(error, 'AUTH_FAILED')) || password === undefined) throw error;
        removed = isHushError(error, 'DEVICE_UNKNOWN');
      }
    }
    if (password === undefined) throw new HushError('PASSWORD_REQUIRED');
    const firstHere = await this.passwordLogin(username, password, stored?.device ?? DeviceIdentity.generate());
    // A device new to the account (or to this data folder) opens nothing sealed before it existed.
    if (firstHere) {
      for (const [room, info] of this.joined.view) if (info.kind === 'e2e') this.e2eRoomJoined(room, true);
    } else if (removed) this.emit('notice', DEVICE_READDED_NOTICE);
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
    await this.request({ type: 'logout' }, ['ok']);
    await this.connection.loggedOut(async () => {
      this.sends.rejectAll(new HushError('NOT_LOGGED_IN', 'logged out before the message was sent'));
      this.signals.rejectAll(new HushError('NOT_LOGGED_IN'));
      await this.account?.state.flush();
      this.account = undefined;
      this.deviceLock?.release();
      this.deviceLock = undefined;
      this.localHistory = undefined;
      this.roomKeys = undefined;
      this.joined.clear();
      this.dms.forgetKeys();
    });
  }

  /** True at this device's first login to the account (see afterWelcome). */
  private async passwordLogin(username: string, password: string, device: DeviceIdentity): Promise<boolean> {
    const welcome = await this.request({ type: 'login', username, password, device: bundleToWire(device.bundle()) }, ['welcome']);
    return this.afterWelcome(welcome, device, false);
  }

  /**
   * `since`: the newest DM this device has handled ("0" before its first). The server's delivery
   * cursor moves when a DM is queued to us, so one written into a dying socket is only offered again
   * because of it.
   */
  private deviceLogin(username: string, device: DeviceIdentity, since: string): Promise<Welcome> {
    const session = this.connection.session;
    if (!session) throw new HushError('CONNECTION_CLOSED');
    const signature = signDeviceLogin(device, session.sessionId, username, new Uint8Array(0));
    return this.connection.rawRequest(
      {
        type: 'device_login',
        username,
        signKey: b64(device.signPublicKey),
        signature: b64(signature),
        since,
      },
      ['welcome'],
    );
  }

  /** The persisted state of `user` (the loaded one when it is the current user). */
  private async stateOf(user: string): Promise<UserState> {
    if (this.account?.user === user) return this.account.state;
    return UserState.load(this.home.state, user);
  }

  /** True at this device's first login to the account: it has no state of it yet. */
  private async afterWelcome(welcome: Welcome, device: DeviceIdentity, wasBound: boolean, state?: UserState): Promise<boolean> {
    const kept = this.account?.user === welcome.user ? this.account : undefined;
    if (!kept) this.reads.clear();
    await this.devices.save(welcome.user, device, welcome.deviceBound || wasBound);
    this.account = {
      user: welcome.user,
      device,
      state: kept?.state ?? state ?? (await UserState.load(this.home.state, welcome.user)),
      sessions: kept?.sessions ?? (await SessionStore.load(this.home.state, welcome.user)),
    };
    const firstHere = this.account.state.noteStart(welcome.serverTime);
    if (firstHere) await this.account.state.save();
    await this.publishPrekeys();
    await this.noteOwnDevices();
    if (!kept || !this.roomKeys) {
      this.roomKeys = await RoomKeyStore.load(this.home.state, {
        user: welcome.user,
        device: deviceId(device.signPublicKey),
      });
    }
    this.localHistory = LocalHistory.for(this.home.history, welcome.user);
    this.files.useKeys(await FileKeyStore.load(this.home.state, welcome.user));
    this.applyLimits(welcome);
    this.replaceRooms(welcome.rooms);
    await this.catchUp.sinceLastRun(this.joined.names(), this.account.state.rooms);
    await this.catchUp.baseline(this.joined.names());
    await this.catchUpReads();
    this.signals.onConnected();
    this.sends.pump();
    return firstHere;
  }

  /** Prekeys for forward-secret DMs; a failure is reported, the login stands (DMs to us wait for them). */
  private async publishPrekeys(): Promise<void> {
    try {
      await this.dms.publishPrekeys();
    } catch (error) {
      this.connection.emitError(error);
    }
  }

  /**
   * This account's device set as the server has it now: one added since this device last looked
   * (while it was away, or later by a key_change) is said (a notice OWN_DEVICE_ADDED).
   */
  private async noteOwnDevices(): Promise<void> {
    try {
      await this.dms.deviceIdsOf(this.requireUser());
    } catch (error) {
      this.connection.emitError(error);
    }
  }

  private applyLimits(welcome: Welcome): void {
    this._limits = limitsFrom(welcome);
    this.connection.pace(this._limits.messagesPerSecond, this._limits.messageBurst);
    this.signals.configure(this._limits.signalsPerSecond, this._limits.signalBurst);
  }

  /** After a reconnect: device login again, then fetch what was missed, holding live events back so order is kept. */
  private resumeSession(): Promise<void> {
    const { user, device, state } = this.account!;
    return this.connection.holdingEvents(async () => {
      const welcome = await this.deviceLogin(user, device, state.dmSince());
      this.applyLimits(welcome);
      this.dms.forgetKeys(); // key_change notices may have been missed
      this.roomCrypto.forgetMembers(); // and room events
      this.joined.forgetCalls(); // the events our room calls waited for among them
      await this.publishPrekeys();
      const changes = this.replaceRooms(welcome.rooms);
      await this.catchUp.baseline(changes.joined.map((r) => r.room));
      this.movedWhileAway(changes, welcome.serverTime);
      await this.catchUp.afterReconnect(this.joined.names());
      await this.catchUpReads();
    });
  }

  /**
   * The account's read markers as the server keeps them (protocol 6): a conversation read on another
   * device while this one was away is told as read here (a 'read' event from this user), after the
   * messages caught up, as it would have been live. A failure is reported; the login stands.
   */
  private async catchUpReads(): Promise<void> {
    const version = this.connection.session?.version;
    const user = this.account?.user;
    if (version === undefined || user === undefined || !requestInVersion('read_markers_get', version)) return;
    try {
      const reply = await this.connection.rawRequest({ type: 'read_markers_get' }, ['read_markers']);
      for (const m of this.reads.merge(reply.markers)) this.emit('read', { from: user, target: m.target, msgId: m.msgId });
    } catch (error) {
      this.connection.emitError(error);
    }
  }

  /**
   * Rooms joined, created or left on another device while this one was disconnected, told as if
   * live (`elsewhere`; what a room's list entry cannot tell, a create, is told as a join).
   */
  private movedWhileAway(changes: RoomChanges, ts: number): void {
    const user = this.requireUser();
    const away = { user, ts, elsewhere: true, whileAway: true };
    for (const room of changes.left) this.emit('roomEvent', { room, event: 'part', ...away });
    for (const r of changes.joined) {
      if (r.kind === 'e2e') this.e2eRoomJoined(r.room);
      this.emit('roomEvent', { room: r.room, event: 'join', ...away, ...definedOnly({ role: r.role }) });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Rooms

  /** `kind`: 'e2e' (end to end), or 'open' (server-readable; server admins only); the server's default without it. */
  async createRoom(room: string, topic?: string, kind?: RoomKind): Promise<void> {
    await this.ownMove('create', room, {
      type: 'room_create',
      room,
      ...(topic === undefined ? {} : { topic }),
      ...(kind === undefined ? {} : { kind }),
    });
    await this.refreshRooms();
  }

  /**
   * Joining an end-to-end room gives a notice (E2E_ROOM_JOINED): what was said before stays closed to
   * this device. So does registering, for the rooms a new account is put in.
   */
  async joinRoom(room: string): Promise<void> {
    const already = this.joined.view.has(room);
    if (already) await this.request({ type: 'room_join', room }, ['ok', 'rooms']);
    else await this.ownMove('join', room, { type: 'room_join', room });
    await this.refreshRooms();
    if (!already && this.joined.view.get(room)?.kind === 'e2e') this.e2eRoomJoined(room);
  }

  /** `newDevice`: this device is new to the account (the user may have read more on another). */
  private e2eRoomJoined(room: string, newDevice = false): void {
    const reader = newDevice
      ? 'this device reads what is sent from now on; earlier messages stay closed to it'
      : 'you read what is sent from now on; earlier messages stay closed to you';
    this.emit('notice', { level: 'info', code: 'E2E_ROOM_JOINED', text: `#${room} is end-to-end encrypted: ${reader}` });
  }

  async partRoom(room: string): Promise<void> {
    await this.ownMove('part', room, { type: 'room_part', room });
    this.joined.left(room);
  }

  /** A create, join or part of this client: its event is told apart from one made on another device. */
  private async ownMove(move: OwnMove, room: string, body: RequestBody): Promise<void> {
    const undo = this.joined.calling(move, room);
    try {
      await this.request(body, ['ok']);
    } catch (error) {
      undo();
      throw error;
    }
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
    this.joined.topicSet(room, topic);
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

  /**
   * The rooms as the server lists them. A room this device saw end to end never becomes open
   * silently: it stays end to end here (nothing is sent to it in clear nor shown from it in clear)
   * and the downgrade is said.
   */
  private replaceRooms(rooms: readonly RoomInfo[]): RoomChanges {
    const changes = this.joined.replace(rooms);
    for (const r of rooms) {
      if (!r.joined || this.roomKeys?.noteKind(r.room, r.kind) !== 'downgrade') continue;
      this.emit('notice', {
        level: 'warn',
        code: 'E2E_ROOM_DOWNGRADE',
        text: `#${r.room} was end-to-end encrypted and the server now calls it open: nothing is sent to it or shown from it in clear`,
      });
    }
    return changes;
  }

  /** Sealed for this device: the server says so, or this device saw it so before (a downgrade is refused). */
  private isE2eRoom(room: string): boolean {
    return this.joined.view.get(room)?.kind === 'e2e' || this.roomKeys?.kindOf(room) === 'e2e';
  }

  private async refreshRooms(): Promise<void> {
    const list = await this.listRooms();
    this.replaceRooms(list);
    await this.catchUp.baseline(this.joined.names());
  }

  /**
   * The kind of joined room `room`, for something about to be sent there (a caller looks a room not
   * known here yet up first: joined or created on another device a moment ago). Nothing goes out in
   * clear unless the room is known to be open: a room not joined is refused (NOT_MEMBER), and so is
   * one this device saw end to end that the server now calls open (E2E_ROOM_DOWNGRADE).
   */
  private sendingKind(room: string): RoomKind {
    const kind = this.joined.view.get(room)?.kind;
    if (kind === undefined) throw new HushError('NOT_MEMBER', `you are not in #${room}: not sent`);
    if (kind !== 'e2e' && this.isE2eRoom(room))
      throw new HushError('E2E_ROOM_DOWNGRADE', `#${room} was end-to-end encrypted and the server now calls it open: not sent`);
    return kind;
  }

  /** sendingKind of a room, after fetching the list when it is not known here. */
  private async lookedUpKind(room: string): Promise<RoomKind> {
    if (!this.joined.view.has(room)) await this.refreshRooms();
    return this.sendingKind(room);
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

  // ------------------------------------------------------------------------------------------
  // Replies, edits, deletes, reactions: messages that refer to an earlier one, sent (paced, retried
  // with the same key) like any message. In a room the server checks them (NOT_FOUND for a message
  // of another room or one you cannot see, FORBIDDEN for someone else's); in a direct conversation
  // they travel sealed and both ends apply the same rules.

  /** Answers message `msgId` of `target`. Settles as `send` does. */
  reply(target: Target, msgId: string, text: string): Promise<{ id: string; ts: number }> {
    this.checkText(text);
    return this.sendRef(target, text, { kind: 'reply', msgId });
  }

  /** Replaces the text of your own message `msgId`. */
  edit(target: Target, msgId: string, text: string): Promise<{ id: string; ts: number }> {
    this.checkText(text);
    return this.sendRef(target, text, { kind: 'edit', msgId });
  }

  /**
   * Takes message `msgId` back: yours; in an open room a room operator may delete anyone's. In an
   * end-to-end room no server can vouch for an operator, so members apply only the author's delete:
   * deleting someone else's message there is refused (FORBIDDEN) before anything is sent.
   */
  delete(target: Target, msgId: string): Promise<{ id: string; ts: number }> {
    const author = this.ledger.get(msgId)?.from;
    if ('room' in target && this.isE2eRoom(target.room) && author !== undefined && author !== this.user) {
      return Promise.reject(
        new HushError(
          'FORBIDDEN',
          `in an end-to-end room only its author can delete a message (this one is ${author}'s); moderators can kick, mute or ban`,
        ),
      );
    }
    return this.sendRef(target, '', { kind: 'delete', msgId });
  }

  /** Adds (`on`) or removes your `emoji` on message `msgId`. */
  react(target: Target, msgId: string, emoji: string, on: boolean): Promise<{ id: string; ts: number }> {
    if (!reaction.safeParse(emoji).success) {
      return Promise.reject(
        new HushError('BAD_REQUEST', `a reaction is one emoji of at most ${MAX_REACTION_LENGTH} characters, without spaces`),
      );
    }
    return this.sendRef(target, '', { kind: 'react', msgId, emoji, on });
  }

  /** The latest state of message `msgId` (edited text, deleted, reactions), if this client has seen it. */
  message(msgId: string): ChatMessage | undefined {
    return this.ledger.get(msgId);
  }

  /** Who reacted with what to message `msgId`. */
  reactions(msgId: string): Reaction[] {
    return this.ledger.reactions(msgId);
  }

  /**
   * Messages whose latest text holds every word of `query`, newest first: in `opts.target`, or in
   * every conversation. Searches this device's local history (see README), not the server.
   */
  async search(query: string, opts: { target?: Target | undefined } = {}): Promise<SearchResult[]> {
    if (!this.localHistory) throw new HushError('NOT_LOGGED_IN');
    return this.localHistory.search(query, opts.target);
  }

  private async sendRef(target: Target, text: string, ref: MessageRef): Promise<{ id: string; ts: number }> {
    if ('room' in target) return this.sendRoom(target.room, text, false, ref);
    const from = this.requireUser();
    const ack = await this.dms.send(target.user, { text, action: false, ref });
    this.deliver({ kind: 'dm', id: ack.id, ts: ack.ts, from, peer: target.user, text, action: false, mine: true, ref });
    return ack;
  }

  private async sendRoom(room: string, text: string, action: boolean, ref?: MessageRef): Promise<{ id: string; ts: number }> {
    const from = this.requireUser();
    if (!ref) this.checkText(text);
    const bodiless = ref?.kind === 'delete' || ref?.kind === 'react';
    // Only a room not known here waits for the list: a known one's send is queued at once (pendingSends).
    const sealed = (this.joined.view.has(room) ? this.sendingKind(room) : await this.lookedUpKind(room)) === 'e2e';
    const what = { target: { room }, text, action, listed: listedRef(ref) };
    const ack = sealed
      ? await this.sendSealed(room, { text: bodiless ? '' : text, action, ...(ref ? { ref } : {}) }, what)
      : await this.queueSend(what, async (key) => ({
          type: 'send',
          room,
          key,
          ...(bodiless ? {} : { text }),
          ...(action ? { action: true } : {}),
          ...(ref ? { ref } : {}),
        }));
    // The server echoes it ahead of the ack, in server order among the room's messages: that echo,
    // already in the inbox, shows it. Delivering after it in the inbox only covers a missing echo
    // (e.g. the room was left meanwhile, or a resend the server had stored already) and keeps it
    // shown exactly once, in order.
    const chat: IncomingMessage = {
      kind: 'room',
      id: ack.msgId,
      ts: ack.ts,
      from,
      room,
      text,
      action,
      mine: true,
      ...(ref ? { ref } : {}),
    };
    await new Promise<void>((resolve) =>
      this.connection.enqueue(() => {
        resolve();
        this.deliver(chat);
      }),
    );
    return { id: ack.msgId, ts: ack.ts };
  }

  /**
   * `body` sealed under our sender key for end-to-end room `room`. Our key goes to every member
   * device lacking it first: those DMs go out ahead of this message (urgent), which waits in the
   * outbox meanwhile (its gate), however long an outage lasts.
   */
  private async sendSealed(room: string, body: DirectBody, what: Parameters<SendQueue['add']>[0]): Promise<ServerMessageOf<'ack'>> {
    let envelope = '';
    const ack = await this.queueSend({ ...what, gate: () => this.roomCrypto.distribute(room) }, async (key) => {
      envelope = await this.roomCrypto.seal(room, body);
      return { type: 'send', room, key, envelope };
    });
    // Its place in our chain is used: a catch-up that fetches it again knows it (a failed write is said).
    void this.roomCrypto.sent(room, envelope, ack.msgId).catch((error: unknown) => this.connection.emitError(error));
    return ack;
  }

  /** End-to-end sealed to every device of `user` and this account's own devices. Settles as `send` does. */
  async sendDirect(user: string, text: string, opts: { action?: boolean | undefined } = {}): Promise<{ id: string; ts: number }> {
    const action = opts.action === true;
    const from = this.requireUser();
    this.checkText(text);
    const ack = await this.dms.send(user, { text, action });
    this.deliver({ kind: 'dm', id: ack.id, ts: ack.ts, from, peer: user, text, action, mine: true });
    return ack;
  }

  private queueSend(...args: Parameters<SendQueue['add']>): ReturnType<SendQueue['add']> {
    if (isEnding(this.connection.phase)) return Promise.reject(new HushError('CONNECTION_CLOSED', 'the client is closed'));
    this.connection.retrySoon();
    return this.sends.add(...args);
  }

  /** A person's text, checked before anything is sent: the server would only answer SCHEMA_VIOLATION. */
  private checkText(text: string): void {
    if (text.length === 0) throw new HushError('BAD_REQUEST', 'a message cannot be empty');
    const max = this._limits.maxTextLength;
    if (text.length > max)
      throw new HushError('TEXT_TOO_LONG', `the text has ${text.length} characters; the server accepts at most ${max}: split it`);
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
    if (!messageId.safeParse(msgId).success) {
      return Promise.reject(
        new HushError('BAD_REQUEST', `${JSON.stringify(msgId)} is no message id: ids are the decimal strings messages carry`),
      );
    }
    this.reads.advance(target, msgId);
    return this.signals.markRead(target, msgId);
  }

  /**
   * The newest message of `target` this account has marked read, on this device or another (as the
   * server had it at login or the last reconnect, and live since), or undefined.
   */
  lastRead(target: Target): string | undefined {
    return this.reads.get(target);
  }

  /** One page of history, oldest first; `before` pages back. DMs are opened here (undecryptable ones are left out). */
  async history(
    target: Target,
    opts: { before?: string | undefined; limit?: number | undefined } = {},
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    // Edits, deletes and reactions on a page are folded into the messages they change (also those
    // of earlier pages, fetched later: the ledger keeps them until their message comes). A page of
    // nothing but changes shows nothing: the next one is fetched, so a caller paging back from the
    // oldest message it got never sees an empty page while there is more.
    const limit = opts.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_PAGE) {
      throw new HushError('BAD_REQUEST', `a history page holds 1 to ${MAX_HISTORY_PAGE} messages (asked for ${limit})`);
    }
    const texts: IncomingMessage[] = [];
    // An end-to-end room's messages opened before (by an earlier run, or sent by this device) come
    // from the local history: their keys have moved on.
    const kept =
      'room' in target && this.joined.view.get(target.room)?.kind === 'e2e' ? await this.localHistory?.messages(target) : undefined;
    let before = opts.before;
    let hasMore: boolean;
    do {
      const page = await this.request({ type: 'history', target, limit, ...(before === undefined ? {} : { before }) }, ['history_page']);
      // A sender key that came ahead of the page (one handed out while this device was away) is taken first.
      if (page.messages.some((item) => item.type === 'message' && item.envelope !== undefined)) await this.eventsHandled();
      const found: IncomingMessage[] = [];
      for (const item of page.messages) {
        let m: IncomingMessage | undefined;
        if (item.type === 'message') {
          if (item.envelope !== undefined) m = kept?.get(item.msgId) ?? (await this.roomCrypto.open(item, 'page'));
          else if (!this.isE2eRoom(item.room)) m = this.roomChat(item);
        } else {
          const opened = await this.dms.open(item, false);
          if (opened && 'chat' in opened) m = opened.chat;
        }
        if (!m) continue;
        if (!isChange(m)) found.push(m);
        else {
          this.remember(m);
          this.ledger.change(m);
        }
      }
      texts.unshift(...found);
      hasMore = page.hasMore;
      before = page.messages[0]?.msgId;
    } while (texts.length === 0 && hasMore && before !== undefined);
    texts.forEach((m) => this.remember(m, this.ledger.message(m)));
    return { messages: texts.map((m) => this.ledger.get(m.id)!), hasMore };
  }

  // ------------------------------------------------------------------------------------------
  // Moderation

  /** In an end-to-end room, our next message there goes under a fresh key (even ahead of the kick's event). */
  async kick(room: string, user: string, reason?: string): Promise<void> {
    await this.request({ type: 'kick', room, user, ...(reason === undefined ? {} : { reason }) }, ['ok']);
    if (this.joined.view.get(room)?.kind === 'e2e') await this.roomCrypto.memberRemoved(room);
  }

  /** A banned account leaves every room: our next message in each end-to-end room goes under a fresh key. */
  async ban(opts: {
    user?: string | undefined;
    address?: string | undefined;
    reason?: string | undefined;
    seconds?: number | undefined;
  }): Promise<void> {
    await this.request({ type: 'ban', ...definedOnly(opts) }, ['ok']);
    if (opts.user === undefined) return;
    for (const [room, info] of this.joined.view) if (info.kind === 'e2e') await this.roomCrypto.memberRemoved(room);
  }

  async unban(opts: { user?: string | undefined; address?: string | undefined }): Promise<void> {
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
  safetyNumber(user: string): Promise<string> {
    return this.dms.safetyNumber(user);
  }

  /** Marks the contact's current keys as verified (persisted). */
  verifyContact(user: string): Promise<void> {
    return this.dms.verify(user);
  }

  isVerified(user: string): boolean {
    return this.dms.isVerified(user);
  }

  /** This device's id (as listDevices gives it) once logged in, else undefined. */
  get deviceId(): string | undefined {
    return this.account ? deviceId(this.account.device.signPublicKey) : undefined;
  }

  /**
   * The devices of `user` (this account's own when omitted) in the server's key directory, by the id
   * `hushd user devices` prints; `thisDevice` marks the one this client runs on.
   */
  async listDevices(user?: string): Promise<{ id: string; thisDevice: boolean; added?: number; lastLogin?: number }[]> {
    const account = this.account;
    if (!account) throw new HushError('NOT_LOGGED_IN');
    const own = deviceId(account.device.signPublicKey);
    const whose = user ?? account.user;
    const ids = await this.dms.deviceIdsOf(whose);
    const times = whose === account.user ? await this.ownDeviceTimes() : new Map<string, { added: number; lastLogin: number }>();
    return ids.map((id) => ({ id, thisDevice: whose === account.user && id === own, ...times.get(id) }));
  }

  /** When each device of this account was added and last logged in (protocol 6; none from an older server). */
  private async ownDeviceTimes(): Promise<Map<string, { added: number; lastLogin: number }>> {
    const version = this.connection.session?.version;
    if (version === undefined || !requestInVersion('devices_get', version)) return new Map();
    const reply = await this.request({ type: 'devices_get' }, ['devices']);
    return new Map(reply.devices.map((d) => [d.device, { added: d.added, lastLogin: d.lastLogin }]));
  }

  /**
   * Removes another device of this account (a lost laptop) with the account's password, as the admin's
   * `hushd user remove-device` does: its connections close, it logs in again only with the password,
   * and the remaining devices get OWN_DEVICE_REMOVED. Throws HushError with the server's words:
   * AUTH_FAILED / RATE_LIMITED as a login, FORBIDDEN for this device, NOT_FOUND for an id not of this account.
   */
  async removeDevice(deviceId: string, password: string): Promise<void> {
    this.requireUser();
    await this.request(removeDeviceRequest(deviceId, password, this.liveVersion()), ['ok']);
  }

  /**
   * Changes this account's password, given the current one (checked as a login's: AUTH_FAILED,
   * RATE_LIMITED). PASSWORD_WEAK names the rule the new one breaks. The account's devices stay
   * logged in: removeDevice logs out one that may be in the wrong hands.
   */
  async changePassword(current: string, next: string): Promise<void> {
    this.requireUser();
    if (next === current) throw new HushError('PASSWORD_WEAK', 'the new password is the current one');
    await this.request(passwordChangeRequest(current, next, this.liveVersion()), ['ok']);
  }

  // ------------------------------------------------------------------------------------------
  // Files

  async sendFile(target: Target, path: string): Promise<{ fileId: string }> {
    this.requireUser();
    if ('room' in target) await this.lookedUpKind(target.room); // sealed or not goes by the room's kind
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

  /**
   * The newest message of `room` that this device had seen when it last ran (from its state file),
   * or undefined: what came after it arrived while the app was closed ("new since you were here").
   */
  seenInLastRun(room: string): string | undefined {
    return this.catchUp.seenInLastRun(room);
  }

  pendingFiles(): FileOffer[] {
    return this.files.pending();
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** Clean close: no reconnect, pending calls rejected with CONNECTION_CLOSED, socket ended. */
  async close(): Promise<void> {
    await this.connection.close(async (final) => {
      await this.account?.state.flush();
      await (final ? this.localHistory?.close() : this.localHistory?.flushed());
      await this.roomKeys?.flushed();
      await this.files.flushed();
      // Everything written: another process may use this device now.
      if (final) this.deviceLock?.release();
    });
    await this.freed;
  }

  // ------------------------------------------------------------------------------------------
  // Requests and server events

  /** Public calls: wait out a reconnect instead of failing at once. */
  private request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>> {
    return this.connection.request(body, expect);
  }

  /** Resolves once every server event received so far has been handled. */
  private eventsHandled(): Promise<void> {
    return new Promise((resolve) => this.connection.enqueue(resolve));
  }

  /** Logged in on an open connection, not catching up: queued sends and signals may go out. */
  private canSend(): boolean {
    return this.connection.usable && this.account !== undefined;
  }

  private requireUser(): string {
    if (!this.account) throw new HushError('NOT_LOGGED_IN');
    return this.account.user;
  }

  /**
   * The protocol version of the open connection, for requests that carry a password: those are not
   * queued for a reconnect (the password is not kept), and the server's version must be known.
   */
  private liveVersion(): number {
    const version = this.connection.usable ? this.connection.session?.version : undefined;
    if (version === undefined) throw new HushError('CONNECTION_CLOSED');
    return version;
  }

  private async handleEvent(m: ServerMessage): Promise<void> {
    switch (m.type) {
      case 'message':
        await this.receiveRoom(m, 'live');
        return;
      case 'dm':
        await this.receiveDm(m);
        return;
      case 'room_event':
        await this.applyRoomEvent(m);
        return;
      case 'presence':
        this.emit('presence', { user: m.user, state: m.state, status: m.status });
        return;
      case 'typing_notice':
        this.emit('typing', { from: m.from, target: m.target, active: m.active });
        return;
      case 'read_notice':
        if (m.from === this.account?.user) this.reads.advance(m.target, m.msgId);
        this.emit('read', { from: m.from, target: m.target, msgId: m.msgId });
        return;
      case 'prekeys_low':
        this.connection.enqueue(() => this.publishPrekeys());
        return;
      case 'key_change':
        this.dms.keysChanged(m.user, m.devices.map(bundleFromWire));
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

  /**
   * A room this user joined or created on another device is looked up before its event is told (and
   * before the events behind it): listeners find it in `rooms`, with its kind.
   */
  private async applyRoomEvent(m: ServerMessageOf<'room_event'>): Promise<void> {
    // Someone left an end-to-end room: our next message there goes under a key they never had.
    if ((m.event === 'part' || m.event === 'kick' || m.event === 'ban') && this.joined.view.get(m.room)?.kind === 'e2e') {
      void this.roomCrypto.memberRemoved(m.room).catch((error: unknown) => this.connection.emitError(error));
    }
    if (m.event === 'join' || m.event === 'create') this.roomCrypto.memberAdded(m.room);
    const mine = m.user === this.user;
    const elsewhere = this.joined.madeElsewhere(m, mine);
    if (this.joined.apply(m, mine)) await this.refreshRooms().catch((error: unknown) => this.connection.emitError(error));
    if (elsewhere && m.event === 'join' && this.joined.view.get(m.room)?.kind === 'e2e') this.e2eRoomJoined(m.room);
    this.emit('roomEvent', {
      room: m.room,
      event: m.event,
      user: m.user,
      ts: m.ts,
      ...definedOnly({ by: m.by, topic: m.topic, role: m.role, reason: m.reason }),
      ...(elsewhere ? { elsewhere } : {}),
    });
  }

  /**
   * Emits a message once (by server id) and moves the conversation's catch-up cursor. One that
   * `waited` for its sender's key, or older than a message handled already, is emitted `late`.
   */
  private deliver(chat: IncomingMessage, waited = false): void {
    const target = chat.kind === 'room' ? { room: chat.room! } : { user: chat.peer! };
    const late = waited || this.catchUp.isBehind(target, chat.id);
    this.catchUp.advance(target, chat.id);
    if (!this.seen.add(chat.id)) return;
    if (!isChange(chat)) {
      const view = this.ledger.message(chat);
      this.remember(chat, view);
      this.emit('message', late ? { ...view, late: true } : view);
    } else {
      this.remember(chat);
      const update = this.ledger.change(chat);
      if (update) this.emit('messageUpdate', update);
    }
    if (chat.kind === 'dm') this.dms.shown(chat.id);
  }

  /** Into the local history; a message known to be deleted already goes in without its text. */
  private remember(m: IncomingMessage, view?: ChatMessage): void {
    this.localHistory?.record(view?.deleted ? { ...m, text: '', deleted: true } : m);
  }

  private roomChat(m: ServerMessageOf<'message'>): IncomingMessage {
    return { ...roomMessage(m, m, this.user), ...(m.deleted ? { deleted: true } : {}) };
  }

  /** A room message: an end-to-end one is opened first (or waits for its sender's key). */
  private async receiveRoom(m: ServerMessageOf<'message'>, arrival: 'live' | 'missed'): Promise<void> {
    if (m.envelope === undefined) {
      if (!this.isE2eRoom(m.room)) {
        this.deliver(this.roomChat(m));
        return;
      }
      this.emit('notice', {
        level: 'warn',
        code: 'E2E_ROOM_MESSAGE',
        text: `#${m.room}, from ${m.from}: a message in clear in an end-to-end room: ignored`,
      });
    } else if (!this.seen.has(m.msgId)) {
      const chat = await this.roomCrypto.open(m, arrival);
      if (chat) return this.deliver(chat);
      if (this.roomCrypto.isHeld(m)) return; // the cursor moves once it opens
    }
    // Handled with nothing to show (a room file offer, a message refused and said): the next
    // catch-up starts after it, and fetches it never again.
    this.catchUp.advance({ room: m.room }, m.msgId);
  }

  private async receiveDm(m: ServerMessageOf<'dm'>): Promise<void> {
    if (this.seen.has(m.msgId)) return;
    const opened = await this.dms.open(m, true);
    this.dms.handled(m.msgId); // even when it could not be opened: offering it again would not help
    if (!opened) return;
    if ('chat' in opened) this.deliver(opened.chat);
    else if ('roomKey' in opened) {
      this.seen.add(m.msgId);
      await this.roomCrypto.accept(opened.from, opened.roomKey).then(
        () => this.dms.shown(m.msgId), // stored: not accepted again if the server offers it again
        (error: unknown) => this.connection.emitError(error),
      );
    } else {
      this.seen.add(m.msgId);
      this.files.onSealedOffer(m.from, opened.file);
      this.dms.shown(m.msgId);
    }
  }
}

/** An edit, delete or reaction: it changes a message rather than being one. */
function isChange(m: IncomingMessage): boolean {
  return m.ref !== undefined && m.ref.kind !== 'reply';
}

/** Copies an object without its undefined properties (keeps optional fields out of the frame). */
function definedOnly<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
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
