// presence_set and typing notices.
import type { ClientMessageOf } from '@hush/protocol';
import { RequestError } from '../errors.js';
import { targetKey } from './history.js';
import { notMember, requireUser } from './membership.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { HushdConfig } from '../config.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { PresenceBatch } from './presence-batch.js';
import type { Session } from './session.js';

/** What presence_set and typing work with. */
export interface PresenceHandlerDeps {
  store: AsyncStore;
  /** The live configuration (the typing interval). */
  config: Pick<HushdConfig, 'limits'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: RoomRegistry<Session>;
  fanout: Pick<Fanout, 'broadcast'>;
  presence: Pick<PresenceBatch, 'changed'>;
  cluster: Pick<ClusterSender, 'typing'>;
  now(): number;
}

export class PresenceHandlers {
  constructor(private readonly deps: PresenceHandlerDeps) {}

  set(session: Session, m: ClientMessageOf<'presence_set'>): void {
    const { deps } = this;
    const user = requireUser(session);
    user.state = m.state;
    if (m.status !== undefined) user.status = m.status;
    session.send({ type: 'ok', re: m.id });
    deps.presence.changed(user.name, user.state, user.status);
  }

  /**
   * Typing notices go to the room's online members or the DM peer, at most one per interval per
   * target. Answered from memory (no store round trip) unless the target is someone offline.
   */
  typing(session: Session, m: ClientMessageOf<'typing'>): void | Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    if (!session.signal()) return;
    const key = targetKey(m.target);
    const now = deps.now();
    const last = user.typing.get(key);
    // A change of state always goes through (so "stopped" is never lost); repeats are throttled.
    if (last && last.active === m.active && now - last.at < deps.config.limits.typingIntervalMs) return;
    user.typing.set(key, { at: now, active: m.active });
    if ('room' in m.target) {
      if (!user.rooms.has(m.target.room)) return notMember(deps, m.target.room);
      const others = [...deps.rooms.members(m.target.room)].filter((u) => u !== user);
      deps.fanout.broadcast({ type: 'typing_notice', from: user.name, target: m.target, active: m.active }, others);
      deps.cluster.typing(user.name, m.target, m.active);
      return;
    }
    // The peer may be online on another node.
    if (m.target.user !== user.name) deps.cluster.typing(user.name, m.target, m.active);
    const peer = deps.online.get(m.target.user);
    if (!peer) return requireKnownUser(deps, m.target.user);
    if (peer !== user) {
      deps.fanout.broadcast({ type: 'typing_notice', from: user.name, target: { user: user.name }, active: m.active }, [peer]);
    }
  }
}

/** NOT_FOUND unless `name` has an account (an offline user's notice is simply not relayed). */
async function requireKnownUser(deps: Pick<PresenceHandlerDeps, 'store'>, name: string): Promise<void> {
  if (!(await deps.store.getUser(name))) throw new RequestError('NOT_FOUND', `no user ${name}`);
}
