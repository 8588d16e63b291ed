// register / login / device_login / logout, and what happens once a session is logged in.
import { bundleFromWire, fromBase64Url, MAX_ACCOUNT_DEVICES, type ClientMessageOf, type DeviceBundleWire } from '@hush/protocol';
import { verifyBundle, verifyDeviceLogin } from '@hush/crypto';
import { normalizeUsername } from '../usernames.js';
import type { UserRecord } from '../store/types.js';
import { AccountError, RequestError } from '../errors.js';
import { requireUser, roomInfo } from './membership.js';
import { wireMessage } from './replies.js';
import { bindSessionDevice } from './session-devices.js';
import { type Accounts, bannedWords } from '../accounts.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { HushdConfig } from '../config.js';
import type { FileRelay } from '../files.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { MessageBatch } from './message-batch.js';
import type { PresenceBatch } from './presence-batch.js';
import type { Session } from './session.js';
import { idValue } from './newest-direct.js';
import { announceKeyChange } from './key-change.js';
import { addToDefaultRoom } from './rooms.js';

const OFFLINE_PAGE = 500;

/** Told to an account's other devices when its password is changed from one of them. */
export const PASSWORD_CHANGED_NOTICE = {
  type: 'notice',
  level: 'warn',
  code: 'PASSWORD_CHANGED',
  text: "your account's password was changed from another of your devices: if it was not you, ask the server's admin for a new password, then remove the devices you do not know",
} as const;
/** A device's last_seen is written at most this often (it needs no finer precision). */
const TOUCH_DEVICE_EVERY_MS = 60_000;

/** What the account requests work with. */
export interface AccountHandlerDeps {
  accounts: Pick<Accounts, 'register' | 'login' | 'passwordProblem' | 'setPassword'>;
  store: AsyncStore;
  /** The live configuration (the default room). */
  config: Pick<HushdConfig, 'defaultRoom'>;
  logger: Pick<Logger, 'info'>;
  metrics: Pick<Metrics, 'inc'>;
  online: OnlineUsers<Session>;
  rooms: RoomRegistry<Session>;
  fanout: Pick<Fanout, 'broadcast'>;
  batch: Pick<MessageBatch, 'newestDirect' | 'roomNotice'>;
  presence: Pick<PresenceBatch, 'changed'>;
  files: Pick<FileRelay, 'offerPending'>;
  cluster: Pick<ClusterSender, 'keyChange' | 'notice'>;
  now(): number;
}

export class AccountHandlers {
  constructor(private readonly deps: AccountHandlerDeps) {}

  async register(session: Session, m: ClientMessageOf<'register'>): Promise<void> {
    const { deps } = this;
    guardAnonymous(session);
    checkBundle(m.device);
    const result = await deps.accounts.register(
      { username: m.username, password: m.password, ...(m.invite !== undefined ? { invite: m.invite } : {}) },
      deps.now(),
    );
    if (!result.ok) return loginFailed(deps, result.code, { message: result.message });
    if (session.closed) return;
    await deps.store.upsertDevice({ user: result.user.name, ...m.device }, deps.now());
    deps.logger.info('registered', { user: result.user.name, conn: session.id, address: session.address });
    await completeLogin(deps, session, result.user, m.device.signKey, m.id, true);
  }

  async login(session: Session, m: ClientMessageOf<'login'>): Promise<void> {
    const { deps } = this;
    guardAnonymous(session);
    checkBundle(m.device);
    const result = await deps.accounts.login({ username: m.username, password: m.password, address: session.address }, deps.now());
    if (!result.ok)
      return loginFailed(deps, result.code, {
        attempt: { session, username: m.username },
        retryAfterMs: result.retryAfterMs,
        message: result.message,
      });
    if (session.closed) return;
    const name = result.user.name;
    if (!(await deps.store.getDevice(name, m.device.signKey)) && (await deps.store.listDevices(name)).length >= MAX_ACCOUNT_DEVICES) {
      return loginFailed(deps, 'FORBIDDEN', {
        attempt: { session, username: m.username },
        message: `${name} has ${MAX_ACCOUNT_DEVICES} devices, the most an account may have: remove one it no longer uses first (in hush: /devices remove, from one of them; or the server's admin: hushd user remove-device)`,
      });
    }
    const { created } = await deps.store.upsertDevice({ user: name, ...m.device }, deps.now());
    await completeLogin(deps, session, result.user, m.device.signKey, m.id, true);
    if (created) await announceKeyChange(deps, result.user.name);
  }

  async deviceLogin(session: Session, m: ClientMessageOf<'device_login'>): Promise<void> {
    const { deps } = this;
    guardAnonymous(session);
    const normal = normalizeUsername(m.username);
    const user = normal.ok ? await deps.store.getUser(normal.name) : undefined;
    const device = user ? await deps.store.getDevice(user.name, m.signKey) : undefined;
    if (!user || !device) {
      return loginFailed(deps, 'DEVICE_UNKNOWN', {
        attempt: { session, username: m.username },
        message: 'this device is not registered for the account; log in with the password',
      });
    }
    const signKey = fromBase64Url(m.signKey);
    const signature = fromBase64Url(m.signature);
    const empty = new Uint8Array(0);
    // The proof covers the username as the client wrote it; accept the canonical spelling too.
    const valid =
      verifyDeviceLogin(signKey, session.sessionId, m.username, empty, signature) ||
      (m.username !== user.name && verifyDeviceLogin(signKey, session.sessionId, user.name, empty, signature));
    const attempt = { session, username: user.name };
    if (!valid) return loginFailed(deps, 'AUTH_FAILED', { attempt });
    if (user.bannedUntil !== null && user.bannedUntil > deps.now())
      return loginFailed(deps, 'BANNED', { attempt, message: bannedWords(user) });
    // "Last seen" to the minute is enough: no SQLite write on every reconnect.
    if (deps.now() - device.lastSeen >= TOUCH_DEVICE_EVERY_MS) await deps.store.touchDevice(user.name, m.signKey, deps.now());
    if (session.closed) return;
    await completeLogin(deps, session, user, m.signKey, m.id, false, m.since);
  }

  /**
   * The account's own password, changed with the current one. The current password is checked as a
   * login's (the same gate, back-off and refusal), so a stolen device cannot guess it faster; the
   * new one's rules first, so a weak choice costs no attempt. Devices stay logged in.
   */
  async changePassword(session: Session, m: ClientMessageOf<'password_change'>): Promise<void> {
    const { deps } = this;
    const user = requireUser(session);
    const weak = deps.accounts.passwordProblem(user.name, m.newPassword);
    if (weak) throw new RequestError('PASSWORD_WEAK', weak);
    await checkOwnPassword(deps, session, user.name, m.password, 'password_change');
    try {
      await deps.accounts.setPassword(user.name, m.newPassword);
    } catch (err) {
      if (err instanceof AccountError) throw new RequestError(err.code, err.message);
      throw err;
    }
    deps.logger.info('password_changed', { user: user.name, by: 'owner', conn: session.id });
    session.send({ type: 'ok', re: m.id });
    // The account's other devices, here and on other nodes: a thief who knew the password would change it too.
    deps.fanout.broadcast(PASSWORD_CHANGED_NOTICE, [user], session);
    deps.cluster.notice(user.name, PASSWORD_CHANGED_NOTICE);
  }

  logout(session: Session, m: ClientMessageOf<'logout'>): void {
    session.send({ type: 'ok', re: m.id });
    session.end();
  }
}

/**
 * Welcome, default room, presence, offline direct messages for this device, pending files. What
 * the store is asked comes first; the session goes online in one synchronous step after it, so
 * no fan-out of a message stored meanwhile falls between its offline query and going online.
 */
async function completeLogin(
  deps: Pick<AccountHandlerDeps, 'batch' | 'config' | 'files' | 'logger' | 'metrics' | 'now' | 'online' | 'presence' | 'rooms' | 'store'>,
  session: Session,
  record: UserRecord,
  signKey: string,
  re: string,
  deviceBound: boolean,
  since?: string,
): Promise<void> {
  const now = deps.now();
  const lobby = deps.config.defaultRoom;
  // A login gets this far with a ban on record only once the ban has run out: the account returns
  // as it does on an unban, into the default room that the ban took it out of.
  const banEnded = record.bannedUntil !== null;
  if (banEnded) await deps.store.setUserBan(record.name, null, null);
  // Otherwise only users who were never in the default room are put there: one who was kicked
  // stays out (and may rejoin with room_join) instead of being silently re-added.
  const joinedLobby = (banEnded || !(await deps.store.getDeparture(lobby, record.name))) && (await addToDefaultRoom(deps, record.name));
  const memberships = await deps.store.roomsOf(record.name);
  const infos = await Promise.all(
    memberships.map(async (m) => {
      const room = await deps.rooms.room(m.room);
      return room ? roomInfo(deps, room, m) : undefined;
    }),
  );
  if (session.closed) return;
  const { user, first } = deps.online.add(record.name, record.role, memberships, session);
  user.role = record.role;
  bindSessionDevice(session, signKey);
  session.authenticated(user);
  for (const m of memberships) deps.rooms.enter(m.room, user);
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
  deps.metrics.inc('hush_logins_total');
  deps.logger.info('login', { user: record.name, conn: session.id, address: session.address, device: deviceBound ? 'bound' : 'known' });
  if (joinedLobby) {
    deps.batch.roomNotice(lobby, { type: 'room_event', room: lobby, event: 'join', user: record.name, ts: now });
  }
  if (first) deps.presence.changed(record.name, 'online', '');
  await deliverOffline(deps, session, record.name, signKey, since);
  await deps.files.offerPending(session, record.name);
}

/**
 * Direct messages this device has not been sent — to the user, and sent by the user from other
 * devices — then the device's delivery cursor moves. Each device of an account has its own cursor.
 * The cursor moves when a DM is queued, not when it arrives: a device says with `since` what it
 * really received, and delivery starts at the earlier of the two (the device drops duplicates).
 */
async function deliverOffline(
  deps: Pick<AccountHandlerDeps, 'batch' | 'store'>,
  session: Session,
  name: string,
  signKey: string,
  since?: string,
): Promise<void> {
  const cursor = await deps.store.getDeviceCursor(name, signKey);
  let start = since !== undefined && idValue(since) < idValue(cursor) ? since : cursor;
  const newest = deps.batch.newestDirect;
  if (newest.nothingAfter(name, start)) return;
  for (;;) {
    const page = await deps.store.directMessagesSince(name, start, OFFLINE_PAGE, { includeSent: true });
    const last = page[page.length - 1];
    if (last) {
      start = last.id;
      // Moved before the page is queued: a device that has the page finds its cursor past it.
      await deps.store.advanceDeviceCursor(name, signKey, start);
    }
    for (const m of page) session.send(wireMessage(m, signKey));
    if (page.length < OFFLINE_PAGE) {
      newest.seed(name, start);
      return;
    }
  }
}

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

/**
 * The session's own account password, given again for a request that needs it (`during`:
 * remove_device, password_change): checked as a login's (the same gate and back-off), a wrong one
 * refused and counted as a failed login, logged with what it was for and the connection (the
 * account's own session, not someone logging in from outside).
 */
export async function checkOwnPassword(
  deps: { accounts: Pick<Accounts, 'login'>; now(): number } & Pick<AccountHandlerDeps, 'logger' | 'metrics' | 'store'>,
  session: Session,
  name: string,
  password: string,
  during: 'password_change' | 'remove_device',
): Promise<void> {
  const checked = await deps.accounts.login({ username: name, password, address: session.address }, deps.now());
  if (!checked.ok) {
    await loginFailed(deps, checked.code, {
      attempt: { session, username: name, during },
      retryAfterMs: checked.retryAfterMs,
      message: checked.message,
    });
  }
}

/**
 * Counts and refuses a failed login (or registration, or a password asked again); a login's failure is logged with the address
 * and the account tried, named only if it exists: a password typed into the username field must
 * not reach the log.
 */
export async function loginFailed(
  deps: Pick<AccountHandlerDeps, 'logger' | 'metrics' | 'store'>,
  code: RequestError['code'],
  {
    attempt,
    retryAfterMs,
    message,
  }: {
    attempt?: { session: Session; username: string; during?: 'password_change' | 'remove_device' };
    retryAfterMs?: number | undefined;
    message?: string | undefined;
  } = {},
): Promise<never> {
  deps.metrics.inc('hush_login_failures_total');
  if (attempt) {
    const normal = normalizeUsername(attempt.username);
    const account = normal.ok && (await deps.store.getUser(normal.name)) ? normal.name : null;
    const { session, during } = attempt;
    deps.logger.info('login_failed', { code, account, address: session.address, ...(during ? { during, conn: session.id } : {}) });
  }
  throw new RequestError(code, message, retryAfterMs);
}
