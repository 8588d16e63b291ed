// kick / ban / unban / mute / unmute / role_set. Room moderation needs op or owner rank above the
// target's; server admins may moderate anywhere. Bans are for admins only.
import type { ClientMessageOf } from '@hush/protocol';
import { normalizeAddress } from '../rate-limit.js';
import type { AdminRequest, MemberRecord } from '../store/types.js';
import { RequestError } from '../errors.js';
import { requireRoom, requireUser, roleRank, syncMembership } from './membership.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { HushdConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { MessageBatch } from './message-batch.js';
import type { Session } from './session.js';
import type { Fanout } from './fanout.js';
import { banEnd } from '../accounts.js';
import { devicesRemoved } from './key-change.js';
import { addToDefaultRoom, removeFromRoom } from './rooms.js';

const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;

/** What the moderation requests work with. */
export interface ModerationHandlerDeps {
  store: AsyncStore;
  logger: Pick<Logger, 'info'>;
  online: Pick<OnlineUsers<Session>, 'get'>;
  rooms: RoomRegistry<Session>;
  /** The live configuration (the default room an unbanned account returns to). */
  config: Pick<HushdConfig, 'defaultRoom'>;
  batch: Pick<MessageBatch, 'roomEvent' | 'roomNotice'>;
  /** Every session of this node (a ban closes the banned ones). */
  sessions: Iterable<Session>;
  cluster: Pick<ClusterSender, 'banned' | 'roleChanged' | 'devicesChanged' | 'keyChange'>;
  /** Who hears of a device removed by the command line. */
  fanout: Pick<Fanout, 'broadcast'>;
  now(): number;
}

export class ModerationHandlers {
  constructor(private readonly deps: ModerationHandlerDeps) {}

  async kick(session: Session, m: ClientMessageOf<'kick'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    notSelf(actor, m.user, 'kick yourself (leave the room instead)');
    await authorize(deps, actor, m.room, m.user, roleRank('op'));
    await removeFromRoom(deps, m.room, m.user, () => {
      session.send({ type: 'ok', re: m.id });
      deps.batch.roomEvent({
        type: 'room_event',
        room: m.room,
        event: 'kick',
        user: m.user,
        by: actor.name,
        ...(m.reason !== undefined ? { reason: m.reason } : {}),
        ts: deps.now(),
      });
    });
  }

  async ban(session: Session, m: ClientMessageOf<'ban'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    requireAdmin(actor);
    if (m.user === undefined && m.address === undefined) throw new RequestError('BAD_REQUEST', 'name a user or an address');
    // Her own ban would close her connection and take her out of every room she owns.
    notSelf(actor, m.user, 'ban yourself');
    const now = deps.now();
    const until = m.seconds !== undefined ? now + m.seconds * 1000 : Number.POSITIVE_INFINITY;
    const reason = m.reason ?? null;
    if (m.user !== undefined && !(await deps.store.getUser(m.user))) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
    if (m.user !== undefined) {
      await deps.store.setUserBan(m.user, until, reason);
      deps.logger.info('user_banned', { user: m.user, by: actor.name });
      await this.takeOutOfRooms(m.user, reason, actor.name);
    }
    const address = m.address !== undefined ? normalizeAddress(m.address) : undefined;
    if (address !== undefined) {
      await deps.store.banAddress(address, Number.isFinite(until) ? until : now + FOREVER_MS, reason);
      deps.logger.info('address_banned', { address, by: actor.name });
    }
    session.send({ type: 'ok', re: m.id });
    this.closeSessions({ user: m.user, address }, reason, until);
  }

  async unban(session: Session, m: ClientMessageOf<'unban'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    requireAdmin(actor);
    if (m.user === undefined && m.address === undefined) throw new RequestError('BAD_REQUEST', 'name a user or an address');
    if (m.user !== undefined) {
      const user = await deps.store.getUser(m.user);
      if (!user) throw new RequestError('NOT_FOUND', `no user ${m.user}`);
      // Nothing to lift is said, not announced as done.
      if (m.address === undefined && !(user.bannedUntil !== null && user.bannedUntil > deps.now())) {
        throw new RequestError('NOT_FOUND', `${m.user} is not banned`);
      }
      await deps.store.setUserBan(m.user, null, null);
      deps.logger.info('user_unbanned', { user: m.user, by: actor.name });
      await this.returnToDefaultRoom(m.user);
    }
    if (m.address !== undefined) {
      const address = normalizeAddress(m.address);
      await deps.store.unbanAddress(address);
      deps.logger.info('address_unbanned', { address, by: actor.name });
    }
    session.send({ type: 'ok', re: m.id });
  }

  /**
   * Enforces a ban, unban or role change that the command line recorded beside this server, as the
   * requests above do once they have recorded theirs. A ban lifted again before this server saw
   * it, or an unban overtaken by a new ban, changes nothing; a role is read again from the store.
   */
  async carryOut(request: AdminRequest): Promise<void> {
    const { deps } = this;
    const now = deps.now();
    const user = request.user !== null ? await deps.store.getUser(request.user) : undefined;
    const banned = user !== undefined && user.bannedUntil !== null && user.bannedUntil > now;
    // Logged as carried out, by the command that asked (never the reason: it may name people).
    if (request.action === 'ban') {
      if (banned) {
        deps.logger.info('user_banned', { user: user.name, by: 'hushd ban' });
        await this.takeOutOfRooms(user.name, request.reason, undefined);
      }
      if (request.address !== null) deps.logger.info('address_banned', { address: request.address, by: 'hushd ban' });
      // An address ban is not checked again: the address list is cached for up to a second.
      this.closeSessions(
        { user: banned ? user.name : undefined, address: request.address !== null ? normalizeAddress(request.address) : undefined },
        request.reason,
        banned ? user.bannedUntil : null,
      );
    } else if (request.action === 'unban' && user !== undefined && !banned) {
      if (user.bannedUntil !== null) await deps.store.setUserBan(user.name, null, null);
      deps.logger.info('user_unbanned', { user: user.name, by: 'hushd unban' });
      await this.returnToDefaultRoom(user.name);
    } else if (request.action === 'unban' && request.address !== null) {
      deps.logger.info('address_unbanned', { address: request.address, by: 'hushd unban' });
    } else if (request.action === 'role' && user !== undefined) {
      await refreshRole(deps, user.name);
      deps.cluster.roleChanged(user.name);
      deps.logger.info('role_changed', { user: user.name, role: user.role, by: 'hushd user role' });
    } else if (request.action === 'devices' && user !== undefined) {
      deps.logger.info('device_removed', { user: user.name, by: 'hushd user remove-device' });
      await devicesRemoved(deps, user.name);
    } else if (request.action === 'password' && user !== undefined) {
      deps.logger.info('password_set', { user: user.name, by: 'hushd user passwd' });
    }
  }

  /**
   * A banned account leaves every room, as on a kick: members of end-to-end rooms rotate their
   * sender keys on the event, so nothing said afterwards opens for it, banned for a while or not.
   */
  private async takeOutOfRooms(user: string, reason: string | null, by: string | undefined): Promise<void> {
    const { deps } = this;
    const ts = deps.now();
    for (const { room } of await deps.store.roomsOf(user)) {
      await removeFromRoom(deps, room, user, () =>
        deps.batch.roomEvent({
          type: 'room_event',
          room,
          event: 'ban',
          user,
          ...(by !== undefined ? { by } : {}),
          ...(reason !== null ? { reason } : {}),
          ts,
        }),
      );
    }
  }

  /** The banned sessions closed, here and on the other nodes, told why and (a ban for a while) until when. */
  private closeSessions(
    ban: { user?: string | undefined; address?: string | undefined },
    reason: string | null,
    until: number | null,
  ): void {
    if (ban.user === undefined && ban.address === undefined) return;
    const why = reason ?? 'banned by an administrator';
    const said = until !== null && Number.isFinite(until) ? `${why} (${banEnd(until)})` : why;
    closeBanned(this.deps.sessions, ban, said);
    this.deps.cluster.banned({
      ...(ban.user !== undefined ? { user: ban.user } : {}),
      ...(ban.address !== undefined ? { address: ban.address } : {}),
      reason: said,
    });
  }

  /** The ban took the account out of every room; it comes back to the one every user is in. */
  private async returnToDefaultRoom(user: string): Promise<void> {
    const { deps } = this;
    if (await addToDefaultRoom(deps, user)) {
      const lobby = deps.config.defaultRoom;
      deps.batch.roomNotice(lobby, { type: 'room_event', room: lobby, event: 'join', user, ts: deps.now() });
    }
  }

  async mute(session: Session, m: ClientMessageOf<'mute'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    notSelf(actor, m.user, 'mute yourself');
    await authorize(deps, actor, m.room, m.user, roleRank('op'));
    const now = deps.now();
    await deps.store.setMute(m.room, m.user, now + (m.seconds !== undefined ? m.seconds * 1000 : FOREVER_MS));
    await syncMembership(deps, m.room, m.user);
    session.send({ type: 'ok', re: m.id });
    deps.batch.roomEvent({ type: 'room_event', room: m.room, event: 'mute', user: m.user, by: actor.name, ts: now });
  }

  async unmute(session: Session, m: ClientMessageOf<'unmute'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    const member = await authorize(deps, actor, m.room, m.user, roleRank('op'));
    // A mute that ran out (or never was) is said, not announced to the room as lifted.
    if (member.mutedUntil === null || member.mutedUntil <= deps.now()) {
      throw new RequestError('NOT_FOUND', `${m.user} is not muted in #${m.room}`);
    }
    await deps.store.setMute(m.room, m.user, null);
    await syncMembership(deps, m.room, m.user);
    session.send({ type: 'ok', re: m.id });
    deps.batch.roomEvent({ type: 'room_event', room: m.room, event: 'unmute', user: m.user, by: actor.name, ts: deps.now() });
  }

  async roleSet(session: Session, m: ClientMessageOf<'role_set'>): Promise<void> {
    const { deps } = this;
    const actor = requireUser(session);
    await requireRoom(deps, m.room);
    if (actor.role !== 'admin' && actor.rooms.get(m.room)?.role !== 'owner') {
      throw new RequestError('FORBIDDEN', 'only the owner or a server admin sets roles');
    }
    // An owner who deops herself has no way back: the role is set only by an owner.
    notSelf(actor, m.user, 'change your own role');
    if (!(await deps.store.getMember(m.room, m.user))) throw new RequestError('NOT_MEMBER', `${m.user} is not in #${m.room}`);
    await deps.store.setMemberRole(m.room, m.user, m.role);
    await syncMembership(deps, m.room, m.user);
    session.send({ type: 'ok', re: m.id });
    deps.batch.roomEvent({
      type: 'room_event',
      room: m.room,
      event: 'role',
      user: m.user,
      by: actor.name,
      role: m.role,
      ts: deps.now(),
    });
  }
}

/** The target's membership, after checking the actor may act on it with at least `minRank`. */
async function authorize(
  deps: Pick<ModerationHandlerDeps, 'rooms' | 'store'>,
  actor: OnlineUser<Session>,
  room: string,
  target: string,
  minRank: number,
): Promise<MemberRecord> {
  await requireRoom(deps, room);
  const member = await deps.store.getMember(room, target);
  if (actor.role !== 'admin') {
    const own = roleRank(actor.rooms.get(room)?.role);
    if (own < minRank) throw new RequestError('FORBIDDEN', `only the operators and the owner of #${room} kick, mute and unmute there`);
    if (member && roleRank(member.role) >= own && target !== actor.name) {
      const above = roleRank(member.role) > own ? 'above you' : 'as high as you';
      throw new RequestError('FORBIDDEN', `${target} ranks ${above} in #${room}`);
    }
  }
  if (!member) throw new RequestError('NOT_MEMBER', `${target} is not in #${room}`);
  return member;
}

/** The server role of `name`'s sessions here, as the store has it now. */
export async function refreshRole(
  deps: { store: Pick<AsyncStore, 'getUser'>; online: Pick<OnlineUsers<Session>, 'get'> },
  name: string,
): Promise<void> {
  const record = await deps.store.getUser(name);
  const online = deps.online.get(name);
  if (record && online) online.role = record.role;
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

/** Kicking, muting, banning or deopping oneself only loses one's own role, voice or account by mistake. */
function notSelf(actor: OnlineUser<Session>, target: string | undefined, what: string): void {
  if (target === actor.name) throw new RequestError('FORBIDDEN', `you cannot ${what}`);
}

function requireAdmin(user: OnlineUser<Session>): void {
  if (user.role !== 'admin') throw new RequestError('FORBIDDEN', 'only server admins ban and unban (room operators can kick or mute)');
}
