// What a node does with what the other nodes of a cluster tell it (cluster-sender.ts says what
// they send): presence and typing reach the sessions here, room events reach the members here and
// bring the cached memberships of the users online here in step with the store, bans close the
// banned sessions here, role changes reach the sessions here, removed devices lose theirs, key
// changes and file events reach their audience here, login outcomes and message counts are
// counted here too, and notices reach the user's sessions here.
import { type ServerMessage, type ServerMessageOf, serverMessageSchema } from '@hush/protocol';
import type { Accounts } from './accounts.js';
import type { BusSignal } from './bus/index.js';
import type { ClusterSender, TypingTarget } from './cluster-sender.js';
import type { FileRelay } from './files.js';
import type { Fanout } from './handlers/fanout.js';
import { closeRemovedDevices, keyChangeAudience } from './handlers/key-change.js';
import { syncMembership } from './handlers/membership.js';
import { closeBanned, refreshRole } from './handlers/moderation.js';
import type { PresenceBatch } from './handlers/presence-batch.js';
import type { Presence } from './handlers/remote-presence.js';
import { sessionDevice } from './handlers/session-devices.js';
import type { Session } from './handlers/session.js';
import type { Logger } from './logger.js';
import type { OnlineUsers } from './online-users.js';
import type { UserBudgets } from './rate-limit.js';
import type { RoomRegistry } from './rooms.js';
import type { AsyncStore } from './store/async-store.js';

type RoomEvent = ServerMessageOf<'room_event'>;

/** What applying the other nodes' signals touches here. */
export interface ClusterReceiverDeps {
  accounts: Pick<Accounts, 'replayHit'>;
  fanout: Pick<Fanout, 'broadcast'>;
  files: Pick<FileRelay, 'deliverEvent'>;
  logger: Pick<Logger, 'warn'>;
  online: OnlineUsers<Session>;
  presence: Pick<PresenceBatch, 'others' | 'remote'>;
  rooms: RoomRegistry<Session>;
  /** Every session of this node (bans close theirs). */
  sessions: Iterable<Session>;
  store: AsyncStore;
  /** Each user's message budget, debited by what they sent on the other nodes. */
  userBudgets: Pick<UserBudgets, 'debit'>;
  /** Keeps count of the nodes heard from, and answers a presence snapshot that asks for this node's. */
  sender: Pick<ClusterSender, 'announcePresence' | 'heardFrom' | 'lost'>;
}

export class ClusterReceiver {
  constructor(private readonly deps: ClusterReceiverDeps) {}

  /** A signal from another node; one that does not parse is reported and dropped. */
  receive(signal: BusSignal, node: string): void {
    this.deps.sender.heardFrom(node);
    try {
      const done = this.apply(signal, node);
      if (done) done.catch((error: unknown) => this.deps.logger.warn('cluster_signal_failed', { topic: signal.topic, error }));
    } catch (error) {
      this.deps.logger.warn('cluster_signal_failed', { topic: signal.topic, error });
    }
  }

  /** Another node went down: its users are offline unless online elsewhere. */
  nodeDown(node: string): void {
    this.deps.sender.lost(node);
    this.deps.presence.remote(this.deps.presence.others.drop(node));
  }

  private apply(signal: BusSignal, node: string): Promise<void> | void {
    const body = signal.body as Record<string, unknown>;
    switch (signal.topic) {
      case 'presence':
        return this.presenceFrom(node, body);
      case 'typing':
        return this.typingFrom(body);
      case 'moderation':
        if ('ban' in body) return this.banFrom(body.ban as Record<string, unknown>);
        if (typeof body.roleOf === 'string') return refreshRole(this.deps, body.roleOf);
        if (typeof body.devicesOf === 'string') return closeRemovedDevices(this.deps, body.devicesOf);
        return this.roomEventFrom(parse(body, 'room_event'));
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
        this.deps.accounts.replayHit({ address, account, failed }, Date.now());
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
    for (const [user, count] of entries) this.deps.userBudgets.debit(user, count, now);
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
    this.deps.presence.remote(this.deps.presence.others.set(node, entries, body.snapshot === true));
    if (body.ask === true) this.deps.sender.announcePresence(false);
  }

  private typingFrom(body: Record<string, unknown>): void {
    const target = body.target as TypingTarget;
    const notice = parse({ type: 'typing_notice', from: body.from, target, active: body.active }, 'typing_notice');
    const { deps } = this;
    if ('room' in notice.target) {
      const others = [...deps.rooms.members(notice.target.room)].filter((u) => u.name !== notice.from);
      deps.fanout.broadcast(notice, others);
      return;
    }
    const peer = typeof target === 'object' && 'user' in target ? deps.online.get(target.user) : undefined;
    if (peer && peer.name !== notice.from) deps.fanout.broadcast({ ...notice, target: { user: notice.from } }, [peer]);
  }

  /**
   * A room event another node sent its members: this node's members get it too, and the cached
   * membership of its subject, if online here, follows the store (a kicked user hears the kick,
   * then gets nothing more of the room).
   */
  private async roomEventFrom(event: RoomEvent): Promise<void> {
    const { deps } = this;
    const { room, user: name } = event;
    const leaving = event.event === 'part' || event.event === 'kick' || event.event === 'ban';
    if (event.event === 'join') deps.rooms.adjustCount(room, 1);
    if (leaving) deps.rooms.adjustCount(room, -1);
    if (leaving) {
      deps.fanout.broadcast(event, deps.rooms.members(room));
      const user = deps.online.get(name);
      if (user) {
        user.rooms.delete(room);
        deps.rooms.leave(room, user);
      }
      return;
    }
    if (event.event !== 'topic' && deps.online.get(name)) {
      await syncMembership(deps, room, name);
      const user = deps.online.get(name);
      if (user?.rooms.has(room)) deps.rooms.enter(room, user);
    }
    deps.fanout.broadcast(event, deps.rooms.members(room));
  }

  private banFrom(ban: Record<string, unknown>): void {
    const user = typeof ban.user === 'string' ? ban.user : undefined;
    const address = typeof ban.address === 'string' ? ban.address : undefined;
    closeBanned(this.deps.sessions, { user, address }, typeof ban.reason === 'string' ? ban.reason : 'banned by an administrator');
  }

  private fileEventFrom(body: Record<string, unknown>): void {
    if (typeof body.sender === 'string') {
      this.deps.files.deliverEvent({ sender: body.sender, message: parse(body.message, 'file_status') });
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
    this.deps.files.deliverEvent({ file: { from, room, to }, message });
  }

  private noticeFrom(body: Record<string, unknown>): void {
    const { user: name, device } = body;
    if (typeof name !== 'string' || (device !== undefined && typeof device !== 'string')) throw new Error('notices: bad entry');
    const type = (body.message as { type?: unknown } | null)?.type;
    const message = parse(body.message, type === 'prekeys_low' || type === 'notice' ? type : 'read_notice');
    const user = this.deps.online.get(name);
    if (!user) return;
    if (device === undefined) this.deps.fanout.broadcast(message, [user]);
    else for (const s of user.sessions) if (sessionDevice(s) === device) s.send(message);
  }

  private async keyChangeFrom(change: ServerMessageOf<'key_change'>): Promise<void> {
    this.deps.fanout.broadcast(change, await keyChangeAudience(this.deps, change.user));
  }
}

function parse<T extends ServerMessage['type']>(body: unknown, type: T): ServerMessageOf<T> {
  const parsed = serverMessageSchema.safeParse(body);
  if (!parsed.success || parsed.data.type !== type) throw new Error(`not a ${type}`);
  return parsed.data as ServerMessageOf<T>;
}
