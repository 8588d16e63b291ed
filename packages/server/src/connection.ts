// One client connection: socket <-> MessageChannel, the handshake and its deadline, the auth
// deadline, flood control, heartbeats, protocol errors, and dispatch to the handlers.
import type { Socket } from 'node:net';
import {
  encodeFrame,
  MAX_TEXT_LENGTH,
  MessageChannel,
  ProtocolError,
  SUPPORTED_VERSIONS,
  handshakeFromWire,
  handshakeToWire,
  type ClientMessage,
  type ProtocolErrorCode,
  type ServerMessage,
  type SessionLimits,
} from '@hush/protocol';
import { isCryptoError, ServerHandshake, type ServerIdentity } from '@hush/crypto';
import { RequestError } from './errors.js';
import type { ClusterSender } from './cluster-sender.js';
import type { HushdConfig } from './config.js';
import type { FileRelay } from './files.js';
import type { PresenceBatch } from './handlers/presence-batch.js';
import type { Session } from './handlers/session.js';
import { ANONYMOUS_TYPES, dispatch, type Handlers } from './handlers/index.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { type FlushScheduler, OutboundQueue, type SharedBlock } from './outbound.js';
import type { OnlineUser, OnlineUsers } from './online-users.js';
import { FloodGuard, TokenBucket, type UserBudgets } from './rate-limit.js';
import type { RoomRegistry } from './rooms.js';
import { isStoreUnavailable, STORE_RETRY_AFTER_MS } from './store/availability.js';

type State = 'handshake' | 'auth' | 'ready' | 'closed';

const EMPTY = new Uint8Array(0);
/** Protocol errors a connection may cause before it is cut off (refilled slowly). */
const ERROR_BUDGET = 10;
const ERROR_REFILL_PER_SECOND = 0.2;
/** Requests held while an earlier one is being handled (a login, a store call) before the socket is no longer read. */
const MAX_HELD = 256;
/** After goodbye, the socket is destroyed once the peer has read nothing for this long... */
const LINGER_MS = 1000;
/** ...or after this long in all, even if it trickles. */
const LINGER_MAX_MS = 30_000;
/** Errors that leave the channel unusable: the connection closes at once. */
const FATAL: ReadonlySet<ProtocolErrorCode> = new Set(['BAD_RECORD', 'FRAME_TOO_LARGE']);
/** Request refusals that count as abuse (others are ordinary answers). */
const ABUSIVE: ReadonlySet<ProtocolErrorCode> = new Set(['AUTH_REQUIRED', 'FORBIDDEN', 'BAD_REQUEST']);

/** The server's parts a connection works with, and the handlers it dispatches to. */
export interface ConnectionContext {
  /** The live configuration (a reload may change the limits). */
  config: Pick<HushdConfig, 'limits'>;
  logger: Pick<Logger, 'debug' | 'warn' | 'error'>;
  metrics: Pick<Metrics, 'inc'>;
  online: Pick<OnlineUsers<Session>, 'remove'>;
  rooms: Pick<RoomRegistry<Session>, 'leave'>;
  presence: Pick<PresenceBatch, 'changed'>;
  files: Pick<FileRelay, 'sessionClosed'>;
  /** Each user's message budget, shared by their sessions. */
  userBudgets: Pick<UserBudgets, 'bucket'>;
  /** Counts each message sent here for the other nodes (a user's budget holds across them). */
  cluster: Pick<ClusterSender, 'messageSent'>;
  handlers: Handlers;
  now(): number;
}

export interface ConnectionOptions {
  id: number;
  address: string;
  context: ConnectionContext;
  identity: ServerIdentity;
  scheduler: FlushScheduler;
  onClose(connection: Connection): void;
}

export class Connection implements Session {
  readonly id: number;
  readonly address: string;
  sessionId: Uint8Array = EMPTY;
  version = 0;
  user: OnlineUser<Session> | null = null;
  onWritable: (() => void) | null = null;
  readonly limits: SessionLimits;

  private state: State = 'handshake';
  private readonly ctx: ConnectionContext;
  private readonly channel: MessageChannel<'client'>;
  private readonly queue: OutboundQueue;
  private handshake: ServerHandshake | null = null;
  private deadline: NodeJS.Timeout | null;
  private resumeTimer: NodeJS.Timeout | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private lastHeard: number;
  private lastPing = 0;
  private readonly messageBudget: FloodGuard;
  private readonly signalBudget: FloodGuard;
  private readonly byteBucket: TokenBucket;
  private readonly fileByteBucket: TokenBucket;
  private readonly errorBucket: TokenBucket;
  /** Set while a request is being handled asynchronously: later ones wait in `held`, in order. */
  private busy = false;
  private held: ClientMessage[] = [];
  /** The socket is not read while this many requests are held: the peer waits, nothing is refused. */
  private heldFull = false;
  private tornDown = false;
  /** When the peer connected, and why the connection ended (for the `disconnected` log line). */
  private readonly openedAt: number;
  private closedFor: string | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    this.address = options.address;
    this.ctx = options.context;
    const limits = this.ctx.config.limits;
    const now = this.ctx.now();
    this.openedAt = now;
    this.lastHeard = now;
    this.limits = {
      messagesPerSecond: limits.messagesPerSecond,
      messageBurst: limits.messageBurst,
      signalsPerSecond: limits.signalsPerSecond,
      signalBurst: limits.signalBurst,
      maxTextLength: MAX_TEXT_LENGTH,
    };
    this.messageBudget = new FloodGuard(limits.messagesPerSecond, limits.messageBurst, now);
    this.signalBudget = new FloodGuard(limits.signalsPerSecond, limits.signalBurst, now);
    this.byteBucket = new TokenBucket(limits.bytesPerSecond, limits.byteBurst, now);
    this.fileByteBucket = new TokenBucket(limits.fileBytesPerSecond, limits.fileByteBurst, now);
    this.errorBucket = new TokenBucket(ERROR_REFILL_PER_SECOND, ERROR_BUDGET, now);
    this.channel = new MessageChannel({
      peer: 'client',
      handshakeMaxFrameSize: limits.handshakeMaxFrameSize,
      maxFrameSize: limits.maxFrameSize,
    });
    this.queue = new OutboundQueue(socket, this.channel, options.scheduler, {
      maxQueueBytes: limits.maxQueueBytes,
      onOverflow: () => this.overflow(),
      onFrameError: (error) => {
        this.ctx.logger.error('frame_failed', { conn: this.id, error });
        this.close('INTERNAL', 'could not frame a reply');
      },
      onWritable: () => this.onWritable?.(),
      onRecords: (count) => this.ctx.metrics.inc('hush_records_out_total', count),
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.ctx.logger.debug('socket_error', { conn: this.id, error }));
    socket.on('close', () => this.teardown());
    this.deadline = setTimeout(() => {
      this.ctx.metrics.inc('hush_handshake_failures_total');
      this.close('HANDSHAKE_TIMEOUT', 'the handshake took too long');
    }, limits.handshakeTimeoutMs);
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get backlog(): number {
    return this.queue.backlog;
  }

  get loggedIn(): boolean {
    return this.state === 'ready';
  }

  send(message: ServerMessage): void {
    this.ctx.metrics.inc('hush_messages_out_total');
    this.queue.push(JSON.stringify(message));
  }

  /** A line relayed from others (fan-out): see OutboundQueue for why it gets more grace than replies. */
  sendLine(line: string): void {
    this.queue.pushRelayed(line);
  }

  sendBlock(block: SharedBlock): void {
    this.queue.pushRelayed(block);
  }

  authenticated(user: OnlineUser<Session>): void {
    this.user = user;
    this.state = 'ready';
    this.clearDeadline();
  }

  /** Heartbeat and idle check, called by the server's sweep. */
  tick(now: number): void {
    if (this.state !== 'auth' && this.state !== 'ready') return;
    this.queue.check(now);
    if (this.closed) return;
    const limits = this.ctx.config.limits;
    if (now - this.lastHeard >= limits.idleTimeoutMs) {
      this.close('IDLE_TIMEOUT', 'no traffic for too long');
      return;
    }
    if (now - this.lastHeard >= limits.heartbeatMs && now - this.lastPing >= limits.heartbeatMs) {
      this.lastPing = now;
      this.send({ type: 'ping' });
    }
  }

  close(code: ProtocolErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.closedFor = code;
    const goodbye: ServerMessage = { type: 'goodbye', code, message };
    if (this.channel.secure) {
      // Everything queued (acks included) goes out ahead of the goodbye, past any backpressure.
      this.queue.finish(JSON.stringify(goodbye));
    } else {
      this.queue.close();
      this.socket.write(encodeFrame(Buffer.from(JSON.stringify(goodbye))));
    }
    this.finish();
  }

  end(): void {
    if (this.state === 'closed') return;
    this.closedFor = 'logout';
    this.queue.finish();
    this.finish();
  }

  /** Ends the socket after what is written; destroys it only once the peer stops reading. */
  private finish(): void {
    this.socket.end();
    // Keep reading (and discarding): closing with unread input would reset the connection and
    // the peer could lose the goodbye still in its receive buffer.
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
    this.socket.resume();
    this.linger(this.socket.writableLength, 0);
    this.teardown();
  }

  /**
   * A peer that reads gets everything, goodbye included, however much was buffered ahead of it:
   * the socket is destroyed only after LINGER_MS without progress (or LINGER_MAX_MS in all).
   * Once everything has reached the kernel, the peer gets LINGER_MS more to read and close.
   */
  private linger(left: number, waited: number): void {
    this.lingerTimer = setTimeout(() => {
      if (this.socket.destroyed) return;
      const now = this.socket.writableLength;
      if (left > 0 && now < left && waited + LINGER_MS < LINGER_MAX_MS) this.linger(now, waited + LINGER_MS);
      else this.socket.destroy();
    }, LINGER_MS);
    this.lingerTimer.unref();
  }

  private overflow(): void {
    if (this.state === 'closed') return;
    this.ctx.metrics.inc('hush_queue_drops_total');
    this.ctx.logger.warn('queue_overflow', { conn: this.id, user: this.user?.name });
    try {
      // Behind what the socket already holds (not behind the dropped queue): a reader gets it.
      const goodbye: ServerMessage = { type: 'goodbye', code: 'QUEUE_OVERFLOW', message: 'not reading fast enough' };
      for (const frame of this.channel.frame([goodbye])) this.socket.write(frame);
    } catch {
      // Nothing more to tell a peer we are cutting off.
    }
    this.finish();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const now = this.ctx.now();
    this.lastHeard = now;
    const metered = this.channel.secure;
    // Charged to chat first; file chunks move their bytes to the file budget once decoded.
    if (metered) this.byteBucket.take(now, chunk.length);
    this.process(chunk);
    if (metered) this.throttleBytes(now);
  }

  private process(chunk: Buffer): void {
    let items = this.receive(chunk);
    while (items.length > 0) {
      const secure = this.channel.secure;
      for (const item of items) {
        if (this.closed) return;
        if (item instanceof ProtocolError) this.protocolError(item, item.re);
        else this.handle(item);
      }
      // Before the upgrade the channel yields one handshake frame per call and holds the rest.
      if (secure || this.closed) return;
      items = this.receive(EMPTY);
    }
  }

  private receive(chunk: Uint8Array): Array<ClientMessage | ProtocolError> {
    try {
      return this.channel.receiveEach(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) return [error];
      throw error;
    }
  }

  /** Bytes cannot be refused once received: a peer over a byte budget is simply not read for a while. */
  private throttleBytes(now: number): void {
    if (this.state === 'closed') return;
    const wait = Math.max(this.byteBucket.waitMs(now, 0), this.fileByteBucket.waitMs(now, 0));
    if (wait > 0 && this.resumeTimer === null) {
      this.socket.pause();
      this.resumeTimer = setTimeout(() => {
        this.resumeTimer = null;
        if (this.state !== 'closed' && !this.heldFull) this.socket.resume();
      }, wait);
    }
  }

  private protocolError(error: ProtocolError, re?: string): void {
    this.ctx.metrics.inc('hush_protocol_errors_total');
    this.ctx.logger.debug('protocol_error', { conn: this.id, code: error.code });
    if (!this.channel.secure) {
      this.ctx.metrics.inc('hush_handshake_failures_total');
      this.close(error.code, error.message);
      return;
    }
    this.send({
      type: 'error',
      code: error.code,
      message: error.message.slice(0, 500),
      ...(re !== undefined ? { re } : {}),
      ...(error.path !== undefined && error.code === 'SCHEMA_VIOLATION' ? { path: error.path.slice(0, 200) } : {}),
    });
    if (FATAL.has(error.code)) this.close(error.code, 'closing the connection');
    else this.countAbuse(error.code);
  }

  private countAbuse(code: ProtocolErrorCode): void {
    if (!this.errorBucket.tryTake(this.ctx.now())) this.close(code, 'too many errors');
  }

  private handle(m: ClientMessage): void {
    if (this.state === 'handshake') {
      this.handleHandshake(m);
      return;
    }
    this.ctx.metrics.inc('hush_messages_in_total');
    const re = 'id' in m ? m.id : undefined;
    if (!this.admitMessage(m, re)) return;
    // Pings are answered at once, even behind a request that waits for the store: they order nothing.
    if (this.busy && m.type !== 'ping' && m.type !== 'pong') {
      this.held.push(m);
      if (this.held.length >= MAX_HELD && !this.heldFull) {
        this.heldFull = true;
        this.socket.pause();
      }
      return;
    }
    this.run(m, re);
  }

  /**
   * A session's requests are handled in the order they arrived: while one waits for the store (or
   * a password hash), the next ones are held. A handler that needs nothing it must wait for (a
   * send queued into the turn's batch) runs to completion at once.
   */
  private run(m: ClientMessage, re: string | undefined): void {
    if (this.state !== 'ready' && !ANONYMOUS_TYPES.has(m.type)) {
      this.reject(re, new RequestError('AUTH_REQUIRED', 'log in first'));
      return;
    }
    try {
      const pending = dispatch(this.ctx.handlers, this, m);
      if (pending) {
        this.busy = true;
        pending
          .catch((error: unknown) => this.reject(re, error))
          .finally(() => {
            this.busy = false;
            this.runHeld();
          });
      }
    } catch (error) {
      this.reject(re, error);
    }
  }

  /** Held requests run now, in order, until one of them has to wait in turn. */
  private runHeld(): void {
    while (!this.busy && this.held.length > 0) {
      if (this.state === 'closed') {
        this.held = [];
        return;
      }
      const m = this.held.shift()!;
      this.run(m, 'id' in m ? m.id : undefined);
    }
    if (this.heldFull && this.held.length < MAX_HELD / 2 && this.state !== 'closed') {
      this.heldFull = false;
      if (this.resumeTimer === null) this.socket.resume();
    }
  }

  /**
   * Message rate limit, per connection and per user. File chunks are paced by their acks and the file byte budget instead;
   * signals (typing, read) by their own budget, spent in their handlers through `signal()`.
   */
  private admitMessage(m: ClientMessage, re: string | undefined): boolean {
    if (m.type === 'file_chunk') {
      const now = this.ctx.now();
      this.byteBucket.refund(m.data.length);
      this.fileByteBucket.take(now, m.data.length);
      return true;
    }
    if (m.type === 'ping' || m.type === 'pong' || m.type === 'typing' || m.type === 'read') return true;
    const now = this.ctx.now();
    // Once logged in, the user's budget too: shared by their sessions here and on other nodes.
    const name = this.user?.name;
    const userBudget = name === undefined ? undefined : this.ctx.userBudgets.bucket(name, now);
    const verdict = this.messageBudget.take(now, userBudget);
    if (verdict === 'ok') {
      if (name !== undefined) this.ctx.cluster.messageSent(name);
      return true;
    }
    if (verdict === 'flood') this.floodDisconnect('messages');
    else this.reject(re, new RequestError('RATE_LIMITED', 'too many messages', this.messageBudget.waitMs(now, userBudget)));
    return false;
  }

  signal(): boolean {
    const verdict = this.signalBudget.take(this.ctx.now());
    if (verdict === 'flood') this.floodDisconnect('signals');
    return verdict === 'ok';
  }

  private floodDisconnect(what: 'messages' | 'signals'): void {
    this.ctx.logger.warn('flood_disconnect', { conn: this.id, user: this.user?.name, what });
    this.close('RATE_LIMITED', 'flooding');
  }

  private reject(re: string | undefined, error: unknown): void {
    if (this.state === 'closed') return;
    if (isStoreUnavailable(error)) {
      this.send({
        type: 'error',
        code: 'INTERNAL',
        message: error.message,
        ...(re !== undefined ? { re } : {}),
        retryAfterMs: STORE_RETRY_AFTER_MS,
      });
      return;
    }
    if (!(error instanceof RequestError)) {
      this.ctx.logger.error('handler_failed', { conn: this.id, error });
      this.send({ type: 'error', code: 'INTERNAL', message: 'internal server error', ...(re !== undefined ? { re } : {}) });
      return;
    }
    this.ctx.metrics.inc('hush_protocol_errors_total');
    this.send({
      type: 'error',
      code: error.code,
      message: error.message.slice(0, 500),
      ...(re !== undefined ? { re } : {}),
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: Math.max(0, Math.ceil(error.retryAfterMs)) } : {}),
    });
    if (ABUSIVE.has(error.code)) this.countAbuse(error.code);
  }

  private handleHandshake(m: ClientMessage): void {
    try {
      if (m.type === 'client_hello' && this.handshake === null) {
        this.handshake = new ServerHandshake({ identity: this.options.identity, versions: [...SUPPORTED_VERSIONS] });
        const hello = this.handshake.receive(handshakeFromWire(m));
        // Written at once and in plaintext: the queue only carries sealed records.
        this.socket.write(this.channel.frame([handshakeToWire('server_hello', hello)])[0]!);
        return;
      }
      if (m.type === 'client_finished' && this.handshake !== null) {
        const result = this.handshake.finish(handshakeFromWire(m));
        this.handshake = null;
        this.channel.upgrade(result.cipher);
        this.sessionId = result.sessionId;
        this.version = result.version;
        this.state = 'auth';
        this.clearDeadline();
        this.deadline = setTimeout(() => this.close('AUTH_REQUIRED', 'log in sooner'), this.ctx.config.limits.authTimeoutMs);
        return;
      }
    } catch (error) {
      this.ctx.metrics.inc('hush_handshake_failures_total');
      if (isCryptoError(error, 'VERSION_MISMATCH') && m.type === 'client_hello') {
        this.ctx.logger.debug('handshake_failed', { conn: this.id, code: 'UNSUPPORTED_VERSION' });
        this.close('UNSUPPORTED_VERSION', versionMismatchMessage(m.versions));
        return;
      }
      this.ctx.logger.debug('handshake_failed', { conn: this.id, code: 'HANDSHAKE_FAILED' });
      this.close('HANDSHAKE_FAILED', 'handshake failed');
      return;
    }
    this.ctx.metrics.inc('hush_handshake_failures_total');
    this.close('HANDSHAKE_REQUIRED', 'complete the handshake first');
  }

  private clearDeadline(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = null;
  }

  /** Session cleanup, once: presence, rooms index, downloads, server bookkeeping. */
  private teardown(): void {
    this.state = 'closed';
    if (this.tornDown) return;
    this.tornDown = true;
    this.clearDeadline();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.queue.close();
    this.held = [];
    this.ctx.files.sessionClosed(this);
    const user = this.user;
    this.ctx.logger.debug('disconnected', {
      conn: this.id,
      user: user?.name ?? null,
      reason: this.closedFor ?? 'peer_closed',
      ms: this.ctx.now() - this.openedAt,
    });
    if (user && this.ctx.online.remove(user, this)) {
      for (const room of user.rooms.keys()) this.ctx.rooms.leave(room, user);
      this.ctx.presence.changed(user.name, 'offline', '');
    }
    this.options.onClose(this);
  }
}

/** What a peer with no version in common is told: which side is older and must be upgraded. */
function versionMismatchMessage(peerVersions: readonly number[]): string {
  const ours = SUPPORTED_VERSIONS.join(', ');
  const theirs = peerVersions.slice(0, 16).join(', ');
  const older =
    Math.max(...peerVersions) < Math.min(...SUPPORTED_VERSIONS)
      ? 'the client is older than this server: upgrade the client'
      : 'the client is newer than this server: ask the server operator to upgrade hushd';
  return `no protocol version in common (server speaks ${ours}, client ${theirs}); ${older}`;
}
