// register / login / device_login / logout, and what happens once a session is logged in.
import { bundleFromWire, fromBase64Url, type ClientMessageOf, type DeviceBundleWire } from '@hush/protocol';
import { verifyBundle, verifyDeviceLogin } from '@hush/crypto';
import { normalizeUsername } from '../usernames.js';
import type { UserRecord } from '../store/types.js';
import { RequestError } from '../errors.js';
import { roomInfo } from './membership.js';
import { wireBundle, wireMessage } from './replies.js';
import { bindSessionDevice } from './session-devices.js';
import type { ServerContext } from './context.js';
import type { Session } from './session.js';
import { idValue } from './newest-direct.js';
import { keyChangeAudience } from './key-change.js';

const OFFLINE_PAGE = 500;
/** A device's last_seen is written at most this often (it needs no finer precision). */
const TOUCH_DEVICE_EVERY_MS = 60_000;

/** A session's requests run one at a time (Connection), so no other login of it is in progress. */
function guardAnonymous(session: Session): void {
  if (session.user) throw new RequestError('ALREADY_AUTHENTICATED', 'already logged in');
}

function checkBundle(device: DeviceBundleWire): void {
  try {
    verifyBundle(bundleFromWire(device));
  } catch {
    throw new RequestError('BAD_REQUEST', 'device key bundle is invalid');
  }
}

function loginFailed(ctx: Pick<ServerContext, 'metrics'>, code: RequestError['code'], retryAfterMs?: number): never {
  ctx.metrics.inc('hush_login_failures_total');
  throw new RequestError(code, undefined, retryAfterMs);
}

export async function handleRegister(
  ctx: Pick<
    ServerContext,
    'accounts' | 'batch' | 'config' | 'files' | 'logger' | 'metrics' | 'now' | 'online' | 'presence' | 'rooms' | 'store'
  >,
  session: Session,
  m: ClientMessageOf<'register'>,
): Promise<void> {
  guardAnonymous(session);
  checkBundle(m.device);
  const result = await ctx.accounts.register(
    { username: m.username, password: m.password, ...(m.invite !== undefined ? { invite: m.invite } : {}) },
    ctx.now(),
  );
  if (!result.ok) loginFailed(ctx, result.code);
  if (session.closed) return;
  await ctx.store.upsertDevice({ user: result.user.name, ...m.device }, ctx.now());
  ctx.logger.info('registered', { user: result.user.name, conn: session.id });
  await completeLogin(ctx, session, result.user, m.device.signKey, m.id, true);
}

export async function handleLogin(
  ctx: Pick<
    ServerContext,
    | 'accounts'
    | 'batch'
    | 'cluster'
    | 'config'
    | 'fanout'
    | 'files'
    | 'logger'
    | 'metrics'
    | 'now'
    | 'online'
    | 'presence'
    | 'rooms'
    | 'store'
  >,
  session: Session,
  m: ClientMessageOf<'login'>,
): Promise<void> {
  guardAnonymous(session);
  checkBundle(m.device);
  const result = await ctx.accounts.login({ username: m.username, password: m.password, address: session.address }, ctx.now());
  if (!result.ok) loginFailed(ctx, result.code, result.retryAfterMs);
  if (session.closed) return;
  const { created } = await ctx.store.upsertDevice({ user: result.user.name, ...m.device }, ctx.now());
  await completeLogin(ctx, session, result.user, m.device.signKey, m.id, true);
  if (created) await announceKeyChange(ctx, result.user.name);
}

export async function handleDeviceLogin(
  ctx: Pick<ServerContext, 'batch' | 'config' | 'files' | 'logger' | 'metrics' | 'now' | 'online' | 'presence' | 'rooms' | 'store'>,
  session: Session,
  m: ClientMessageOf<'device_login'>,
): Promise<void> {
  guardAnonymous(session);
  const normal = normalizeUsername(m.username);
  const user = normal.ok ? await ctx.store.getUser(normal.name) : undefined;
  const device = user ? await ctx.store.getDevice(user.name, m.signKey) : undefined;
  if (!user || !device) {
    ctx.metrics.inc('hush_login_failures_total');
    throw new RequestError('DEVICE_UNKNOWN', 'this device is not registered for the account; log in with the password');
  }
  const signKey = fromBase64Url(m.signKey);
  const signature = fromBase64Url(m.signature);
  const empty = new Uint8Array(0);
  // The proof covers the username as the client wrote it; accept the canonical spelling too.
  const valid =
    verifyDeviceLogin(signKey, session.sessionId, m.username, empty, signature) ||
    (m.username !== user.name && verifyDeviceLogin(signKey, session.sessionId, user.name, empty, signature));
  if (!valid) loginFailed(ctx, 'AUTH_FAILED');
  if (user.bannedUntil !== null && user.bannedUntil > ctx.now()) loginFailed(ctx, 'BANNED');
  // "Last seen" to the minute is enough: no SQLite write on every reconnect.
  if (ctx.now() - device.lastSeen >= TOUCH_DEVICE_EVERY_MS) await ctx.store.touchDevice(user.name, m.signKey, ctx.now());
  if (session.closed) return;
  await completeLogin(ctx, session, user, m.signKey, m.id, false, m.since);
}

export function handleLogout(_ctx: Pick<ServerContext, never>, session: Session, m: ClientMessageOf<'logout'>): void {
  session.send({ type: 'ok', re: m.id });
  session.end();
}

/**
 * Welcome, default room, presence, offline direct messages for this device, pending files. What
 * the store is asked comes first; the session goes online in one synchronous step after it, so
 * no fan-out of a message stored meanwhile falls between its offline query and going online.
 */
async function completeLogin(
  ctx: Pick<ServerContext, 'batch' | 'config' | 'files' | 'logger' | 'metrics' | 'now' | 'online' | 'presence' | 'rooms' | 'store'>,
  session: Session,
  record: UserRecord,
  signKey: string,
  re: string,
  deviceBound: boolean,
  since?: string,
): Promise<void> {
  const now = ctx.now();
  const lobby = ctx.config.defaultRoom;
  let joinedLobby = false;
  // Only users who were never in the default room are put there: one who parted or was kicked
  // stays out (and may rejoin with room_join) instead of being silently re-added.
  if (!(await ctx.store.getMember(lobby, record.name)) && !(await ctx.store.getDeparture(lobby, record.name))) {
    await ctx.store.addMember(lobby, record.name, 'member');
    ctx.rooms.adjustCount(lobby, 1);
    joinedLobby = true;
  }
  const memberships = await ctx.store.roomsOf(record.name);
  const infos = await Promise.all(
    memberships.map(async (m) => {
      const room = await ctx.rooms.room(m.room);
      return room ? roomInfo(ctx, room, m) : undefined;
    }),
  );
  if (session.closed) return;
  const { user, first } = ctx.online.add(record.name, record.role, memberships, session);
  user.role = record.role;
  bindSessionDevice(session, signKey);
  session.authenticated(user);
  for (const m of memberships) ctx.rooms.enter(m.room, user);
  const rooms = infos.filter((info) => info !== undefined);
  session.send({
    type: 'welcome',
    re,
    user: record.name,
    role: record.role,
    rooms,
    deviceBound,
    serverTime: now,
    limits: session.limits,
  });
  ctx.metrics.inc('hush_logins_total');
  ctx.logger.info('login', { user: record.name, conn: session.id, device: deviceBound ? 'bound' : 'known' });
  if (joinedLobby) {
    ctx.batch.roomNotice(lobby, { type: 'room_event', room: lobby, event: 'join', user: record.name, ts: now });
  }
  if (first) ctx.presence.changed(record.name, 'online', '');
  await deliverOffline(ctx, session, record.name, signKey, since);
  await ctx.files.offerPending(session, record.name);
}

/**
 * Direct messages this device has not been sent — to the user, and sent by the user from other
 * devices — then the device's delivery cursor moves. Each device of an account has its own cursor.
 * The cursor moves when a DM is queued, not when it arrives: a device says with `since` what it
 * really received, and delivery starts at the earlier of the two (the device drops duplicates).
 */
async function deliverOffline(
  ctx: Pick<ServerContext, 'batch' | 'store'>,
  session: Session,
  name: string,
  signKey: string,
  since?: string,
): Promise<void> {
  const cursor = await ctx.store.getDeviceCursor(name, signKey);
  let start = since !== undefined && idValue(since) < idValue(cursor) ? since : cursor;
  const newest = ctx.batch.newestDirect;
  if (newest.nothingAfter(name, start)) return;
  for (;;) {
    const page = await ctx.store.directMessagesSince(name, start, OFFLINE_PAGE, { includeSent: true });
    const last = page[page.length - 1];
    if (last) {
      start = last.id;
      // Moved before the page is queued: a device that has the page finds its cursor past it.
      await ctx.store.advanceDeviceCursor(name, signKey, start);
    }
    for (const m of page) session.send(wireMessage(m, signKey));
    if (page.length < OFFLINE_PAGE) {
      newest.seed(name, start);
      return;
    }
  }
}

/**
 * A new device for `name`: its contacts who are online — everyone sharing a room with them and
 * everyone they have exchanged direct messages with — learn the new bundle list. Offline contacts
 * notice when they next fetch keys.
 */
async function announceKeyChange(
  ctx: Pick<ServerContext, 'cluster' | 'fanout' | 'online' | 'rooms' | 'store'>,
  name: string,
): Promise<void> {
  const devices = (await ctx.store.listDevices(name)).slice(-32).map(wireBundle);
  const change = { type: 'key_change' as const, user: name, devices };
  ctx.cluster.keyChange(change);
  ctx.fanout.broadcast(change, await keyChangeAudience(ctx, name));
}
