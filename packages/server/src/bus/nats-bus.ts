// The bus of a cluster, on NATS core (at-most-once): commits go out on one subject, signals and
// heartbeats on two others. What NATS loses shows up as a gap the sequencer fills from the store,
// so a lost commit is late, never missing. The client reconnects by itself, forever.
import { randomUUID } from 'node:crypto';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { StoredMessage } from '../store/types.js';
import { CommitSequencer } from './commit-sequencer.js';
import type { Bus, BusHandlers, BusSignal, BusState } from './types.js';
import { decodeWire, type Wire } from './wire.js';

export interface NatsBusOptions {
  /** nats://host:port, one or several (the nodes of a NATS cluster). */
  servers: string | readonly string[];
  /** Subject prefix: clusters sharing one NATS keep apart by it. */
  subject?: string;
  /** How often a node announces its last commit (what detects a lost last message). */
  heartbeatMs?: number;
  /** How long a gap may wait for the missing message before the store is read. */
  graceMs?: number;
  /** NATS credentials, when the server wants them (or in the URL: nats://user:pass@host:4222). */
  user?: string;
  pass?: string;
  token?: string;
  /** TLS to NATS: the CA that signed its certificate; a client certificate when it asks for one. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

const RECONNECT_WAIT_MS = 250;
/** Heartbeats a node may miss before the others count it gone. */
const MISSED_BEATS = 3;

export class NatsBus implements Bus {
  readonly node = randomUUID();
  private _state: BusState = 'connected';
  private readonly sequencer: CommitSequencer;
  private readonly subjects: { commits: string; signals: string; beats: string };
  private outgoing: BusSignal[] = [];
  private lastCommitted = '0';
  private readonly beat: NodeJS.Timeout;
  private readonly heartbeatMs: number;
  /** The other nodes, and when each was last heard. */
  private readonly peers = new Map<string, number>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly handlers: BusHandlers,
    options: NatsBusOptions,
  ) {
    const prefix = options.subject ?? 'hush';
    this.subjects = { commits: `${prefix}.commits`, signals: `${prefix}.signals`, beats: `${prefix}.beats` };
    this.sequencer = new CommitSequencer({
      from: handlers.from,
      deliver: (m) => handlers.deliver(m),
      fillGap: handlers.fillGap,
      ...(handlers.onError ? { onError: handlers.onError } : {}),
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    });
    for (const subject of Object.values(this.subjects)) {
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) this.receive(msg);
        },
      });
    }
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.beat = setInterval(() => {
      this.send(this.subjects.beats, { n: this.node, h: this.lastCommitted });
      this.sweepPeers();
    }, this.heartbeatMs);
    this.beat.unref();
    void this.watch();
  }

  /**
   * Connects and subscribes (the first connection must succeed: a wrong address fails the start, not
   * later). Resolves once the server has the subscriptions: from then on nothing published is missed.
   */
  static async connect(options: NatsBusOptions, handlers: BusHandlers): Promise<NatsBus> {
    const urls = typeof options.servers === 'string' ? options.servers.split(',') : [...options.servers];
    const { servers, credentials } = credentialsFromUrls(urls);
    const user = options.user ?? credentials.user;
    const pass = options.pass ?? credentials.pass;
    const token = options.token ?? credentials.token;
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers,
        name: 'hushd',
        noEcho: true, // this node's own commits reach its sequencer directly
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        ...(user === undefined ? {} : { user, pass: pass ?? '' }),
        ...(token === undefined ? {} : { token }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
    } catch (cause) {
      throw new Error(`cannot reach the bus at ${servers.join(', ')}: ${(cause as Error).message}`, { cause });
    }
    const bus = new NatsBus(nc, handlers, options);
    await nc.flush();
    return bus;
  }

  get state(): BusState {
    return this._state;
  }

  publishCommitted(messages: readonly StoredMessage[]): void {
    if (messages.length === 0) return;
    this.sequencer.feed(messages);
    this.lastCommitted = messages[messages.length - 1]!.id;
    this.send(this.subjects.commits, { n: this.node, m: [...messages] });
  }

  signal(signal: BusSignal): void {
    if (this.outgoing.push(signal) === 1) setImmediate(() => this.flushSignals());
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.beat);
      this.flushSignals();
      this.send(this.subjects.beats, { n: this.node, h: this.lastCommitted, bye: true });
      await this.sequencer.close();
      await this.nc.drain().catch(() => this.nc.close());
    })();
    return this.closing;
  }

  private flushSignals(): void {
    if (this.outgoing.length === 0) return;
    const signals = this.outgoing;
    this.outgoing = [];
    this.send(this.subjects.signals, { n: this.node, s: signals });
  }

  /** While disconnected, the client holds what is sent in its reconnect buffer; a full buffer throws. */
  private send(subject: string, wire: Wire): void {
    if (this.nc.isClosed() || this.nc.isDraining()) return;
    try {
      this.nc.publish(subject, JSON.stringify(wire));
    } catch (error) {
      // Lost: a commit is read from the store by the other nodes' next gap fill.
      this.handlers.onError?.(error as Error);
    }
  }

  private receive(msg: Msg): void {
    const wire = decodeWire(msg.data);
    if (!wire) {
      this.handlers.onError?.(new Error(`malformed bus message on ${msg.subject}`));
      return;
    }
    if (wire.n === this.node) return;
    if ('bye' in wire && wire.bye === true) {
      if (this.peers.delete(wire.n)) this.handlers.onNode?.(wire.n, 'down');
    } else {
      if (!this.peers.has(wire.n)) this.handlers.onNode?.(wire.n, 'up');
      this.peers.set(wire.n, Date.now());
    }
    try {
      if ('m' in wire) this.sequencer.feed(wire.m);
      else if ('h' in wire) this.sequencer.committedUpTo(wire.h);
      else for (const s of wire.s) this.handlers.onSignal?.(s, wire.n);
    } catch (error) {
      this.handlers.onError?.(error as Error);
    }
  }

  private async watch(): Promise<void> {
    for await (const status of this.nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.setState('disconnected');
          break;
        case 'reconnect':
          // The others get their heartbeats' worth of time to be heard again.
          for (const node of this.peers.keys()) this.peers.set(node, Date.now());
          this.setState('connected');
          // Once the subscriptions are back on the server, what was missed meanwhile is in the store.
          this.nc.flush().then(
            () => this.sequencer.resync(),
            () => this.sequencer.resync(),
          );
          break;
        case 'slowConsumer':
          this.sequencer.resync();
          break;
        default:
          break;
      }
    }
  }

  /** Nodes silent too long are gone; not while this node is cut off itself (it hears nobody then). */
  private sweepPeers(): void {
    if (this._state !== 'connected') return;
    const cutoff = Date.now() - MISSED_BEATS * this.heartbeatMs;
    for (const [node, heard] of this.peers) {
      if (heard >= cutoff) continue;
      this.peers.delete(node);
      this.handlers.onNode?.(node, 'down');
    }
  }

  private setState(state: BusState): void {
    if (state === this._state) return;
    this._state = state;
    this.handlers.onState?.(state);
  }
}

/**
 * nats://user:pass@host or nats://token@host: the client wants credentials as options, and URLs
 * without them are the ones that may be logged.
 */
function credentialsFromUrls(urls: readonly string[]): {
  servers: string[];
  credentials: { user?: string; pass?: string; token?: string };
} {
  const credentials: { user?: string; pass?: string; token?: string } = {};
  const servers = urls.map((url) => {
    const m = /^([a-z]+:\/\/)([^@/]*)@(.*)$/i.exec(url.trim());
    if (!m) return url.trim();
    const userinfo = m[2]!;
    const colon = userinfo.indexOf(':');
    if (colon < 0) credentials.token ??= decodeURIComponent(userinfo);
    else if (credentials.user === undefined) {
      credentials.user = decodeURIComponent(userinfo.slice(0, colon));
      credentials.pass = decodeURIComponent(userinfo.slice(colon + 1));
    }
    return `${m[1]}${m[3]}`;
  });
  return { servers, credentials };
}
