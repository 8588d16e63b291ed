// history pages and read markers.
import { MAX_READ_MARKERS, type ClientMessageOf, type Target } from '@hush/protocol';
import type { HistoryTarget } from '../store/types.js';
import { RequestError } from '../errors.js';
import { requireMember, requireRoom, requireUser } from './membership.js';
import { replyBudget, takeWithin, wireMessage } from './replies.js';
import { sessionDevice } from './session-devices.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { HushdConfig } from '../config.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { Session } from './session.js';

/** What history pages and read markers work with. */
export interface HistoryHandlerDeps {
  store: AsyncStore;
  /** The live configuration (the frame limit a page is cut to). */
  config: Pick<HushdConfig, 'limits'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: RoomRegistry<Session>;
  fanout: Pick<Fanout, 'broadcast'>;
  cluster: Pick<ClusterSender, 'notice'>;
}

export class HistoryHandlers {
  constructor(private readonly deps: HistoryHandlerDeps) {}

  async page(session: Session, m: ClientMessageOf<'history'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    let target: HistoryTarget;
    if ('room' in m.target) {
      if (user.role !== 'admin') await requireMember(deps, user, m.target.room);
      else await requireRoom(deps, m.target.room);
      target = { room: m.target.room };
    } else {
      if (!(await deps.store.getUser(m.target.user))) throw new RequestError('NOT_FOUND', `no user ${m.target.user}`);
      target = { dm: [user.name, m.target.user] };
    }
    const page = await deps.store.history(target, {
      limit: m.limit,
      ...(m.before !== undefined ? { before: m.before } : {}),
      ...(m.after !== undefined ? { after: m.after } : {}),
    });
    const device = sessionDevice(session);
    const items = page.messages.map((message) => wireMessage(message, device));
    // One page must fit one record: keep the end nearest the anchor, and say there is more.
    const forward = m.after !== undefined && m.before === undefined;
    const kept = forward
      ? takeWithin(items, replyBudget(deps.config.limits))
      : takeWithin([...items].reverse(), replyBudget(deps.config.limits)).reverse();
    session.send({
      type: 'history_page',
      re: m.id,
      target: m.target,
      messages: kept,
      hasMore: page.hasMore || kept.length < items.length,
    });
  }

  async read(session: Session, m: ClientMessageOf<'read'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    if ('room' in m.target) await requireMember(deps, user, m.target.room);
    else if (!(await deps.store.getUser(m.target.user))) throw new RequestError('NOT_FOUND', `no user ${m.target.user}`);
    await deps.store.setReadMarker(user.name, targetKey(m.target), m.msgId);
    session.send({ type: 'ok', re: m.id });
    // Over the signal budget the marker is kept but not relayed: the next one carries the latest.
    if (!session.signal()) return;
    const notice = { type: 'read_notice', from: user.name, target: m.target, msgId: m.msgId } as const;
    deps.fanout.broadcast(notice, [user], session);
    deps.cluster.notice(user.name, notice);
    if ('user' in m.target && m.target.user !== user.name) {
      const toPeer = { ...notice, target: { user: user.name } };
      const peer = deps.online.get(m.target.user);
      if (peer) deps.fanout.broadcast(toPeer, [peer]);
      deps.cluster.notice(m.target.user, toPeer);
    }
  }

  /** The account's read markers, those of the newest messages first (a device back from away catches up). */
  async readMarkers(session: Session, m: ClientMessageOf<'read_markers_get'>): Promise<void> {
    const user = requireUser(session);
    const stored = await this.deps.store.getReadMarkers(user.name);
    const markers = Object.entries(stored)
      .map(([key, msgId]) => ({ target: targetOfKey(key), msgId }))
      .sort((a, b) => Number(b.msgId) - Number(a.msgId))
      .slice(0, MAX_READ_MARKERS);
    session.send({ type: 'read_markers', re: m.id, markers });
  }
}

/** The key a read marker (and a typing throttle) is kept under: "#room" or "@user". */
export function targetKey(target: Target): string {
  return 'room' in target ? `#${target.room}` : `@${target.user}`;
}

/** The target a read marker's key names (the inverse of targetKey). */
function targetOfKey(key: string): Target {
  return key.startsWith('#') ? { room: key.slice(1) } : { user: key.slice(1) };
}
