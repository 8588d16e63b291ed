// HushServer: the listener. Accept-time checks (address bans, connection limits), the shared
// state every connection works with, the heartbeat sweep, and graceful shutdown.
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, type ProtocolErrorCode, type ServerMessage } from '@hush/protocol';
import type { ServerIdentity } from '@hush/crypto';
import type { Accounts } from './accounts.js';
import { ClusterReceiver } from './cluster-receiver.js';
import { ClusterSender } from './cluster-sender.js';
import { LocalBus, type Bus, type BusHandlers, type BusState } from './bus/index.js';
import type { HushdConfig } from './config.js';
import { Connection, type ConnectionContext } from './connection.js';
import { FileRelay } from './files.js';
import { AccountHandlers } from './handlers/accounts.js';
import { HistoryHandlers } from './handlers/history.js';
import type { Handlers } from './handlers/index.js';
import { MessageHandlers } from './handlers/messages.js';
import { DeviceHandlers } from './handlers/devices.js';
import { ModerationHandlers } from './handlers/moderation.js';
import { PrekeyHandlers } from './handlers/prekeys.js';
import { PresenceHandlers } from './handlers/presence.js';
import { RoomHandlers } from './handlers/rooms.js';
import type { Session } from './handlers/session.js';
import { Fanout } from './handlers/fanout.js';
import { MessageBatch } from './handlers/message-batch.js';
import { PresenceBatch } from './handlers/presence-batch.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { FlushScheduler } from './outbound.js';
import { OnlineUsers } from './online-users.js';
import { ConnectionLimiter, normalizeAddress, UserBudgets } from './rate-limit.js';
import { RoomRegistry } from './rooms.js';
import type { AsyncStore } from './store/async-store.js';
import { isStoreUnavailable } from './store/availability.js';

export interface ServerOptions {
  host: string;
  port: number;
  /** The SQLite store through asyncStore(), or a PostgresStore. */
  store: AsyncStore;
  identity: ServerIdentity;
  logger: Logger;
  metrics: Metrics;
  accounts: Accounts;
  config: HushdConfig;
  /** Connects the bus between nodes (NatsBus); default: LocalBus, this node alone. */
  bus?: (handlers: BusHandlers) => Promise<Bus>;
}

/** How soon a `hushd ban` given beside a running server takes effect. */
const ADMIN_REQUEST_POLL_MS = 1000;

export class HushServer {
  private readonly listener: Server;
  private readonly connections = new Set<Connection>();
  private readonly limiter: ConnectionLimiter;
  private readonly scheduler: FlushScheduler;
  /** What every connection works with (the parts it touches and the handler groups). */
  private readonly connectionContext: ConnectionContext;
  private readonly batch: MessageBatch;
  private readonly presence: PresenceBatch;
  private readonly clusterSender: ClusterSender;
  private readonly clusterReceiver: ClusterReceiver;
  private sweepTimer: NodeJS.Timeout | null = null;
  private adminTimer: NodeJS.Timeout | null = null;
  private takingAdminRequests = false;
  private readonly moderation: ModerationHandlers;
  private nextId = 1;
  private stopping: Promise<void> | null = null;
  private bus: Bus | null = null;

  constructor(private readonly options: ServerOptions) {
    const { store, config, logger, metrics, accounts } = options;
    this.limiter = new ConnectionLimiter(config.limits);
    // The store's WAL checkpoints (disk writes and fsyncs) run after a turn's writes, never inside
    // the commit a message waits for.
    this.scheduler = new FlushScheduler(() => this.checkpoint(Date.now()));
    // The parts, each built after what it uses. Only the bus comes later (listen() connects it):
    // what goes to it before then is dropped, as on a node alone.
    const now = () => Date.now();
    const sessions = this.connections;
    const online = new OnlineUsers<Session>();
    const rooms = new RoomRegistry<Session>(store);
    const fanout = new Fanout(metrics, config.limits);
    const userBudgets = new UserBudgets(config.limits);
    const cluster = new ClusterSender(online, (signal) => this.bus?.signal(signal));
    accounts.tellHitsTo((hit) => cluster.loginHit(hit));
    const presence = new PresenceBatch(online, fanout, (user, state, status) => cluster.presence(user, state, status));
    const files = new FileRelay({ store, logger, config, online, rooms, fanout, now, tell: (event) => cluster.fileEvent(event) });
    const batch = new MessageBatch({
      store,
      logger,
      rooms,
      online,
      fanout,
      turns: this.scheduler,
      publish: (messages) => this.bus?.publishCommitted(messages),
      tell: (event) => cluster.roomEvent(event),
    });
    this.moderation = new ModerationHandlers({ store, config, logger, online, rooms, batch, sessions, cluster, fanout, now });
    const handlers: Handlers = {
      accounts: new AccountHandlers({
        accounts,
        store,
        config,
        logger,
        metrics,
        online,
        rooms,
        fanout,
        batch,
        presence,
        files,
        cluster,
        now,
      }),
      devices: new DeviceHandlers({ accounts, store, logger, metrics, online, rooms, fanout, cluster, now }),
      rooms: new RoomHandlers({ store, config, online, rooms, fanout, batch, presence, now }),
      messages: new MessageHandlers({ store, rooms, batch, now }),
      moderation: this.moderation,
      presence: new PresenceHandlers({ store, config, online, rooms, fanout, presence, cluster, now }),
      prekeys: new PrekeyHandlers({ store, online, cluster }),
      history: new HistoryHandlers({ store, config, online, rooms, fanout, cluster }),
      files,
    };
    this.connectionContext = { config, logger, metrics, online, rooms, presence, files, userBudgets, cluster, handlers, now };
    this.batch = batch;
    this.presence = presence;
    this.clusterSender = cluster;
    this.clusterReceiver = new ClusterReceiver({
      accounts,
      fanout,
      files,
      logger,
      online,
      presence,
      rooms,
      sessions,
      store,
      userBudgets,
      sender: cluster,
    });
    this.listener = createServer((socket) => void this.accept(socket));
    this.listener.on('error', (error) => options.logger.error('listener_error', { error }));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** The counters this server updates (also served over HTTP by the daemon when enabled). */
  get metrics(): Metrics {
    return this.options.metrics;
  }

  /** The bus's state: a node cut off from the others says so in its health check. */
  get busState(): BusState {
    return this.bus?.state ?? 'disconnected';
  }

  /** Connects the bus (delivery starts after the store's last message id), then listens. */
  async listen(): Promise<{ host: string; port: number }> {
    const { store, logger } = this.options;
    const handlers: BusHandlers = {
      from: await store.lastMessageId(),
      deliver: (messages) => this.batch.delivered(messages),
      fillGap: ({ after, limit }) => store.messagesAfter(after, limit),
      onSignal: (signal, node) => this.clusterReceiver.receive(signal, node),
      onNode: (node, state) => (state === 'up' ? this.clusterSender.announcePresence() : this.clusterReceiver.nodeDown(node)),
      onState: (state) => {
        this.options.metrics.set('hush_bus_connected', state === 'connected' ? 1 : 0);
        if (state === 'connected') {
          logger.info('bus_connected', {});
          this.clusterSender.announcePresence();
        } else logger.error('bus_disconnected', {});
      },
      onError: (error) => logger.warn('bus_error', { error }),
    };
    this.bus = await (this.options.bus?.(handlers) ?? Promise.resolve(new LocalBus(handlers)));
    this.options.metrics.set('hush_bus_connected', this.bus.state === 'connected' ? 1 : 0);
    try {
      return await this.bind();
    } catch (error) {
      await this.bus.close();
      throw error;
    }
  }

  private bind(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(this.options.port, this.options.host, () => {
        this.listener.off('error', reject);
        const address = this.listener.address();
        const port = typeof address === 'object' && address ? address.port : this.options.port;
        this.startTimers();
        this.options.logger.info('listening', { host: this.options.host, port });
        resolve({ host: this.options.host, port });
      });
    });
  }

  /**
   * Stops accepting, commits the pending message batch (so every message acknowledged or about to
   * be is stored), says goodbye SERVER_SHUTDOWN to everyone, flushes and closes. Bounded by
   * config.shutdownTimeoutMs. Does not close the store.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    this.listener.close();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.adminTimer) clearInterval(this.adminTimer);
    this.presence.flush();
    this.scheduler.flushNow();
    await this.batch.settled();
    await this.bus?.close();
    this.scheduler.flushNow();
    const sockets = [...this.connections].map((c) => c);
    const closed = Promise.all(
      [...this.socketsOf(sockets)].map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed) resolve();
            else socket.once('close', () => resolve());
          }),
      ),
    );
    for (const connection of sockets) connection.close('SERVER_SHUTDOWN', 'the server is shutting down');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.config.shutdownTimeoutMs);
    });
    const outcome = await Promise.race([closed.then(() => 'closed' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') for (const socket of this.socketsOf(sockets)) socket.destroy();
    this.options.logger.info('stopped', { outcome });
  }

  private readonly socketByConnection = new WeakMap<Connection, Socket>();

  private *socketsOf(connections: Connection[]): Iterable<Socket> {
    for (const c of connections) {
      const socket = this.socketByConnection.get(c);
      if (socket) yield socket;
    }
  }

  /** Accept-time checks; the socket is not read until a Connection takes it. */
  private async accept(socket: Socket): Promise<void> {
    const { store, metrics, logger } = this.options;
    const address = normalizeAddress(socket.remoteAddress);
    socket.on('error', () => {});
    if (this.stopping) {
      refuse(socket, 'SERVER_SHUTDOWN', 'the server is shutting down');
      return;
    }
    let banned: boolean;
    try {
      banned = await store.isAddressBanned(address, Date.now());
    } catch (error) {
      // Without the ban list the server cannot tell who may connect: it refuses for now.
      logger.warn('refused_store_unavailable', { error });
      refuse(socket, 'INTERNAL', 'the server cannot reach its database right now; try again shortly');
      return;
    }
    if (this.stopping) {
      refuse(socket, 'SERVER_SHUTDOWN', 'the server is shutting down');
      return;
    }
    if (banned) {
      logger.info('refused_banned_address', { address });
      refuse(socket, 'BANNED', 'this address is banned');
      return;
    }
    if (!this.limiter.tryAcquire(address)) {
      logger.warn('refused_connection_limit', { address, limit: this.limiter.fullLimit(address), connections: this.limiter.size });
      refuse(socket, 'TOO_MANY_CONNECTIONS', 'too many connections');
      return;
    }
    const connection = new Connection(socket, {
      id: this.nextId++,
      address,
      context: this.connectionContext,
      identity: this.options.identity,
      scheduler: this.scheduler,
      onClose: (c) => {
        if (!this.connections.delete(c)) return;
        this.limiter.release(address);
        metrics.set('hush_connections', this.connections.size);
      },
    });
    this.socketByConnection.set(connection, socket);
    this.connections.add(connection);
    metrics.set('hush_connections', this.connections.size);
  }

  private startTimers(): void {
    const { limits } = this.options.config;
    const every = Math.max(20, Math.min(1000, Math.floor(Math.min(limits.heartbeatMs, limits.idleTimeoutMs) / 4)));
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const c of this.connections) c.tick(now);
      this.checkpoint(now); // writes outside message turns (logins, markers...)
    }, every);
    this.sweepTimer.unref();
    this.adminTimer = setInterval(() => void this.carryOutAdminRequests(), ADMIN_REQUEST_POLL_MS);
    this.adminTimer.unref();
  }

  /** Bans and unbans given on the command line beside the running servers; one node takes each. */
  private async carryOutAdminRequests(): Promise<void> {
    if (this.takingAdminRequests || this.stopping) return;
    this.takingAdminRequests = true;
    try {
      for (const request of await this.options.store.takeAdminRequests()) await this.moderation.carryOut(request);
    } catch (error) {
      // An unreachable store was said once (store_unavailable) and its return will be: not every second.
      if (!isStoreUnavailable(error)) this.options.logger.error('admin_requests_failed', { error });
    } finally {
      this.takingAdminRequests = false;
    }
  }

  /** The store's WAL checkpoint when due (SQLite, synchronous under the promise; PostgreSQL has none). */
  private checkpoint(now: number): void {
    this.options.store.checkpointIfDue(now).catch((error: unknown) => this.options.logger.error('checkpoint_failed', { error }));
  }
}

/** Refusal before any handshake: one plaintext goodbye frame, then close. */
function refuse(socket: Socket, code: ProtocolErrorCode, message: string): void {
  const goodbye: ServerMessage = { type: 'goodbye', code, message };
  socket.end(encodeFrame(Buffer.from(JSON.stringify(goodbye))));
  setTimeout(() => socket.destroy(), 1000).unref();
}
