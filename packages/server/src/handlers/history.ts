// history pages and read markers.
import type { ClientMessageOf, Target } from '@hush/protocol';
import type { HistoryTarget } from '../store/types.js';
import { RequestError } from '../errors.js';
import { requireMember, requireRoom, requireUser } from './membership.js';
import { replyBudget, takeWithin, wireMessage } from './replies.js';
import { sessionDevice } from './session-devices.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';

export async function handleHistory(
  ctx: Pick<ServerContext, 'config' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'history'>,
): Promise<void> {
  const user = requireUser(session);
  let target: HistoryTarget;
  if ('room' in m.target) {
    if (user.role !== 'admin') await requireMember(ctx, user, m.target.room);
    else await requireRoom(ctx, m.target.room);
    target = { room: m.target.room };
  } else {
    if (!(await ctx.store.getUser(m.target.user))) throw new RequestError('NOT_FOUND', `no user ${m.target.user}`);
    target = { dm: [user.name, m.target.user] };
  }
  const page = await ctx.store.history(target, {
    limit: m.limit,
    ...(m.before !== undefined ? { before: m.before } : {}),
    ...(m.after !== undefined ? { after: m.after } : {}),
  });
  const device = sessionDevice(session);
  const items = page.messages.map((message) => wireMessage(message, device));
  // One page must fit one record: keep the end nearest the anchor, and say there is more.
  const forward = m.after !== undefined && m.before === undefined;
  const kept = forward
    ? takeWithin(items, replyBudget(ctx.config.limits))
    : takeWithin([...items].reverse(), replyBudget(ctx.config.limits)).reverse();
  session.send({
    type: 'history_page',
    re: m.id,
    target: m.target,
    messages: kept,
    hasMore: page.hasMore || kept.length < items.length,
  });
}

/** The key a read marker (and a typing throttle) is kept under: "#room" or "@user". */
export function targetKey(target: Target): string {
  return 'room' in target ? `#${target.room}` : `@${target.user}`;
}

export async function handleRead(
  ctx: Pick<ServerContext, 'cluster' | 'fanout' | 'online' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'read'>,
): Promise<void> {
  const user = requireUser(session);
  if ('room' in m.target) await requireMember(ctx, user, m.target.room);
  else if (!(await ctx.store.getUser(m.target.user))) throw new RequestError('NOT_FOUND', `no user ${m.target.user}`);
  await ctx.store.setReadMarker(user.name, targetKey(m.target), m.msgId);
  session.send({ type: 'ok', re: m.id });
  // Over the signal budget the marker is kept but not relayed: the next one carries the latest.
  if (!session.signal()) return;
  const notice = { type: 'read_notice', from: user.name, target: m.target, msgId: m.msgId } as const;
  ctx.fanout.broadcast(notice, [user], session);
  ctx.cluster.notice(user.name, notice);
  if ('user' in m.target && m.target.user !== user.name) {
    const toPeer = { ...notice, target: { user: user.name } };
    const peer = ctx.online.get(m.target.user);
    if (peer) ctx.fanout.broadcast(toPeer, [peer]);
    ctx.cluster.notice(m.target.user, toPeer);
  }
}
