// What both stores share: row shapes (the PostgreSQL schema keeps SQLite's column names and
// types), their mapping to records, message-id parsing, and the memory of recent idempotency keys.
import { createHash } from 'node:crypto';
import type {
  AdminRequest,
  AppendedMessage,
  HistoryQuery,
  HistoryResult,
  DeviceRecord,
  MemberRecord,
  MessageRef,
  NewMessage,
  RepeatedMessage,
  RoomKind,
  RoomRecord,
  RoomRole,
  ServerRole,
  StoredFile,
  StoredMessage,
  UserRecord,
} from './types.js';

export interface UserRow {
  name: string;
  password_hash: string | null;
  role: ServerRole;
  created_at: number;
  banned_until: number | null;
  banned_forever: number;
  ban_reason: string | null;
}
export interface DeviceRow {
  user: string;
  sign_key: string;
  box_key: string;
  signature: string;
  created_at: number;
  last_seen: number;
}
export interface RoomRow {
  name: string;
  topic: string;
  created_at: number;
  created_by: string | null;
  kind: RoomKind;
}
export interface MemberRow {
  room: string;
  user: string;
  role: RoomRole;
  muted_until: number | null;
}
export interface MessageRow {
  id: number;
  kind: 'room' | 'dm';
  ts: number;
  sender: string;
  room: string | null;
  recipient: string | null;
  body: string;
  action: number;
}
export interface FileRow {
  id: string;
  sender: string;
  room: string | null;
  recipient: string | null;
  name: string | null;
  sha512: string | null;
  size: number;
  created_at: number;
  complete: number;
}
export interface AdminRequestRow {
  id: number | string;
  action: AdminRequest['action'];
  user: string | null;
  address: string | null;
  reason: string | null;
}

export interface BanRow {
  address: string;
  until: number | null;
  forever: number;
  reason: string | null;
}

const MAX_ID = 2n ** 63n - 1n;

/** Message ids are decimal strings on the wire; out-of-range or malformed ids clamp safely. */
export function parseId(id: string): bigint {
  if (!/^\d{1,20}$/.test(id)) return 0n;
  const n = BigInt(id);
  return n > MAX_ID ? MAX_ID : n;
}

/** A direct conversation's key: the sorted pair, so both directions share one history. */
export function directPairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

export function hashInvite(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** Usernames cannot contain a newline: sender and key cannot run into each other. */
export function keyId(sender: string, key: string): string {
  return `${sender}\n${key}`;
}

export function toUser(r: UserRow): UserRecord {
  return {
    name: r.name,
    passwordHash: r.password_hash,
    role: r.role,
    createdAt: r.created_at,
    bannedUntil: r.banned_forever ? Number.POSITIVE_INFINITY : r.banned_until,
    banReason: r.ban_reason,
  };
}

export function toDevice(r: DeviceRow): DeviceRecord {
  return { user: r.user, signKey: r.sign_key, boxKey: r.box_key, signature: r.signature, createdAt: r.created_at, lastSeen: r.last_seen };
}

export function toRoom(r: RoomRow): RoomRecord {
  return { name: r.name, topic: r.topic, createdAt: r.created_at, createdBy: r.created_by, kind: r.kind };
}

export function toMember(r: MemberRow): MemberRecord {
  return { room: r.room, user: r.user, role: r.role, mutedUntil: r.muted_until };
}

export function toMessage(r: MessageRow): StoredMessage {
  if (r.kind === 'room') {
    const base = { kind: 'room', id: String(r.id), ts: r.ts, from: r.sender, room: r.room ?? '', action: (r.action & 1) === 1 } as const;
    if ((r.action & SEALED_FLAG) !== 0) return { ...base, text: '', envelope: r.body };
    if ((r.action & REF_FLAG) === 0) return { ...base, text: r.body, ...(r.body === '' ? { deleted: true } : {}) };
    const { text, ref } = JSON.parse(r.body) as { text: string; ref: MessageRef };
    const deleted = text === '' && ref.kind === 'reply';
    return { ...base, text, ref, ...(deleted ? { deleted: true } : {}) };
  }
  return { kind: 'dm', id: String(r.id), ts: r.ts, from: r.sender, to: r.recipient ?? '', envelope: r.body };
}

export function toFile(r: FileRow): StoredFile {
  return {
    id: r.id,
    from: r.sender,
    room: r.room,
    to: r.recipient,
    name: r.name,
    sha512: r.sha512,
    size: r.size,
    createdAt: r.created_at,
    complete: r.complete === 1,
  };
}

/** Idempotency keys remembered in memory, per generation (older ones are looked up in the database). */
const RECENT_KEYS_PER_GENERATION = 32_768;

/**
 * A bounded memory of recent keys in two generations: when the current one is full it becomes the
 * previous one and the one before is dropped whole (evicting one entry at a time from a Map's front
 * costs a walk over its deleted slots).
 */
export class RecentKeys {
  private current = new Map<string, RepeatedMessage>();
  private previous = new Map<string, RepeatedMessage>();

  get(id: string): RepeatedMessage | undefined {
    return this.current.get(id) ?? this.previous.get(id);
  }

  set(id: string, value: RepeatedMessage): void {
    if (this.current.size >= RECENT_KEYS_PER_GENERATION) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(id, value);
  }
}

export function withId(m: NewMessage, id: string): StoredMessage {
  return m.kind === 'room'
    ? {
        kind: 'room',
        id,
        ts: m.ts,
        from: m.from,
        room: m.room,
        text: m.text,
        action: m.action,
        ...(m.ref ? { ref: m.ref } : {}),
        ...(m.envelope !== undefined ? { envelope: m.envelope } : {}),
      }
    : { kind: 'dm', id, ts: m.ts, from: m.from, to: m.to, envelope: m.envelope };
}

/**
 * A batch to append, split by idempotency key: `out` already holds the repeats `known` recognises;
 * `fresh` lists the indexes to store, in order; `repeatsInBatch` pairs a later copy of a key with
 * its first in the batch (filled in by `finish` once that one has its id).
 */
export class AppendPlan {
  readonly out: AppendedMessage[];
  readonly fresh: number[] = [];
  private readonly repeatsInBatch: [number, number][] = [];

  constructor(batch: readonly NewMessage[], known: (sender: string, key: string) => RepeatedMessage | undefined) {
    this.out = new Array<AppendedMessage>(batch.length);
    const firstInBatch = new Map<string, number>();
    batch.forEach((m, i) => {
      if (m.key === undefined) {
        this.fresh.push(i);
        return;
      }
      const id = keyId(m.from, m.key);
      const stored = known(m.from, m.key);
      const first = firstInBatch.get(id);
      if (stored) this.out[i] = stored;
      else if (first !== undefined) this.repeatsInBatch.push([i, first]);
      else {
        firstInBatch.set(id, i);
        this.fresh.push(i);
      }
    });
  }

  /** Every entry, once each fresh one is in `out`. */
  finish(): AppendedMessage[] {
    for (const [i, first] of this.repeatsInBatch) this.out[i] = { kind: 'repeat', id: this.out[first]!.id, ts: this.out[first]!.ts };
    return this.out;
  }
}

/** A new message as the messages table's (kind, ts, sender, room, recipient, conv, body, action, client_key). */
export function messageColumns(m: NewMessage): (string | number | null)[] {
  const key = m.key ?? null;
  return m.kind === 'room'
    ? m.envelope !== undefined
      ? ['room', m.ts, m.from, m.room, null, null, m.envelope, SEALED_FLAG, key]
      : ['room', m.ts, m.from, m.room, null, null, roomBody(m.text, m.ref), (m.action ? 1 : 0) | (m.ref ? REF_FLAG : 0), key]
    : ['dm', m.ts, m.from, null, m.to, directPairKey(m.from, m.to), m.envelope, 0, key];
}

/**
 * A room message that refers to another (reply, edit, delete, reaction) is stored with REF_FLAG in
 * its `action` column and `{ text, ref }` as JSON in its body; bit 1 stays the /me flag.
 */
export const REF_FLAG = 2;
/** A message of an e2e room: its body is the sealed envelope (action and ref are inside it). */
export const SEALED_FLAG = 4;

export function roomBody(text: string, ref: MessageRef | undefined): string {
  return ref ? JSON.stringify({ text, ref }) : text;
}

/** The body a deleted room message keeps: no text, only what it referred to. */
export function redactedBody(m: Extract<StoredMessage, { kind: 'room' }>): string {
  return roomBody('', m.ref);
}

/** History pages forward (oldest first) from `after` alone; otherwise back from the newest before the cursor. */
export function pagesForward(query: HistoryQuery): boolean {
  return query.after !== undefined && query.before === undefined;
}

/** The page from rows fetched with LIMIT limit + 1 in the query's direction: oldest first, and whether more remain. */
export function historyPage(rows: MessageRow[], limit: number, forward: boolean): HistoryResult {
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  return { messages: page.map(toMessage), hasMore: rows.length > limit };
}

export function toBan(r: BanRow): { address: string; until: number; reason: string | null } {
  return { address: r.address, until: r.forever ? Number.POSITIVE_INFINITY : (r.until ?? 0), reason: r.reason };
}

export function toAdminRequest(r: AdminRequestRow): AdminRequest {
  return { action: r.action, user: r.user, address: r.address, reason: r.reason };
}
