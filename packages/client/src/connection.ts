import type { HandshakeResult } from '@hush/crypto';
import type { ClientMessage, ServerMessage, ServerMessageOf, ServerMessageType } from '@hush/protocol';
import { backoffDelay } from './backoff.js';
import { isEnding, publicState, transition, type Phase } from './connection-state.js';
import { HushError, isHushError, type HushErrorCode } from './errors.js';
import { costsMessageBudget, Outbox } from './outbox.js';
import { DEFAULT_CLIENT_LIMITS } from './limits.js';
import { Liveness, LIVENESS_TICK_MS } from './liveness.js';
import { TokenPacer } from './pacer.js';
import { Requests, type RequestBody } from './requests.js';
import { AddressRing, type ServerAddress } from './server-addresses.js';
import { Transport } from './transport.js';
import type { ConnectionState, EmitEvent } from './types.js';

/** How long close() lets sends already made be acknowledged before it fails them. */
const CLOSE_SENDS_GRACE_MS = 1_000;
/** Reconnect attempts that a sender hurries (retrySoon) begin at least this far apart. */
const RETRY_SPACING_MS = 1_000;
/**
 * A reconnect attempt that hears no server hello for this long gives up for the next one: a dead
 * path (a network that swallows everything) never answers, while hushd says hello within
 * milliseconds even when thousands reconnect at once (about 2,000 handshakes a second per core).
 */
const RECONNECT_HELLO_TIMEOUT_MS = 5_000;
/** goodbye codes after which reconnecting would be wrong. */
const TERMINAL_GOODBYES = new Set<string>(['BANNED', 'KICKED', 'AUTH_FAILED', 'TOO_MANY_CONNECTIONS', 'DEVICE_UNKNOWN']);
/** Failures while reconnecting that retrying cannot fix. */
const TERMINAL_RECONNECT_ERRORS = new Set<HushErrorCode>([
  'SERVER_KEY_CHANGED',
  'UNTRUSTED_SERVER',
  'AUTH_FAILED',
  'DEVICE_UNKNOWN',
  'BANNED',
  'UNSUPPORTED_VERSION',
]);

export interface ConnectionOptions {
  /** The server's addresses (the nodes of a cluster share its identity), dialled round robin. */
  addresses: readonly ServerAddress[];
  timeoutMs: number;
  /** Reconnect after a drop (false: a drop closes the client). */
  reconnect: boolean;
}

/** What the connection core needs from the session above it. */
export interface ConnectionHost {
  emit: EmitEvent;
  /** The pin check of each new connection (throw to refuse); true when the server was pinned just now. */
  verifyServer(session: HandshakeResult): Promise<boolean>;
  /** A server event that is not a reply, in arrival order (see holdingEvents). */
  onEvent(message: ServerMessage): Promise<void> | void;
  /** A session to resume after a reconnect. */
  loggedIn(): boolean;
  /** Logs in again on the new connection and catches up; the phase is 'resuming' meanwhile. */
  resume(): Promise<void>;
  /** The connection dropped: forget what only lived on it. */
  onDisconnected(): void;
  /** The state turned 'ready': what waited for a connection may go out. */
  onReady(): void;
  /** Closing for good: fail everything that waits for the server (`why` goes into the errors). */
  onClosing(why: string): void;
  /** Resolves once the sends made so far are acknowledged or refused. */
  sendsSettled(): Promise<void>;
}

/**
 * The connection core under HushClient: the transport of the moment, requests and their replies, the
 * paced outbox, the heartbeat, the reconnect loop, and the order in which server events reach the
 * session. Its one `phase` follows connection-state.ts.
 */
export class Connection {
  private _phase: Phase = 'connecting';
  private _state: ConnectionState = 'connecting';
  private transport: Transport | undefined;
  private _session: HandshakeResult | undefined;
  private readonly requests: Requests;
  private readonly addresses: AddressRing;
  private readonly outbox = new Outbox(
    new TokenPacer(DEFAULT_CLIENT_LIMITS.messagesPerSecond, DEFAULT_CLIENT_LIMITS.messageBurst, Date.now()),
  );
  /** Server events are handled one after another (some need a key lookup first). */
  private inbox: Promise<void> = Promise.resolve();
  private goodbye: { code: string; message: string } | undefined;
  /** Ends the reconnect loop's back-off early, though not before `soonest` (ms since the epoch). */
  private wakeReconnect: ((soonest?: number) => void) | undefined;
  /** When the reconnect loop last began an attempt: retrySoon() keeps attempts this far apart. */
  private lastAttemptAt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private liveness = new Liveness(Date.now());
  /** The one shutdown in progress: a second close() waits for it. */
  private shutdown: Promise<void> | undefined;
  private readonly stateWaiters = new Set<(state: ConnectionState) => void>();

  constructor(
    private readonly options: ConnectionOptions,
    private readonly host: ConnectionHost,
  ) {
    this.requests = new Requests(options.timeoutMs);
    this.addresses = new AddressRing(options.addresses);
  }

  get phase(): Phase {
    return this._phase;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The handshake of the current connection (device logins sign its session id). */
  get session(): HandshakeResult | undefined {
    return this._session;
  }

  /** Open and 'ready' (not catching up, not closing): paced sends and signals may go out. */
  get usable(): boolean {
    return this._phase === 'ready' && this.transport?.isOpen === true;
  }

  /**
   * The first connection: resolves once it is open and pinned. Each address is tried once, in turn;
   * a refused identity ends the attempt at once (a node with another key is not the server).
   */
  async start(): Promise<void> {
    const failures: string[] = [];
    for (;;) {
      const address = await this.addresses.next();
      try {
        await this.open(address);
        break;
      } catch (error) {
        if (!isHushError(error) || TERMINAL_RECONNECT_ERRORS.has(error.code) || this.addresses.size === 1) throw error;
        failures.push(describeFailure(address, error));
        if (failures.length >= this.addresses.size) {
          throw new HushError(error.code, `no address of the server answered: ${failures.join('; ')}`, { cause: error });
        }
      }
    }
    this.move('ready');
  }

  /**
   * Someone is waiting on the server (a line was sent): a reconnect waiting out its back-off, which
   * grows to 10 s, tries now. Attempts stay RETRY_SPACING_MS apart, so a busy sender cannot hammer.
   */
  retrySoon(): void {
    if (this._phase === 'reconnecting') this.wakeReconnect?.(this.lastAttemptAt + RETRY_SPACING_MS);
  }

  /** The server refused for lack of tokens: hold the outbox for `ms`. */
  backOff(ms: number): void {
    this.outbox.backOff(ms);
  }

  /** The server's message budget changed (a welcome). */
  pace(perSecond: number, burst: number): void {
    this.outbox.pacer.configure(perSecond, burst, Date.now());
  }

  // ------------------------------------------------------------------------------------------
  // Requests

  /**
   * Public calls: wait out a reconnect, however long, instead of failing; the timeout counts from
   * when the request goes out. A call that never reached the server has not timed out: failing it
   * would report an error for something that works once the connection is back.
   */
  async request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>> {
    // Not once closing: close() waits for the events being handled, which would wait for this.
    if (this._state === 'reconnecting' && !isEnding(this._phase)) await this.waitReady();
    return this.rawRequest(body, expect);
  }

  /** On this connection now: fails with CONNECTION_CLOSED when there is none. Budgeted frames wait in the outbox. */
  rawRequest<T extends ServerMessageType>(
    body: RequestBody,
    expect: readonly T[],
    opts: { timeout?: boolean } = {},
  ): Promise<ServerMessageOf<T>> {
    const transport = this.transport;
    if (isEnding(this._phase) || !transport?.isOpen) return Promise.reject(new HushError('CONNECTION_CLOSED'));
    const { message, reply } = this.requests.create(body, expect, opts);
    if (costsMessageBudget(message)) {
      this.outbox.push(message);
      return reply;
    }
    try {
      this.write(transport, message);
    } catch (error) {
      this.requests.fail(message, error instanceof HushError ? error : new HushError('CONNECTION_CLOSED', undefined, { cause: error }));
    }
    return reply;
  }

  /** A frame that is not a request (typing, file chunks): throws when there is no connection. */
  send(message: ClientMessage): void {
    this.transport?.send([message]);
  }

  /** Resolves when the socket can take more (file uploads wait here instead of filling memory). */
  async waitWritable(): Promise<void> {
    const t = this.transport;
    if (t?.congested) await t.waitDrain();
  }

  /** A request onto `transport`: its reply is now due (see Liveness). */
  private write(transport: Transport, message: ClientMessage): void {
    transport.send([message]);
    if (transport === this.transport) this.liveness.asked(Date.now());
  }

  private sendQuietly(message: ClientMessage): void {
    try {
      this.transport?.send([message]);
    } catch {
      // closing anyway
    }
  }

  /** Resolves once ready again; rejects with CONNECTION_CLOSED when the client ends instead. */
  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onState = (state: ConnectionState) => {
        if (state === 'reconnecting' || state === 'connecting') return;
        this.stateWaiters.delete(onState);
        if (state === 'ready') resolve();
        else reject(new HushError('CONNECTION_CLOSED'));
      };
      this.stateWaiters.add(onState);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Event order

  /**
   * Runs `fn` (a login, a catch-up) while server events wait in the inbox: the offline DMs that follow
   * a welcome need the user's keys and state loaded, and live messages must come after caught-up ones.
   */
  async holdingEvents<T>(fn: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.inbox = this.inbox.then(() => gate);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Runs `task` after every server event received so far has been handled. */
  enqueue(task: () => Promise<void> | void): void {
    this.inbox = this.inbox.then(task).catch((error: unknown) => this.emitError(error));
  }

  emitError(error: unknown): void {
    this.host.emit('error', error instanceof HushError ? error : new HushError('INTERNAL', String(error), { cause: error }));
  }

  private onMessage(transport: Transport, message: ServerMessage): void {
    if (transport !== this.transport) return;
    const settled = this.requests.settle(message);
    this.liveness.heard(Date.now(), this.requests.size > 0);
    if (settled) return;
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
        this.host.emit('error', new HushError(message.code, message.message));
        return;
      default:
        this.enqueue(() => this.host.onEvent(message));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Opening, liveness and reconnecting

  /** Opens a connection to `address` (the next one round robin when not given); `helloTimeoutMs` bounds the wait for the server's hello. */
  private async open(address?: ServerAddress, helloTimeoutMs = this.options.timeoutMs): Promise<void> {
    const { host, port } = address ?? (await this.addresses.next());
    let pinnedNow = false;
    const verifyServer = async (session: HandshakeResult): Promise<void> => {
      pinnedNow = await this.host.verifyServer(session);
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const transport = await Transport.open({
          host,
          port,
          timeoutMs: helloTimeoutMs,
          verifyServer,
          onMessage: (m) => this.onMessage(transport, m),
          onClose: (error) => this.onTransportClosed(transport, error),
        });
        this.transport = transport;
        this.outbox.attach((message) => this.write(transport, message));
        this._session = transport.session;
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

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.liveness = new Liveness(Date.now());
    this.heartbeat = setInterval(() => {
      const verdict = this.liveness.check(Date.now());
      if (verdict === 'dead')
        this.transport?.destroy(); // dead peer: the close starts a reconnect
      else if (verdict === 'ping') this.sendQuietly({ type: 'ping' });
    }, LIVENESS_TICK_MS);
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
    this.stopHeartbeat();
    // Queued sends stay queued: their requests fail here and go out again after the reconnect.
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.host.onDisconnected();
    // Only a drop while ready starts a reconnect: the reconnect loop, logout and close handle their own.
    if (this._phase !== 'ready') return;
    const goodbye = this.goodbye;
    this.goodbye = undefined;
    if ((goodbye && TERMINAL_GOODBYES.has(goodbye.code)) || !this.options.reconnect) {
      // Said once, by 'closed': a notice as well would repeat it.
      this.finish({ code: goodbye?.code ?? 'CONNECTION_CLOSED', reason: goodbye?.message ?? error?.message ?? 'connection closed' });
      return;
    }
    if (goodbye) this.host.emit('notice', { level: 'warn', code: goodbye.code, text: goodbye.message });
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    this.move('reconnecting');
    for (let attempt = 0; ; attempt++) {
      // The back-off grows with each round over every address, so a cluster's other nodes are tried soon.
      await this.pause(backoffDelay(Math.floor(attempt / this.addresses.size)));
      if (!this.at('reconnecting')) return; // closed meanwhile
      this.lastAttemptAt = Date.now();
      try {
        await this.open(undefined, Math.min(this.options.timeoutMs, RECONNECT_HELLO_TIMEOUT_MS));
        if (!this.at('reconnecting')) {
          this.drop(); // closed while it opened
          return;
        }
        if (this.host.loggedIn()) {
          this.move('resuming');
          await this.host.resume();
        }
        if (isEnding(this._phase)) return;
        // Its close was ignored while resuming: a connection that died meanwhile means another attempt.
        if (!this.transport?.isOpen) throw new HushError('CONNECTION_CLOSED');
        this.move('ready');
        return;
      } catch (error) {
        this.drop();
        if (isEnding(this._phase)) return;
        if (isHushError(error) && TERMINAL_RECONNECT_ERRORS.has(error.code)) {
          // Said once: `closed` carries the code and the words.
          this.finish({ code: error.code, reason: error.message });
          return;
        }
        if (this.at('resuming')) this.move('reconnecting');
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const until = Date.now() + ms;
      let timer = setTimeout(resolve, ms);
      this.wakeReconnect = (soonest = 0) => {
        clearTimeout(timer);
        timer = setTimeout(resolve, Math.max(0, Math.min(until, soonest) - Date.now()));
      };
    });
  }

  /**
   * The server ended the session (logout) and closes this connection: `forget` drops the session's
   * state, then a fresh anonymous connection opens (or the reconnect loop takes over).
   */
  async loggedOut(forget: () => Promise<void>): Promise<void> {
    if (this._phase !== 'ready') {
      await forget(); // dropped meanwhile: the reconnect loop (or close) takes care of the connection
      return;
    }
    this.move('loggingOut');
    await forget();
    const old = this.transport;
    this.transport = undefined;
    this.outbox.detach();
    await old?.end();
    if (!this.at('loggingOut')) return; // closed meanwhile
    try {
      await this.open();
    } catch {
      if (this.at('loggingOut')) void this.reconnectLoop();
      return;
    }
    if (this.at('loggingOut')) this.move('ready');
    else this.drop(); // closed while it opened
  }

  /** Abandons the current transport without the close handling (its close event is ignored). */
  private drop(): void {
    this.transport?.destroy();
    this.transport = undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Closing

  /** Clean close: no reconnect, pending calls rejected, socket ended, then `flush` (state files), then 'closed'. */
  /** `flush(final)` writes what the device keeps; `final`: the last time (nothing is recorded after). */
  close(flush: (final: boolean) => Promise<void>): Promise<void> {
    if (this._phase === 'closed') return Promise.resolve();
    this.shutdown ??= this.shutDown(flush);
    return this.shutdown;
  }

  private async shutDown(flush: (final: boolean) => Promise<void>): Promise<void> {
    // Lines sent just before a close (a person typing, then quitting) get a moment to be acknowledged.
    if (this._phase === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_SENDS_GRACE_MS);
      });
      await Promise.race([this.host.sendsSettled(), grace]);
      clearTimeout(timer);
    }
    this.move('closing');
    this.wakeReconnect?.();
    this.stopHeartbeat();
    this.host.onClosing('the client was closed before the server acknowledged the message');
    this.outbox.detach();
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    for (const waiter of [...this.stateWaiters]) waiter('closed'); // calls waiting out a reconnect fail now
    const transport = this.transport;
    this.transport = undefined;
    // The goodbye may wait on a slow server: what this device keeps (history, keys, cursors) is
    // written as soon as the events delivered so far are handled, so that an app that stops waiting
    // for close() loses nothing of its own; what arrives during the goodbye is written at its end.
    const ending = transport?.end();
    await this.inbox;
    await flush(false);
    await ending;
    await this.inbox;
    await flush(true);
    this.finish({});
  }

  private finish(info: { code?: string; reason?: string }): void {
    if (this._phase === 'closed') return;
    if (this._phase !== 'closing') this.move('closing');
    this.stopHeartbeat();
    const why = `the connection ended (${info.code ?? 'closed'}${info.reason ? `: ${info.reason}` : ''}) before the server acknowledged the message`;
    this.host.onClosing(why);
    this.outbox.detach();
    this.requests.rejectAll(new HushError('CONNECTION_CLOSED'));
    this.drop();
    this.move('closed');
    this.host.emit('closed', info);
  }

  /** The phase now (a method, so TypeScript does not carry a narrowed phase across an await). */
  private at(phase: Phase): boolean {
    return this._phase === phase;
  }

  private move(to: Phase): void {
    this._phase = transition(this._phase, to);
    const state = publicState(to);
    if (state === undefined || state === this._state) return;
    this._state = state;
    for (const waiter of [...this.stateWaiters]) waiter(state);
    this.host.emit('state', state);
    if (state === 'ready') this.host.onReady();
  }
}

function describeFailure({ host, port }: ServerAddress, error: HushError): string {
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return error.message.includes(address) || error.message.includes(`${host}:${port}`) ? error.message : `${address}: ${error.message}`;
}
