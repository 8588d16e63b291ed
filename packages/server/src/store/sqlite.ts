// The default Store: one SQLite file (better-sqlite3, WAL, synchronous=NORMAL). Calls are
// synchronous, so each finishes before the next event-loop turn and needs no locking.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import * as shared from './rows.js';
import { StoreError } from './store-error.js';
import type { WriteHold } from './async-store.js';
import { WalCheckpointer, type CheckpointStats, type WalCheckpointerOptions } from './wal-checkpointer.js';
import { makeDirs } from '../make-dirs.js';
import type {
  AdminRequest,
  AppendedMessage,
  DepartureRecord,
  DeviceRecord,
  HistoryQuery,
  HistoryResult,
  HistoryTarget,
  FileHandling,
  ListPage,
  MemberRecord,
  NewMessage,
  OneTimePrekeyRecord,
  RepeatedMessage,
  RoomKind,
  RoomRecord,
  RoomRole,
  ServerRole,
  SignedPrekeyRecord,
  Store,
  StoredFile,
  StoredMessage,
  UserRecord,
} from './types.js';

/** How stale the in-memory address bans may get (bans from another process). */
const ADDRESS_BANS_TTL_MS = 1000;

/** SQLite's LIMIT: -1 is "no limit". */
function pageLimit(page: ListPage | undefined): number {
  return page?.limit === undefined ? -1 : Math.max(0, Math.floor(page.limit));
}

const SELECT_MESSAGE = 'SELECT id, kind, ts, sender, room, recipient, body, action FROM messages';
const SELECT_FILE = 'SELECT id, sender, room, recipient, name, sha512, size, created_at, complete FROM files';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;
  /** Address -> banned until (ms), cached for isAddressBanned; null when it must be reloaded. */
  private addressBans: Map<string, number> | null = null;
  private addressBansAt = 0;
  /** Off-loop WAL checkpoints (none for an in-memory database). */
  private readonly checkpointer: WalCheckpointer | null;
  private checkpointerStopped: Promise<void> = Promise.resolve();
  /**
   * The latest idempotency keys stored (sender + key -> id and time), so that a repeat soon after
   * the original (a resend after a reconnect) is answered without touching the database.
   */
  private readonly recentKeys = new shared.RecentKeys();
  /** When checkpointIfDue last looked at the WAL's bound. */
  private boundCheckedAt = -Infinity;

  private constructor(db: Database.Database, path: string, checkpoints: WalCheckpointerOptions) {
    this.db = db;
    this.checkpointer = path === ':memory:' ? null : new WalCheckpointer(db, checkpoints);
  }

  /**
   * Opens (creating when needed) the database at `path`, or an in-memory one for ':memory:'.
   * `checkpoints` tunes the WAL's checkpoints (see WalCheckpointer); the defaults suit a server.
   */
  static open(path: string, options: { checkpoints?: Partial<WalCheckpointerOptions> } = {}): SqliteStore {
    const checkpoints = { ...WAL_CHECKPOINTS, ...options.checkpoints };
    if (path !== ':memory:') {
      makeDirs(dirname(path));
      // Created owner-only before SQLite opens it: SQLite gives -wal and -shm the database's mode.
      // Only a new file is opened outside SQLite: closing a descriptor of a file drops every POSIX
      // lock this process holds on it, another connection's included.
      try {
        closeSync(openSync(path, 'wx', 0o600));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // SQLite's own words for a directory are "unable to open database file": say what it is.
        if (statSync(path).isDirectory()) {
          throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), {
            code: 'EISDIR',
            syscall: 'open',
            path,
          });
        }
      }
    }
    const db = new Database(path);
    try {
      if (path !== ':memory:') {
        db.pragma('journal_mode = WAL');
        // Checkpoints run in a worker (WalCheckpointer), not inside a commit a message waits for;
        // SQLite's own stays as a far-off bound on the WAL should the worker fail.
        db.pragma(`wal_autocheckpoint = ${SAFETY_CHECKPOINT_PAGES}`);
        // The WAL file shrinks back to its bound whenever it starts over.
        db.pragma(`journal_size_limit = ${checkpoints.boundBytes}`);
      }
      // What is deleted (retention, a deleted message's text, removed devices) is overwritten in the
      // file, not left readable in free pages: FAST leaves the text of whole freed pages behind.
      db.pragma('secure_delete = ON');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db);
      // Owner-only, like the identity key: it holds password hashes. SQLite gives -wal/-shm the same mode.
      if (path !== ':memory:' && process.platform !== 'win32') chmodSync(path, 0o600);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db, path, checkpoints);
  }

  /** Schema version of the open database (PRAGMA user_version). */
  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Prepared statements are compiled once and reused. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private mustChange(changes: number, what: string): void {
    if (changes === 0) throw new StoreError('NOT_FOUND', `no such ${what}`);
  }

  // ---- accounts ----

  createUser(name: string, passwordHash: string | null, role: ServerRole, now: number): UserRecord {
    try {
      this.stmt('INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)').run(name, passwordHash, role, now);
    } catch (err) {
      if (isConstraint(err)) throw new StoreError('ALREADY_EXISTS', 'user already exists', { cause: err });
      throw err;
    }
    return { name, passwordHash, role, createdAt: now, bannedUntil: null, banReason: null };
  }

  getUser(name: string): UserRecord | undefined {
    const row = this.stmt('SELECT * FROM users WHERE name = ?').get(name) as shared.UserRow | undefined;
    return row && shared.toUser(row);
  }

  listUsers(page?: ListPage): UserRecord[] {
    const rows = this.stmt('SELECT * FROM users WHERE name > ? ORDER BY name LIMIT ?').all(page?.after ?? '', pageLimit(page));
    return (rows as shared.UserRow[]).map(shared.toUser);
  }

  setPasswordHash(name: string, passwordHash: string): void {
    this.mustChange(this.stmt('UPDATE users SET password_hash = ? WHERE name = ?').run(passwordHash, name).changes, 'user');
  }

  setServerRole(name: string, role: ServerRole): void {
    this.mustChange(this.stmt('UPDATE users SET role = ? WHERE name = ?').run(role, name).changes, 'user');
  }

  setUserBan(name: string, until: number | null, reason: string | null): void {
    const forever = until === Number.POSITIVE_INFINITY ? 1 : 0;
    const at = until === null || forever ? null : Math.floor(until);
    const why = until === null ? null : reason;
    this.mustChange(
      this.stmt('UPDATE users SET banned_until = ?, banned_forever = ?, ban_reason = ? WHERE name = ?').run(at, forever, why, name).changes,
      'user',
    );
  }

  // ---- devices ----

  upsertDevice(device: Omit<DeviceRecord, 'createdAt' | 'lastSeen'>, now: number): { created: boolean } {
    const existing = this.getDevice(device.user, device.signKey);
    if (existing) {
      this.stmt('UPDATE devices SET box_key = ?, signature = ?, last_seen = ? WHERE user = ? AND sign_key = ?').run(
        device.boxKey,
        device.signature,
        now,
        device.user,
        device.signKey,
      );
      return { created: false };
    }
    this.db.transaction(() => {
      this.stmt('INSERT INTO devices (user, sign_key, box_key, signature, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)').run(
        device.user,
        device.signKey,
        device.boxKey,
        device.signature,
        now,
        now,
      );
      this.stmt('INSERT INTO device_cursors (user, sign_key, msg_id) VALUES (?, ?, ?)').run(
        device.user,
        device.signKey,
        shared.parseId(this.lastMessageId()),
      );
    })();
    return { created: true };
  }

  listDevices(user: string): DeviceRecord[] {
    return (this.stmt('SELECT * FROM devices WHERE user = ? ORDER BY created_at, sign_key').all(user) as shared.DeviceRow[]).map(
      shared.toDevice,
    );
  }

  getDevice(user: string, signKey: string): DeviceRecord | undefined {
    const row = this.stmt('SELECT * FROM devices WHERE user = ? AND sign_key = ?').get(user, signKey) as shared.DeviceRow | undefined;
    return row && shared.toDevice(row);
  }

  deleteDevice(user: string, signKey: string): boolean {
    return this.stmt('DELETE FROM devices WHERE user = ? AND sign_key = ?').run(user, signKey).changes > 0;
  }

  touchDevice(user: string, signKey: string, now: number): void {
    this.stmt('UPDATE devices SET last_seen = ? WHERE user = ? AND sign_key = ?').run(now, user, signKey);
  }

  // ---- prekeys ----

  setSignedPrekey(user: string, signKey: string, prekey: SignedPrekeyRecord): void {
    this.stmt(
      `INSERT INTO signed_prekeys (user, sign_key, id, created_at, public_key, signature) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user, sign_key) DO UPDATE SET id = excluded.id, created_at = excluded.created_at,
         public_key = excluded.public_key, signature = excluded.signature
       WHERE excluded.created_at >= signed_prekeys.created_at`,
    ).run(user, signKey, prekey.id, prekey.createdAt, prekey.publicKey, prekey.signature);
  }

  getSignedPrekey(user: string, signKey: string): SignedPrekeyRecord | undefined {
    const row = this.stmt('SELECT id, created_at, public_key, signature FROM signed_prekeys WHERE user = ? AND sign_key = ?').get(
      user,
      signKey,
    ) as { id: number; created_at: number; public_key: string; signature: string } | undefined;
    return row && { id: row.id, createdAt: row.created_at, publicKey: row.public_key, signature: row.signature };
  }

  addOneTimePrekeys(user: string, signKey: string, prekeys: readonly OneTimePrekeyRecord[]): number {
    const insert = this.stmt('INSERT OR IGNORE INTO one_time_prekeys (user, sign_key, id, public_key) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of prekeys) insert.run(user, signKey, p.id, p.publicKey);
    })();
    return this.countOneTimePrekeys(user, signKey);
  }

  takeOneTimePrekey(user: string, signKey: string): OneTimePrekeyRecord | undefined {
    const row = this.stmt(
      'DELETE FROM one_time_prekeys WHERE rowid = (SELECT rowid FROM one_time_prekeys WHERE user = ? AND sign_key = ? ORDER BY id LIMIT 1) RETURNING id, public_key',
    ).get(user, signKey) as { id: number; public_key: string } | undefined;
    return row && { id: row.id, publicKey: row.public_key };
  }

  countOneTimePrekeys(user: string, signKey: string): number {
    const row = this.stmt('SELECT count(*) AS n FROM one_time_prekeys WHERE user = ? AND sign_key = ?').get(user, signKey) as { n: number };
    return row.n;
  }

  // ---- invites ----

  createInvite(code: string, createdBy: string | null, now: number): void {
    try {
      this.stmt('INSERT INTO invites (code_hash, created_by, created_at) VALUES (?, ?, ?)').run(shared.hashInvite(code), createdBy, now);
    } catch (err) {
      if (isConstraint(err)) throw new StoreError('ALREADY_EXISTS', 'invite already exists', { cause: err });
      throw err;
    }
  }

  consumeInvite(code: string, usedBy: string, now: number): boolean {
    const r = this.stmt('UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL').run(
      usedBy,
      now,
      shared.hashInvite(code),
    );
    return r.changes === 1;
  }

  // ---- rooms and membership ----

  createRoom(name: string, topic: string, createdBy: string | null, now: number, kind: RoomKind): RoomRecord {
    try {
      this.stmt('INSERT INTO rooms (name, topic, created_at, created_by, kind) VALUES (?, ?, ?, ?, ?)').run(
        name,
        topic,
        now,
        createdBy,
        kind,
      );
    } catch (err) {
      if (isConstraint(err)) throw new StoreError('ALREADY_EXISTS', 'room already exists', { cause: err });
      throw err;
    }
    return { name, topic, createdAt: now, createdBy, kind };
  }

  getRoom(name: string): RoomRecord | undefined {
    const row = this.stmt('SELECT * FROM rooms WHERE name = ?').get(name) as shared.RoomRow | undefined;
    return row && shared.toRoom(row);
  }

  listRooms(page?: ListPage): RoomRecord[] {
    const rows = this.stmt('SELECT * FROM rooms WHERE name > ? ORDER BY name LIMIT ?').all(page?.after ?? '', pageLimit(page));
    return (rows as shared.RoomRow[]).map(shared.toRoom);
  }

  setTopic(name: string, topic: string): void {
    this.mustChange(this.stmt('UPDATE rooms SET topic = ? WHERE name = ?').run(topic, name).changes, 'room');
  }

  /**
   * Adds the member, or sets the role of an existing one (mute state is kept). A returning member
   * gets back the mute they left with (parting or a kick never sheds a mute); the departure is cleared.
   */
  addMember(room: string, user: string, role: RoomRole): void {
    try {
      this.db.transaction(() => {
        this.stmt(
          `INSERT INTO members (room, user, role, muted_until)
           VALUES (?, ?, ?, (SELECT muted_until FROM departures WHERE room = ? AND user = ?))
           ON CONFLICT (room, user) DO UPDATE SET role = excluded.role`,
        ).run(room, user, role, room, user);
        this.stmt('DELETE FROM departures WHERE room = ? AND user = ?').run(room, user);
      })();
    } catch (err) {
      if (isForeignKey(err)) throw new StoreError('NOT_FOUND', 'no such room or user', { cause: err });
      throw err;
    }
  }

  /** Removes the member and keeps a departure record (with the mute in force); no-op for a non-member. */
  removeMember(room: string, user: string): void {
    this.db.transaction(() => {
      this.stmt(
        `INSERT INTO departures (room, user, muted_until) SELECT room, user, muted_until FROM members WHERE room = ? AND user = ?
         ON CONFLICT (room, user) DO UPDATE SET muted_until = excluded.muted_until`,
      ).run(room, user);
      this.stmt('DELETE FROM members WHERE room = ? AND user = ?').run(room, user);
    })();
  }

  getDeparture(room: string, user: string): DepartureRecord | undefined {
    const row = this.stmt('SELECT muted_until FROM departures WHERE room = ? AND user = ?').get(room, user) as
      | { muted_until: number | null }
      | undefined;
    return row && { room, user, mutedUntil: row.muted_until };
  }

  getMember(room: string, user: string): MemberRecord | undefined {
    const row = this.stmt('SELECT * FROM members WHERE room = ? AND user = ?').get(room, user) as shared.MemberRow | undefined;
    return row && shared.toMember(row);
  }

  listMembers(room: string, page?: ListPage): MemberRecord[] {
    const rows = this.stmt('SELECT * FROM members WHERE room = ? AND user > ? ORDER BY user LIMIT ?').all(
      room,
      page?.after ?? '',
      pageLimit(page),
    );
    return (rows as shared.MemberRow[]).map(shared.toMember);
  }

  roomsOf(user: string): MemberRecord[] {
    return (this.stmt('SELECT * FROM members WHERE user = ? ORDER BY room').all(user) as shared.MemberRow[]).map(shared.toMember);
  }

  setMemberRole(room: string, user: string, role: RoomRole): void {
    this.mustChange(this.stmt('UPDATE members SET role = ? WHERE room = ? AND user = ?').run(role, room, user).changes, 'member');
  }

  setMute(room: string, user: string, until: number | null): void {
    const at = until === null ? null : until === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : Math.floor(until);
    this.mustChange(this.stmt('UPDATE members SET muted_until = ? WHERE room = ? AND user = ?').run(at, room, user).changes, 'member');
  }

  // ---- messages ----

  appendMessages(batch: readonly NewMessage[]): AppendedMessage[] {
    let out: AppendedMessage[];
    try {
      // Keys are taken as new unless remembered: the unique index catches the rest...
      out = this.appendTransaction(batch, false);
    } catch (err) {
      // ...and then the batch runs again, looking every key up (a repeat after a restart).
      if (!isKeyConflict(err)) throw err;
      out = this.appendTransaction(batch, true);
    }
    batch.forEach((m, i) => {
      if (m.key !== undefined) this.rememberKey(m.from, m.key, out[i]!);
    });
    return out;
  }

  private appendTransaction(batch: readonly NewMessage[], lookUpKeys: boolean): AppendedMessage[] {
    return this.db.transaction((): AppendedMessage[] => {
      const plan = new shared.AppendPlan(
        batch,
        (sender, key) => this.recentKeys.get(shared.keyId(sender, key)) ?? (lookUpKeys ? this.storedKey(sender, key) : undefined),
      );
      const { fresh, out } = plan;
      // Several rows per INSERT: about half the cost per row of one statement each. In one
      // transaction (one writer) AUTOINCREMENT numbers a statement's rows consecutively, in order.
      for (let at = 0; at < fresh.length; at += ROWS_PER_INSERT) {
        const chunk = fresh.slice(at, at + ROWS_PER_INSERT);
        const params = chunk.flatMap((i) => shared.messageColumns(batch[i]!));
        const last = Number(this.stmt(INSERT_MESSAGES_SQL[chunk.length - 1]!).run(...params).lastInsertRowid);
        chunk.forEach((i, n) => {
          out[i] = shared.withId(batch[i]!, String(last - chunk.length + 1 + n));
        });
      }
      return plan.finish();
    })();
  }

  messageByKey(sender: string, key: string): RepeatedMessage | undefined {
    const found = this.recentKeys.get(shared.keyId(sender, key)) ?? this.storedKey(sender, key);
    if (found) this.rememberKey(sender, key, found);
    return found;
  }

  private storedKey(sender: string, key: string): RepeatedMessage | undefined {
    const row = this.stmt('SELECT id, ts FROM messages WHERE client_key = ? AND sender = ?').get(key, sender) as
      | { id: number | bigint; ts: number }
      | undefined;
    return row && { kind: 'repeat', id: String(row.id), ts: row.ts };
  }

  private rememberKey(sender: string, key: string, m: AppendedMessage): void {
    this.recentKeys.set(shared.keyId(sender, key), { kind: 'repeat', id: m.id, ts: m.ts });
  }

  history(target: HistoryTarget, query: HistoryQuery): HistoryResult {
    const limit = Math.max(0, Math.floor(query.limit));
    const where: string[] = [];
    const params: (string | bigint | number)[] = [];
    if ('room' in target) {
      where.push('room = ?');
      params.push(target.room);
    } else {
      where.push('conv = ?');
      params.push(shared.directPairKey(target.dm[0], target.dm[1]));
    }
    if (query.before !== undefined) {
      where.push('id < ?');
      params.push(shared.parseId(query.before));
    }
    if (query.after !== undefined) {
      where.push('id > ?');
      params.push(shared.parseId(query.after));
    }
    // Only "after": page forward from the cursor (catch-up). Otherwise the newest page before the cursor.
    const forward = shared.pagesForward(query);
    const sql = `${SELECT_MESSAGE} WHERE ${where.join(' AND ')} ORDER BY id ${forward ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = this.stmt(sql).all(...params, limit + 1) as shared.MessageRow[];
    return shared.historyPage(rows, limit, forward);
  }

  directMessagesSince(user: string, afterId: string, limit: number, opts?: { includeSent?: boolean }): StoredMessage[] {
    const after = shared.parseId(afterId);
    const max = Math.max(0, Math.floor(limit));
    const rows = opts?.includeSent
      ? // UNION of two indexed lookups (a DM to oneself matches both and is kept once).
        this.stmt(
          `${SELECT_MESSAGE} WHERE recipient = ? AND id > ?
           UNION ${SELECT_MESSAGE} WHERE kind = 'dm' AND sender = ? AND id > ?
           ORDER BY id ASC LIMIT ?`,
        ).all(user, after, user, after, max)
      : this.stmt(`${SELECT_MESSAGE} WHERE recipient = ? AND id > ? ORDER BY id ASC LIMIT ?`).all(user, after, max);
    return (rows as shared.MessageRow[]).map(shared.toMessage);
  }

  messagesAfter(afterId: string, limit: number): StoredMessage[] {
    const rows = this.stmt(`${SELECT_MESSAGE} WHERE id > ? ORDER BY id ASC LIMIT ?`).all(
      shared.parseId(afterId),
      Math.max(0, Math.floor(limit)),
    );
    return (rows as shared.MessageRow[]).map(shared.toMessage);
  }

  dmPeers(user: string): string[] {
    const rows = this.stmt(
      `SELECT recipient AS peer FROM messages WHERE kind = 'dm' AND sender = ?
       UNION SELECT sender AS peer FROM messages WHERE recipient = ?
       ORDER BY peer`,
    ).all(user, user) as { peer: string | null }[];
    return rows.flatMap((r) => (r.peer !== null && r.peer !== user ? [r.peer] : []));
  }

  /** Highest id ever assigned ('0' when none): stays monotonic even after retention deletes rows. */
  lastMessageId(): string {
    const row = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").get() as { seq: number } | undefined;
    return String(row?.seq ?? 0);
  }

  roomMessage(room: string, id: string): Extract<StoredMessage, { kind: 'room' }> | undefined {
    const row = this.stmt(`${SELECT_MESSAGE} WHERE id = ? AND room = ?`).get(shared.parseId(id), room) as shared.MessageRow | undefined;
    const m = row && shared.toMessage(row);
    return m?.kind === 'room' ? m : undefined;
  }

  redactRoomMessage(room: string, id: string): void {
    const m = this.roomMessage(room, id);
    if (!m) return;
    this.db.transaction(() => {
      this.stmt('UPDATE messages SET body = ? WHERE id = ?').run(shared.redactedBody(m), shared.parseId(id));
      this.stmt(
        `DELETE FROM messages WHERE room = ? AND id > ? AND (action & ${shared.REF_FLAG}) != 0
         AND json_extract(body, '$.ref.kind') = 'edit' AND json_extract(body, '$.ref.msgId') = ?`,
      ).run(room, shared.parseId(id), id);
    })();
  }

  // ---- read markers and device delivery cursors ----

  setReadMarker(user: string, conversation: string, msgId: string): void {
    this.stmt(
      'INSERT INTO read_markers (user, conversation, msg_id) VALUES (?, ?, ?) ON CONFLICT (user, conversation) DO UPDATE SET msg_id = max(msg_id, excluded.msg_id)',
    ).run(user, conversation, shared.parseId(msgId));
  }

  getReadMarkers(user: string): Record<string, string> {
    const rows = this.stmt('SELECT conversation, msg_id FROM read_markers WHERE user = ? ORDER BY conversation').all(user) as {
      conversation: string;
      msg_id: number;
    }[];
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const r of rows) out[r.conversation] = String(r.msg_id);
    return out;
  }

  getDeviceCursor(user: string, signKey: string): string {
    const row = this.stmt('SELECT msg_id FROM device_cursors WHERE user = ? AND sign_key = ?').get(user, signKey) as
      | { msg_id: number }
      | undefined;
    return String(row?.msg_id ?? 0);
  }

  advanceDeviceCursor(user: string, signKey: string, msgId: string): void {
    // Only for a known device (the SELECT finds none otherwise); "WHERE true" lets SQLite parse the upsert.
    this.stmt(
      `INSERT INTO device_cursors (user, sign_key, msg_id) SELECT user, sign_key, ? FROM devices WHERE user = ? AND sign_key = ? AND true
       ON CONFLICT (user, sign_key) DO UPDATE SET msg_id = max(msg_id, excluded.msg_id)`,
    ).run(shared.parseId(msgId), user, signKey);
  }

  // ---- address bans ----

  banAddress(address: string, until: number, reason: string | null): void {
    this.addressBans = null;
    const forever = until === Number.POSITIVE_INFINITY ? 1 : 0;
    this.stmt(
      `INSERT INTO address_bans (address, until, forever, reason) VALUES (?, ?, ?, ?)
       ON CONFLICT (address) DO UPDATE SET until = excluded.until, forever = excluded.forever, reason = excluded.reason`,
    ).run(address, forever ? null : Math.floor(until), forever, reason);
  }

  unbanAddress(address: string): void {
    this.stmt('DELETE FROM address_bans WHERE address = ?').run(address);
    this.addressBans = null;
  }

  /**
   * Asked on every accepted connection: answered from memory. The cache is dropped on ban/unban
   * here and reloaded at least every second, so bans written by `hushd ban` beside a running
   * daemon (another process) still apply within a second.
   */
  isAddressBanned(address: string, now: number): boolean {
    const wall = Date.now();
    if (this.addressBans === null || wall - this.addressBansAt >= ADDRESS_BANS_TTL_MS) {
      this.addressBans = new Map(this.listAddressBans().map((b) => [b.address, b.until]));
      this.addressBansAt = wall;
    }
    const until = this.addressBans.get(address);
    return until !== undefined && until > now;
  }

  listAddressBans(): { address: string; until: number; reason: string | null }[] {
    return (this.stmt('SELECT * FROM address_bans ORDER BY address').all() as shared.BanRow[]).map(shared.toBan);
  }

  // ---- admin requests ----

  queueAdminRequest(request: AdminRequest): void {
    this.stmt('INSERT INTO admin_requests (action, user, address, reason) VALUES (?, ?, ?, ?)').run(
      request.action,
      request.user,
      request.address,
      request.reason,
    );
  }

  /** Asked every second by the server: a read, unless there is something to take. */
  takeAdminRequests(): AdminRequest[] {
    const rows = this.stmt('SELECT * FROM admin_requests ORDER BY id').all() as shared.AdminRequestRow[];
    if (rows.length > 0) this.stmt('DELETE FROM admin_requests WHERE id <= ?').run(rows.at(-1)!.id);
    return rows.map(shared.toAdminRequest);
  }

  // ---- files ----

  createFile(file: Omit<StoredFile, 'complete'>): void {
    try {
      this.stmt('INSERT INTO files (id, sender, room, recipient, name, sha512, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        file.id,
        file.from,
        file.room,
        file.to,
        file.name,
        file.sha512,
        file.size,
        file.createdAt,
      );
    } catch (err) {
      if (isConstraint(err)) throw new StoreError('ALREADY_EXISTS', 'file already exists', { cause: err });
      throw err;
    }
  }

  putFileChunk(fileId: string, index: number, data: Uint8Array): void {
    try {
      this.stmt('INSERT OR REPLACE INTO file_chunks (file_id, idx, data) VALUES (?, ?, ?)').run(
        fileId,
        index,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      );
    } catch (err) {
      if (isForeignKey(err)) throw new StoreError('NOT_FOUND', 'no such file', { cause: err });
      throw err;
    }
  }

  getFileChunk(fileId: string, index: number): Uint8Array | undefined {
    const row = this.stmt('SELECT data FROM file_chunks WHERE file_id = ? AND idx = ?').get(fileId, index) as { data: Buffer } | undefined;
    return row ? new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) : undefined;
  }

  completeFile(fileId: string): void {
    this.mustChange(this.stmt('UPDATE files SET complete = 1 WHERE id = ?').run(fileId).changes, 'file');
  }

  getFile(fileId: string): StoredFile | undefined {
    const row = this.stmt(`${SELECT_FILE} WHERE id = ?`).get(fileId) as shared.FileRow | undefined;
    return row && shared.toFile(row);
  }

  pendingFilesFor(user: string): StoredFile[] {
    const rows = this.stmt(
      `${SELECT_FILE} WHERE complete = 1 AND sender != ?
         AND (recipient = ? OR room IN (SELECT room FROM members WHERE user = ?))
         AND NOT EXISTS (SELECT 1 FROM file_handled h WHERE h.file_id = files.id AND h.user = ? AND h.how <> 'accepted')
       ORDER BY created_at, id`,
    ).all(user, user, user, user) as shared.FileRow[];
    return rows.map(shared.toFile);
  }

  fileHandling(fileId: string, user: string): FileHandling | undefined {
    const row = this.stmt('SELECT how FROM file_handled WHERE file_id = ? AND user = ?').get(fileId, user) as
      | { how: FileHandling }
      | undefined;
    return row?.how;
  }

  markFileHandled(fileId: string, user: string, how: FileHandling): void {
    try {
      this.stmt(
        'INSERT INTO file_handled (file_id, user, how) VALUES (?, ?, ?) ON CONFLICT (file_id, user) DO UPDATE SET how = excluded.how',
      ).run(fileId, user, how);
    } catch (err) {
      if (isForeignKey(err)) throw new StoreError('NOT_FOUND', 'no such file', { cause: err });
      throw err;
    }
  }

  deleteFile(fileId: string): void {
    this.stmt('DELETE FROM files WHERE id = ?').run(fileId);
  }

  // ---- retention ----

  /** Deletes messages older than `cutoff`. Returns rows deleted. */
  pruneMessages(cutoff: number): number {
    return this.stmt('DELETE FROM messages WHERE ts < ?').run(cutoff).changes;
  }

  /** Deletes files (with their chunks) created before `cutoff`, complete or not. Returns files deleted. */
  pruneFiles(cutoff: number): number {
    return this.stmt('DELETE FROM files WHERE created_at < ?').run(cutoff).changes;
  }

  /**
   * The worker checkpoints, and past the WAL's bound has the calls made through asyncStore held while
   * it catches up; this checkpoints here only when the WAL is past twice the bound, or past it once
   * the worker has died (see WalCheckpointer). Returns whether it did.
   */
  checkpointIfDue(now: number): boolean {
    if (this.closed || !this.checkpointer) return false;
    // Called after every turn: the WAL's size (a system call) is looked at only now and then.
    if (now - this.boundCheckedAt < BOUND_CHECK_MS) return false;
    this.boundCheckedAt = now;
    return this.checkpointer.keepBounded();
  }

  /** What holds this store's calls while the checkpoint worker catches up (asyncStore defers to it); null in memory. */
  get writeHold(): WriteHold | null {
    return this.checkpointer;
  }

  /** Checkpoints so far: by the worker (catch-ups among them, longest hold), and on this thread (count, longest ms). */
  get checkpointStats(): CheckpointStats {
    return this.checkpointer?.stats ?? { worker: 0, catchUps: 0, heldMaxMs: 0, onLoop: 0, onLoopMs: 0, onLoopMaxMs: 0 };
  }

  /** After close(): resolves once the checkpoint worker's thread has exited and the file is closed. */
  get background(): Promise<void> {
    return this.checkpointerStopped;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Calls held for a catch-up run first; then the worker lets go.
    const workerGone = this.checkpointer?.stop();
    this.statements.clear();
    // A checkpoint folds the WAL back into the main file so a copied hush.db is complete.
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // in-memory databases and read-only files have nothing to checkpoint
    }
    const db = this.db;
    if (!workerGone) {
      db.close();
      return;
    }
    // The last connection to close removes the WAL, but two closing at once can each see the other's
    // lock and both leave it: this one closes after the worker's, so it is always the last.
    this.checkpointerStopped = workerGone.then(() => {
      db.close();
    });
  }
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new StoreError('SCHEMA_TOO_NEW', `database schema version ${current} is newer than this hushd understands (${SCHEMA_VERSION})`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function isConstraint(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** A message's idempotency key is already stored (the unique index messages_by_key). */
function isKeyConflict(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' && String((err as Error).message).includes('client_key');
}

function isForeignKey(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** WAL checkpoints in a worker: every 250 ms while anything is written; past 16 MiB, a hold of at most 500 ms (see WalCheckpointer). */
const WAL_CHECKPOINTS: WalCheckpointerOptions = { everyMs: 250, pollMs: 20, boundBytes: 16 * 2 ** 20, catchUpTimeoutMs: 500 };
/** How often the writing thread looks at the WAL's size itself (the worker asks for holds at once). */
const BOUND_CHECK_MS = 50;
/** SQLite's own checkpoint, should the worker and the fallback fail (pages of 4 KiB: 128 MiB). */
const SAFETY_CHECKPOINT_PAGES = 32_768;

/** Rows per multi-row INSERT (9 parameters each, well under SQLite's limit). */
const ROWS_PER_INSERT = 32;

/** The INSERT for 1..ROWS_PER_INSERT rows, built once (the statements themselves are cached by SQL). */
const INSERT_MESSAGES_SQL = Array.from(
  { length: ROWS_PER_INSERT },
  (_, i) =>
    `INSERT INTO messages (kind, ts, sender, room, recipient, conv, body, action, client_key) VALUES ${Array(i + 1)
      .fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .join(', ')}`,
);
