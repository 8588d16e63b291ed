// What a node tells the other nodes of a cluster, and what it does with what they tell it. Messages
// travel the bus's commit stream (message-batch.ts); everything else that lives in memory goes as
// signals: presence, typing, room events (joins, parts, topics, kicks, bans, mutes, roles, which
// also change the cached memberships of the users online here), account and address bans (their
// sessions here are closed), key changes, file events (offered, cancelled, handled), login
// outcomes (each node's login back-off counts every node's failures) and how many messages each
// user sent here (each node debits them from that user's budget, so it holds across nodes), and
// notices for one user's sessions (read markers relayed to their other sessions and their direct
// peer, prekeys_low to the device that runs short). One
// node alone (LocalBus) has nobody to tell: every `tell` is dropped by the bus and nothing arrives.
import { type PresenceState, type ServerMessage, type ServerMessageOf, serverMessageSchema } from '@hush/protocol';
import type { BusSignal, JsonValue } from './bus/index.js';
import type { LoginHit } from './accounts.js';
import type { FileEvent } from './files.js';
import type { ServerContext } from './handlers/context.js';
import { syncMembership } from './handlers/membership.js';
import { sessionDevice } from './handlers/session-devices.js';
import type { Session } from './handlers/session.js';

type RoomEvent = ServerMessageOf<'room_event'>;
/** What a node relays to one user's sessions on the others. */
export type UserNotice = ServerMessageOf<'read_notice'> | ServerMessageOf<'prekeys_low'>;
type TypingTarget = { room: string } | { user: string };
export interface Presence {
  state: Exclude<PresenceState, 'offline'>;
  status: string;
}

/** Who is online on the other nodes, per node (a node that goes down takes its users with it). */
export class RemotePresence {
  private readonly byNode = new Map<string, Map<string, Presence>>();

  get(user: string): Presence | undefined {
    for (const users of this.byNode.values()) {
      const p = users.get(user);
      if (p) return p;
    }
    return undefined;
  }

  /** `presence` null: the user left that node. `replace`: the node's whole list (a snapshot). */
  set(node: string, entries: ReadonlyArray<readonly [string, Presence | null]>, replace = false): string[] {
    const before = replace ? [...(this.byNode.get(node)?.keys() ?? [])] : [];
    const users = replace ? new Map<string, Presence>() : (this.byNode.get(node) ?? new Map<string, Presence>());
    for (const [user, p] of entries) {
      if (p) users.set(user, p);
      else users.delete(user);
    }
    this.byNode.set(node, users);
    return [...new Set([...before, ...entries.map(([user]) => user)])];
  }

  /** Forgets a node; returns the users it had. */
  drop(node: string): string[] {
    const users = [...(this.byNode.get(node)?.keys() ?? [])];
    this.byNode.delete(node);
    return users;
  }
}

type ClusterContext = Pick<
  ServerContext,
  'accounts' | 'fanout' | 'files' | 'logger' | 'online' | 'presence' | 'rooms' | 'sessions' | 'store' | 'userBudgets'
>;

export class Cluster {
  /** The nodes heard from (and not gone since): with none, message counts are not even kept. */
  private readonly peers = new Set<string>();
  /** Messages per user sent here this turn, told to the others at its end. */
  private sent: Map<string, number> | null = null;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly send: (signal: BusSignal) => void,
  ) {}

  // ---- what this node tells ----

  presence(user: string, state: PresenceState, status: string): void {
    this.send({ topic: 'presence', body: { users: [[user, state, status]] } });
  }

  typing(from: string, target: TypingTarget, active: boolean): void {
    this.send({ topic: 'typing', body: { from, target, active } });
  }

  roomEvent(event: RoomEvent): void {
    this.send({ topic: 'moderation', body: event as unknown as JsonValue });
  }

  banned(ban: { user?: string; address?: string; reason: string }): void {
    this.send({ topic: 'moderation', body: { ban } });
  }

  keyChange(change: ServerMessageOf<'key_change'>): void {
    this.send({ topic: 'keys', body: change as unknown as JsonValue });
  }

  loginHit(hit: LoginHit): void {
    this.send({ topic: 'hits', body: { ...hit } });
  }

  /** `user` sent a message here: counted, and told with the turn's other counts. */
  messageSent(user: string): void {
    if (this.peers.size === 0) return;
    if (this.sent === null) {
      this.sent = new Map();
      setImmediate(() => this.tellSent());
    }
    this.sent.set(user, (this.sent.get(user) ?? 0) + 1);
  }

  private tellSent(): void {
    const sent = this.sent;
    this.sent = null;
    if (sent) this.send({ topic: 'hits', body: { messages: [...sent] } });
  }

  fileEvent(event: FileEvent): void {
    this.send({ topic: 'files', body: event as unknown as JsonValue });
  }

  /** `message` for `user`'s sessions on the other nodes; with `device`, for that device's only. */
  notice(user: string, message: UserNotice, device?: string): void {
    this.send({ topic: 'notices', body: { user, message, ...(device !== undefined ? { device } : {}) } as unknown as JsonValue });
  }

  /**
   * Who is online here, in full: for a node that came up, and for all the others when this node
   * has its bus back (while it was cut off they may have counted it gone and its users offline).
   */
  announcePresence(ask = true): void {
    const users = [...this.ctx.online.all()].map((u) => [u.name, u.state, u.status]);
    // `ask`: the others answer with theirs (a node heard again may have sent its own while its
    // route through NATS was not back yet).
    this.send({ topic: 'presence', body: { snapshot: true, ...(ask ? { ask } : {}), users } });
  }

  /** Another node went down: its users are offline unless online elsewhere. */
  nodeDown(node: string): void {
    this.peers.delete(node);
    this.ctx.presence.remote(this.ctx.presence.others.drop(node));
  }

  // ---- what the others tell ----

  /** A signal from another node; one that does not parse is reported and dropped. */
  receive(signal: BusSignal, node: string): void {
    this.peers.add(node);
    try {
      const done = this.apply(signal, node);
      if (done) done.catch((error: unknown) => this.ctx.logger.warn('cluster_signal_failed', { topic: signal.topic, error }));
    } catch (error) {
      this.ctx.logger.warn('cluster_signal_failed', { topic: signal.topic, error });
    }
  }

  private apply(signal: BusSignal, node: string): Promise<void> | void {
    const body = signal.body as Record<string, unknown>;
    switch (signal.topic) {
      case 'presence':
        return this.presenceFrom(node, body);
      case 'typing':
        return this.typingFrom(body);
      case 'moderation':
        return 'ban' in body ? this.banFrom(body.ban as Record<string, unknown>) : this.roomEventFrom(parse(body, 'room_event'));
      case 'keys': {
        const change = parse(body, 'key_change');
        return this.keyChangeFrom(change);
      }
      case 'files':
        return this.fileEventFrom(body);
      case 'notices':
        return this.noticeFrom(body);
      case 'hits': {
        if ('messages' in body) return this.messagesFrom(body.messages);
        const { address, account, failed } = body;
        if (typeof address !== 'string' || typeof account !== 'string' || typeof failed !== 'boolean') throw new Error('hits: bad entry');
        this.ctx.accounts.replayHit({ address, account, failed }, Date.now());
        return;
      }
    }
  }

  private messagesFrom(counts: unknown): void {
    if (!Array.isArray(counts)) throw new Error('hits: no message counts');
    const entries = counts.map((entry: unknown): [string, number] => {
      const [user, count] = entry as [unknown, unknown];
      if (typeof user !== 'string' || typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
        throw new Error('hits: bad message count');
      }
      return [user, count];
    });
    const now = Date.now();
    for (const [user, count] of entries) this.ctx.userBudgets.debit(user, count, now);
  }

  private presenceFrom(node: string, body: Record<string, unknown>): void {
    if (!Array.isArray(body.users)) throw new Error('presence: no user list');
    const entries = body.users.map((entry: unknown): [string, Presence | null] => {
      const [user, state, status] = entry as [unknown, unknown, unknown];
      if (typeof user !== 'string' || typeof status !== 'string') throw new Error('presence: bad entry');
      if (state === 'offline') return [user, null];
      if (state !== 'online' && state !== 'away') throw new Error('presence: bad state');
      return [user, { state, status }];
    });
    this.ctx.presence.remote(this.ctx.presence.others.set(node, entries, body.snapshot === true));
    if (body.ask === true) this.announcePresence(false);
  }

  private typingFrom(body: Record<string, unknown>): void {
    const target = body.target as TypingTarget;
    const notice = parse({ type: 'typing_notice', from: body.from, target, active: body.active }, 'typing_notice');
    const { ctx } = this;
    if ('room' in notice.target) {
      const others = [...ctx.rooms.members(notice.target.room)].filter((u) => u.name !== notice.from);
      ctx.fanout.broadcast(notice, others);
      return;
    }
    const peer = typeof target === 'object' && 'user' in target ? ctx.online.get(target.user) : undefined;
    if (peer && peer.name !== notice.from) ctx.fanout.broadcast({ ...notice, target: { user: notice.from } }, [peer]);
  }

  /**
   * A room event another node sent its members: this node's members get it too, and the cached
   * membership of its subject, if online here, follows the store (a kicked user hears the kick,
   * then gets nothing more of the room).
   */
  private async roomEventFrom(event: RoomEvent): Promise<void> {
    const { ctx } = this;
    const { room, user: name } = event;
    const leaving = event.event === 'part' || event.event === 'kick' || event.event === 'ban';
    if (event.event === 'join') ctx.rooms.adjustCount(room, 1);
    if (leaving) ctx.rooms.adjustCount(room, -1);
    if (leaving) {
      ctx.fanout.broadcast(event, ctx.rooms.members(room));
      const user = ctx.online.get(name);
      if (user) {
        user.rooms.delete(room);
        ctx.rooms.leave(room, user);
      }
      return;
    }
    if (event.event !== 'topic' && ctx.online.get(name)) {
      await syncMembership(ctx, room, name);
      const user = ctx.online.get(name);
      if (user?.rooms.has(room)) ctx.rooms.enter(room, user);
    }
    ctx.fanout.broadcast(event, ctx.rooms.members(room));
  }

  private banFrom(ban: Record<string, unknown>): void {
    const user = typeof ban.user === 'string' ? ban.user : undefined;
    const address = typeof ban.address === 'string' ? ban.address : undefined;
    closeBanned(this.ctx.sessions, { user, address }, typeof ban.reason === 'string' ? ban.reason : 'banned by an administrator');
  }

  private fileEventFrom(body: Record<string, unknown>): void {
    if (typeof body.sender === 'string') {
      this.ctx.files.deliverEvent({ sender: body.sender, message: parse(body.message, 'file_status') });
      return;
    }
    const file = body.file as Record<string, unknown> | null;
    const name = (v: unknown) => (v === null || typeof v === 'string' ? v : undefined);
    const [from, room, to] = [file?.from, name(file?.room), name(file?.to)];
    if (typeof from !== 'string' || room === undefined || to === undefined) throw new Error('files: no audience');
    const message = parse(
      body.message,
      (body.message as { type?: unknown } | null)?.type === 'file_cancelled' ? 'file_cancelled' : 'file_offered',
    );
    this.ctx.files.deliverEvent({ file: { from, room, to }, message });
  }

  private noticeFrom(body: Record<string, unknown>): void {
    const { user: name, device } = body;
    if (typeof name !== 'string' || (device !== undefined && typeof device !== 'string')) throw new Error('notices: bad entry');
    const message = parse(
      body.message,
      (body.message as { type?: unknown } | null)?.type === 'prekeys_low' ? 'prekeys_low' : 'read_notice',
    );
    const user = this.ctx.online.get(name);
    if (!user) return;
    if (device === undefined) this.ctx.fanout.broadcast(message, [user]);
    else for (const s of user.sessions) if (sessionDevice(s) === device) s.send(message);
  }

  private async keyChangeFrom(change: ServerMessageOf<'key_change'>): Promise<void> {
    const { ctx } = this;
    const audience = new Set([...(await keyChangeAudience(ctx, change.user))]);
    ctx.fanout.broadcast(change, audience);
  }
}

/** The sessions here of a banned account or address, closed with the reason. */
export function closeBanned(
  sessions: Iterable<Session>,
  ban: { user?: string | undefined; address?: string | undefined },
  reason: string,
): void {
  for (const s of [...sessions]) {
    if ((ban.user !== undefined && s.user?.name === ban.user) || (ban.address !== undefined && s.address === ban.address)) {
      s.close('BANNED', reason);
    }
  }
}

/**
 * Who here learns of `name`'s new device list: everyone online sharing a room with them, everyone
 * they exchanged direct messages with, and themselves.
 */
export async function keyChangeAudience(
  ctx: Pick<ServerContext, 'online' | 'rooms' | 'store'>,
  name: string,
): Promise<Set<NonNullable<ReturnType<ServerContext['online']['get']>>>> {
  const self = ctx.online.get(name);
  const [peers, rooms] = await Promise.all([
    ctx.store.dmPeers(name),
    self ? Promise.resolve([...self.rooms.keys()]) : ctx.store.roomsOf(name).then((ms) => ms.map((m) => m.room)),
  ]);
  const users = new Set<NonNullable<ReturnType<ServerContext['online']['get']>>>();
  for (const room of rooms) for (const u of ctx.rooms.members(room)) users.add(u);
  for (const peer of peers) {
    const online = ctx.online.get(peer);
    if (online) users.add(online);
  }
  if (self) users.add(self);
  return users;
}

function parse<T extends ServerMessage['type']>(body: unknown, type: T): ServerMessageOf<T> {
  const parsed = serverMessageSchema.safeParse(body);
  if (!parsed.success || parsed.data.type !== type) throw new Error(`not a ${type}`);
  return parsed.data as ServerMessageOf<T>;
}
