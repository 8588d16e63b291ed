// What every request handler works with: the server's shared state and the session it serves.
import type { ProtocolErrorCode, ServerMessage, SessionLimits, Target } from '@hush/protocol';
import type { Accounts } from '../accounts.js';
import type { HushdConfig } from '../config.js';
import type { FileRelay } from '../files.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OnlineUser, OnlineUsers } from '../presence.js';
import type { RoomRegistry } from '../rooms.js';
import type { DeviceRecord, MemberRecord, RoomRecord, RoomRole, StoredMessage, Store } from '../store/types.js';
import type { MessageBatch } from './message-batch.js';
import type { PresenceBatch } from './presence-batch.js';
import { SharedBlock } from '../outbound.js';

/** One client connection as handlers see it (implemented by Connection). */
export interface Session {
  readonly id: number;
  readonly address: string;
  /** From the handshake; login proofs are bound to it. */
  readonly sessionId: Uint8Array;
  user: OnlineUser<Session> | null;
  /** A login/register is being checked (password hashing is async). */
  authPending: boolean;
  readonly closed: boolean;
  /** Bytes queued for this session and not yet taken by the kernel. */
  readonly backlog: number;
  /** Called when the socket can take more (file downloads resume from here). */
  onWritable: (() => void) | null;
  send(message: ServerMessage): void;
  sendLine(line: string): void;
  /** Queues a block of lines shared with other sessions (a room's messages of one turn). */
  sendBlock(block: SharedBlock): void;
  /**
   * Spends one token of the signal budget (typing, read markers); false when there is none and the
   * signal is not to be relayed. A session that keeps signalling without tokens is closed.
   */
  signal(): boolean;
  /** The limits this session is held to (fixed when it connected), announced in welcome. */
  readonly limits: SessionLimits;
  /** Marks the session logged in (stops the auth deadline). */
  authenticated(user: OnlineUser<Session>): void;
  /** Sends `goodbye` with `code`, flushes and closes. */
  close(code: ProtocolErrorCode, message: string): void;
  /** Flushes and closes without a goodbye (after logout). */
  end(): void;
}

export interface ServerContext {
  readonly store: Store;
  readonly accounts: Accounts;
  readonly config: HushdConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly online: OnlineUsers<Session>;
  readonly rooms: RoomRegistry<Session>;
  readonly sessions: ReadonlySet<Session>;
  readonly batch: MessageBatch;
  readonly presence: PresenceBatch;
  readonly files: FileRelay;
  now(): number;
}

/** A request that cannot be carried out: becomes an `error` reply with the request's id. */
export class RequestError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message ?? code);
  }
}

export function requireUser(session: Session): OnlineUser<Session> {
  if (!session.user) throw new RequestError('AUTH_REQUIRED', 'log in first');
  return session.user;
}

const RANK: Record<RoomRole, number> = { member: 1, op: 2, owner: 3 };

export function roleRank(role: RoomRole | undefined): number {
  return role ? RANK[role] : 0;
}

/** The room's membership of `user`, or NOT_FOUND / NOT_MEMBER. Server admins pass as non-members when `adminOk`. */
export function requireMember(ctx: ServerContext, user: OnlineUser<Session>, room: string): MemberRecord {
  const member = user.rooms.get(room);
  if (member) return member;
  if (!ctx.store.getRoom(room)) throw new RequestError('NOT_FOUND', `no room #${room}`);
  throw new RequestError('NOT_MEMBER', `not a member of #${room}`);
}

export function requireRoom(ctx: ServerContext, room: string): RoomRecord {
  const record = ctx.store.getRoom(room);
  if (!record) throw new RequestError('NOT_FOUND', `no room #${room}`);
  return record;
}

/** Keeps an online user's cached membership in step with the store. */
export function syncMembership(ctx: ServerContext, room: string, name: string): void {
  const user = ctx.online.get(name);
  if (!user) return;
  const member = ctx.store.getMember(room, name);
  if (member) user.rooms.set(room, member);
  else user.rooms.delete(room);
}

export function roomInfo(ctx: ServerContext, room: RoomRecord, member: MemberRecord | undefined) {
  return {
    room: room.name,
    topic: room.topic,
    members: ctx.rooms.memberCount(room.name),
    joined: member !== undefined,
    ...(member ? { role: member.role } : {}),
  };
}

export function wireBundle(device: DeviceRecord) {
  return { signKey: device.signKey, boxKey: device.boxKey, signature: device.signature };
}

export function wireMessage(m: StoredMessage): Extract<ServerMessage, { type: 'message' | 'dm' }> {
  return m.kind === 'room'
    ? {
        type: 'message', room: m.room, msgId: m.id, ts: m.ts, from: m.from, text: m.text, action: m.action,
        ...(m.ref ? { ref: m.ref } : {}), ...(m.deleted ? { deleted: true } : {}),
      }
    : { type: 'dm', msgId: m.id, ts: m.ts, from: m.from, to: m.to, envelope: m.envelope };
}

/** Conversation key used for read markers: "#room" or "@user". */
export function conversationKey(target: Target): string {
  return 'room' in target ? `#${target.room}` : `@${target.user}`;
}

/** Queues `message` (serialised once) on every online session of `users`, except `skip`; counts it. */
export function broadcast(
  ctx: ServerContext,
  message: ServerMessage,
  users: Iterable<OnlineUser<Session>>,
  skip?: Session,
): number {
  const line = JSON.stringify(message);
  let count = 0;
  for (const user of users) {
    for (const session of user.sessions) {
      if (session === skip) continue;
      session.sendLine(line);
      count++;
    }
  }
  if (count > 0) {
    ctx.metrics.inc('hush_messages_out_total', count);
    ctx.metrics.inc('hush_fanout_deliveries_total', count);
  }
  return count;
}

/**
 * Sends a room event to the room's online members now, after the room's queued notices (joins
 * wait for the turn's commit): a part or a kick must not overtake the join it follows.
 */
export function broadcastRoomEvent(ctx: ServerContext, event: Extract<ServerMessage, { type: 'room_event' }>): number {
  ctx.batch.flushNotices(event.room);
  return broadcast(ctx, event, ctx.rooms.members(event.room));
}

/** Largest shared block: well inside a record, and a few of them make a flush slice. */
const MAX_BLOCK_BYTES = 64 * 1024;

/**
 * Queues a room's lines of one turn on every online session of `users` (the sending sessions
 * included: everyone gets a room's messages in server order): encoded once into shared blocks,
 * one queue entry per block per session however many lines. Counts every line delivered.
 */
export function broadcastBlock(ctx: ServerContext, lines: readonly string[], users: Iterable<OnlineUser<Session>>): number {
  const blocks = SharedBlock.build(lines, Math.min(MAX_BLOCK_BYTES, replyBudget(ctx)));
  let sessions = 0;
  for (const user of users) {
    for (const session of user.sessions) {
      for (const block of blocks) session.sendBlock(block);
      sessions++;
    }
  }
  const count = sessions * lines.length;
  if (count > 0) {
    ctx.metrics.inc('hush_messages_out_total', count);
    ctx.metrics.inc('hush_fanout_deliveries_total', count);
  }
  return count;
}

/**
 * The leading items of `items` whose JSON fits in `budget` bytes: a reply must fit one record
 * (the frame limit), so long lists are cut (history pages say `hasMore`, list pages give `next`).
 */
export function takeWithin<T>(items: readonly T[], budget: number): T[] {
  const out: T[] = [];
  let used = 0;
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > budget) break;
    out.push(item);
  }
  return out;
}

/** Room left for a list reply inside one record. */
export function replyBudget(ctx: ServerContext): number {
  return ctx.config.limits.maxFrameSize - 4096;
}

// The device (base64url sign key) each session logged in with: direct-message delivery cursors
// are per device. Kept beside the session rather than on it so Connection needs no new field.
const sessionDevices = new WeakMap<Session, string>();

/** Records the device a session logged in with (login, register, device_login). */
export function bindSessionDevice(session: Session, signKey: string): void {
  sessionDevices.set(session, signKey);
}

/** The sign key of the device `session` logged in with, if it has logged in. */
export function sessionDevice(session: Session): string | undefined {
  return sessionDevices.get(session);
}

/** Moves the delivery cursor of the session's device to `msgId` (it has been sent everything up to it). */
export function advanceCursor(ctx: ServerContext, session: Session, msgId: string): void {
  const signKey = sessionDevice(session);
  if (session.user && signKey !== undefined) ctx.store.advanceDeviceCursor(session.user.name, signKey, msgId);
}
