// The Store on PostgreSQL, for several hushd nodes sharing one system of record. Every call is a
// promise (AsyncStore): the answer comes over a socket. Connections are pooled (pg.Pool); a
// connection that dies (a database restart) is dropped by the pool and replaced at the next call.
//
// Message ids: appends take one cluster-wide advisory lock for their transaction, so ids are
// committed in the order they are drawn from the sequence. A reader that has seen id N has seen
// every committed id below N: catch-up "after N" never skips a message committed later.
import pg from 'pg';
import type { AsyncStore } from './async-store.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './postgres-schema.js';
import * as shared from './rows.js';
import { StoreError } from './store-error.js';
import type {
  AdminRequest,
  AppendedMessage,
  DepartureRecord,
  DeviceRecord,
  FileHandling,
  HistoryQuery,
  HistoryResult,
  HistoryTarget,
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
  StoredFile,
  StoredMessage,
  UserRecord,
} from './types.js';

export interface PostgresStoreOptions {
  /** A libpq-style URL: postgres://user:password@host:port/database?sslmode=verify-full */
  url: string;
  /** Pooled connections at most (default 10). Every node's pool counts against max_connections. */
  poolSize?: number;
  /** How long a call waits for a free or new connection before it fails (default 10 s). */
  connectTimeoutMs?: number;
  /**
   * How long one statement may go unanswered before it fails (default none). hushd sets it, so that
   * a database behind a silent network cut gives errors rather than requests that hang.
   */
  queryTimeoutMs?: number;
  /** Errors of idle pooled connections (the database went away); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

/** Advisory lock keys ("hush" in the high bytes): one for migrations, one for message appends. */
const MIGRATION_LOCK = '7526752229549441025';
const APPEND_LOCK = '7526752229549441026';

/** Message ids and times are BIGINT: read them as numbers (as better-sqlite3 does). */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

const ADDRESS_BANS_TTL_MS = 1000;
const SELECT_MESSAGE = 'SELECT id, kind, ts, sender, room, recipient, body, action FROM messages';
const SELECT_FILE = 'SELECT id, sender, room, recipient, name, sha512, size, created_at, complete FROM files';
/**
 * A batch of messages in one statement: rows whose (sender, key) is stored already come back with
 * their stored id (n: their place in the batch) and are not inserted, so a repeat draws no id;
 * the others are inserted in batch order and come back with n null (their ids follow that order
 * under the append lock). Keys are looked up row by row through their index (LATERAL ... LIMIT 1):
 * a join the planner is free to choose could scan the whole table for a plan made for any batch.
 */
const APPEND_MESSAGES = `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::smallint[], $9::text[])
      WITH ORDINALITY AS m(kind, ts, sender, room, recipient, conv, body, action, client_key, n)
  ), known AS (
    SELECT i.n, s.id, s.ts FROM input i
    CROSS JOIN LATERAL (
      SELECT id, ts FROM messages WHERE client_key IS NOT NULL AND client_key = i.client_key AND sender = i.sender LIMIT 1
    ) s
    WHERE i.client_key IS NOT NULL
  ), inserted AS (
    INSERT INTO messages (kind, ts, sender, room, recipient, conv, body, action, client_key)
    SELECT kind, ts, sender, room, recipient, conv, body, action, client_key FROM input
    WHERE n NOT IN (SELECT n FROM known)
    ORDER BY n
    RETURNING id, ts
  )
  SELECT n, id, ts FROM known UNION ALL SELECT NULL, id, ts FROM inserted`;
/** The highest id drawn, read while no append holds the lock (so it is committed, or a rolled-back hole). */
const LAST_ID = `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS id FROM messages_id_seq`;

type Db = pg.Pool | pg.PoolClient;

export class PostgresStore implements AsyncStore {
  private closed = false;
  private addressBans: Map<string, number> | null = null;
  private addressBansAt = 0;
  private readonly recentKeys = new shared.RecentKeys();

  private constructor(
    private readonly pool: pg.Pool,
    /** Schema versions this store applied when it opened (none when another node had). */
    readonly migrated: readonly number[],
  ) {}

  /** Connects, brings the schema up to date (safe beside other nodes doing the same), and returns the store. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = createPool(options);
    try {
      return new PostgresStore(pool, await migrate(pool));
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  private async rows<R>(sql: string, params: readonly unknown[] = [], db: Db = this.pool): Promise<R[]> {
    return (await db.query(sql, params as unknown[])).rows as R[];
  }

  private async changes(sql: string, params: readonly unknown[], db: Db = this.pool): Promise<number> {
    return (await db.query(sql, params as unknown[])).rowCount ?? 0;
  }

  private async mustChange(sql: string, params: readonly unknown[], what: string): Promise<void> {
    if ((await this.changes(sql, params)) === 0) throw new StoreError('NOT_FOUND', `no such ${what}`);
  }

  private transaction<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    return inTransaction(this.pool, fn, begin);
  }

  // ---- accounts ----

  async createUser(name: string, passwordHash: string | null, role: ServerRole, now: number): Promise<UserRecord> {
    await this.insert(
      'INSERT INTO users (name, password_hash, role, created_at) VALUES ($1, $2, $3, $4)',
      [name, passwordHash, role, now],
      'user',
    );
    return { name, passwordHash, role, createdAt: now, bannedUntil: null, banReason: null };
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const [row] = await this.rows<shared.UserRow>('SELECT * FROM users WHERE name = $1', [name]);
    return row && shared.toUser(row);
  }

  async listUsers(page?: ListPage): Promise<UserRecord[]> {
    return (
      await this.rows<shared.UserRow>('SELECT * FROM users WHERE name > $1 ORDER BY name LIMIT $2', [page?.after ?? '', pageLimit(page)])
    ).map(shared.toUser);
  }

  setPasswordHash(name: string, passwordHash: string): Promise<void> {
    return this.mustChange('UPDATE users SET password_hash = $1 WHERE name = $2', [passwordHash, name], 'user');
  }

  setServerRole(name: string, role: ServerRole): Promise<void> {
    return this.mustChange('UPDATE users SET role = $1 WHERE name = $2', [role, name], 'user');
  }

  setUserBan(name: string, until: number | null, reason: string | null): Promise<void> {
    const forever = until === Number.POSITIVE_INFINITY ? 1 : 0;
    const at = until === null || forever ? null : Math.floor(until);
    const why = until === null ? null : reason;
    return this.mustChange(
      'UPDATE users SET banned_until = $1, banned_forever = $2, ban_reason = $3 WHERE name = $4',
      [at, forever, why, name],
      'user',
    );
  }

  // ---- devices ----

  upsertDevice(device: Omit<DeviceRecord, 'createdAt' | 'lastSeen'>, now: number): Promise<{ created: boolean }> {
    return this.transaction(async (c) => {
      const [row] = await this.rows<{ created: boolean }>(
        `INSERT INTO devices ("user", sign_key, box_key, signature, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT ("user", sign_key) DO UPDATE SET box_key = EXCLUDED.box_key, signature = EXCLUDED.signature, last_seen = EXCLUDED.last_seen
         RETURNING (xmax = 0) AS created`,
        [device.user, device.signKey, device.boxKey, device.signature, now],
        c,
      );
      if (!row!.created) return { created: false };
      // A new device starts at the newest message: what came before was sealed without it.
      await c.query(`SELECT pg_advisory_xact_lock_shared(${APPEND_LOCK})`);
      await c.query(`INSERT INTO device_cursors ("user", sign_key, msg_id) SELECT $1, $2, id FROM (${LAST_ID}) s`, [
        device.user,
        device.signKey,
      ]);
      return { created: true };
    });
  }

  async listDevices(user: string): Promise<DeviceRecord[]> {
    return (await this.rows<shared.DeviceRow>('SELECT * FROM devices WHERE "user" = $1 ORDER BY created_at, sign_key', [user])).map(
      shared.toDevice,
    );
  }

  async getDevice(user: string, signKey: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.rows<shared.DeviceRow>('SELECT * FROM devices WHERE "user" = $1 AND sign_key = $2', [user, signKey]);
    return row && shared.toDevice(row);
  }

  async deleteDevice(user: string, signKey: string): Promise<boolean> {
    const result = await this.pool.query('DELETE FROM devices WHERE "user" = $1 AND sign_key = $2', [user, signKey]);
    return (result.rowCount ?? 0) > 0;
  }

  async touchDevice(user: string, signKey: string, now: number): Promise<void> {
    await this.pool.query('UPDATE devices SET last_seen = $1 WHERE "user" = $2 AND sign_key = $3', [now, user, signKey]);
  }

  // ---- prekeys ----

  async setSignedPrekey(user: string, signKey: string, prekey: SignedPrekeyRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO signed_prekeys ("user", sign_key, id, created_at, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ("user", sign_key) DO UPDATE SET id = EXCLUDED.id, created_at = EXCLUDED.created_at,
         public_key = EXCLUDED.public_key, signature = EXCLUDED.signature
       WHERE EXCLUDED.created_at >= signed_prekeys.created_at`,
      [user, signKey, prekey.id, prekey.createdAt, prekey.publicKey, prekey.signature],
    );
  }

  async getSignedPrekey(user: string, signKey: string): Promise<SignedPrekeyRecord | undefined> {
    const { rows } = await this.pool.query<{ id: string; created_at: string; public_key: string; signature: string }>(
      'SELECT id, created_at, public_key, signature FROM signed_prekeys WHERE "user" = $1 AND sign_key = $2',
      [user, signKey],
    );
    const row = rows[0];
    return row && { id: Number(row.id), createdAt: Number(row.created_at), publicKey: row.public_key, signature: row.signature };
  }

  async addOneTimePrekeys(user: string, signKey: string, prekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    if (prekeys.length > 0) {
      await this.pool.query(
        `INSERT INTO one_time_prekeys ("user", sign_key, id, public_key)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[]) ON CONFLICT DO NOTHING`,
        [user, signKey, prekeys.map((p) => p.id), prekeys.map((p) => p.publicKey)],
      );
    }
    return this.countOneTimePrekeys(user, signKey);
  }

  async takeOneTimePrekey(user: string, signKey: string): Promise<OneTimePrekeyRecord | undefined> {
    const { rows } = await this.pool.query<{ id: string; public_key: string }>(
      `DELETE FROM one_time_prekeys WHERE ("user", sign_key, id) = (
         SELECT "user", sign_key, id FROM one_time_prekeys WHERE "user" = $1 AND sign_key = $2 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id, public_key`,
      [user, signKey],
    );
    const row = rows[0];
    return row && { id: Number(row.id), publicKey: row.public_key };
  }

  async countOneTimePrekeys(user: string, signKey: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM one_time_prekeys WHERE "user" = $1 AND sign_key = $2',
      [user, signKey],
    );
    return Number(rows[0]?.n ?? 0);
  }

  // ---- invites ----

  async createInvite(code: string, createdBy: string | null, now: number): Promise<void> {
    await this.insert(
      'INSERT INTO invites (code_hash, created_by, created_at) VALUES ($1, $2, $3)',
      [shared.hashInvite(code), createdBy, now],
      'invite',
    );
  }

  async consumeInvite(code: string, usedBy: string, now: number): Promise<boolean> {
    const n = await this.changes('UPDATE invites SET used_by = $1, used_at = $2 WHERE code_hash = $3 AND used_by IS NULL', [
      usedBy,
      now,
      shared.hashInvite(code),
    ]);
    return n === 1;
  }

  // ---- rooms and membership ----

  async createRoom(name: string, topic: string, createdBy: string | null, now: number, kind: RoomKind): Promise<RoomRecord> {
    await this.insert(
      'INSERT INTO rooms (name, topic, created_at, created_by, kind) VALUES ($1, $2, $3, $4, $5)',
      [name, topic, now, createdBy, kind],
      'room',
    );
    return { name, topic, createdAt: now, createdBy, kind };
  }

  async getRoom(name: string): Promise<RoomRecord | undefined> {
    const [row] = await this.rows<shared.RoomRow>('SELECT * FROM rooms WHERE name = $1', [name]);
    return row && shared.toRoom(row);
  }

  async listRooms(page?: ListPage): Promise<RoomRecord[]> {
    return (
      await this.rows<shared.RoomRow>('SELECT * FROM rooms WHERE name > $1 ORDER BY name LIMIT $2', [page?.after ?? '', pageLimit(page)])
    ).map(shared.toRoom);
  }

  setTopic(name: string, topic: string): Promise<void> {
    return this.mustChange('UPDATE rooms SET topic = $1 WHERE name = $2', [topic, name], 'room');
  }

  async addMember(room: string, user: string, role: RoomRole): Promise<void> {
    try {
      await this.transaction(async (c) => {
        await c.query(
          `INSERT INTO members (room, "user", role, muted_until)
           VALUES ($1, $2, $3, (SELECT muted_until FROM departures WHERE room = $1 AND "user" = $2))
           ON CONFLICT (room, "user") DO UPDATE SET role = EXCLUDED.role`,
          [room, user, role],
        );
        await c.query('DELETE FROM departures WHERE room = $1 AND "user" = $2', [room, user]);
      });
    } catch (err) {
      if (pgCode(err) === FOREIGN_KEY) throw new StoreError('NOT_FOUND', 'no such room or user', { cause: err });
      throw err;
    }
  }

  removeMember(room: string, user: string): Promise<void> {
    return this.transaction(async (c) => {
      await c.query(
        `INSERT INTO departures (room, "user", muted_until) SELECT room, "user", muted_until FROM members WHERE room = $1 AND "user" = $2
         ON CONFLICT (room, "user") DO UPDATE SET muted_until = EXCLUDED.muted_until`,
        [room, user],
      );
      await c.query('DELETE FROM members WHERE room = $1 AND "user" = $2', [room, user]);
    });
  }

  async getMember(room: string, user: string): Promise<MemberRecord | undefined> {
    const [row] = await this.rows<shared.MemberRow>('SELECT * FROM members WHERE room = $1 AND "user" = $2', [room, user]);
    return row && shared.toMember(row);
  }

  async getDeparture(room: string, user: string): Promise<DepartureRecord | undefined> {
    const [row] = await this.rows<{ muted_until: number | null }>('SELECT muted_until FROM departures WHERE room = $1 AND "user" = $2', [
      room,
      user,
    ]);
    return row && { room, user, mutedUntil: row.muted_until };
  }

  async listMembers(room: string, page?: ListPage): Promise<MemberRecord[]> {
    const rows = await this.rows<shared.MemberRow>('SELECT * FROM members WHERE room = $1 AND "user" > $2 ORDER BY "user" LIMIT $3', [
      room,
      page?.after ?? '',
      pageLimit(page),
    ]);
    return rows.map(shared.toMember);
  }

  async roomsOf(user: string): Promise<MemberRecord[]> {
    return (await this.rows<shared.MemberRow>('SELECT * FROM members WHERE "user" = $1 ORDER BY room', [user])).map(shared.toMember);
  }

  setMemberRole(room: string, user: string, role: RoomRole): Promise<void> {
    return this.mustChange('UPDATE members SET role = $1 WHERE room = $2 AND "user" = $3', [role, room, user], 'member');
  }

  setMute(room: string, user: string, until: number | null): Promise<void> {
    const at = until === null ? null : until === Number.POSITIVE_INFINITY ? Number.MAX_SAFE_INTEGER : Math.floor(until);
    return this.mustChange('UPDATE members SET muted_until = $1 WHERE room = $2 AND "user" = $3', [at, room, user], 'member');
  }

  // ---- messages ----

  /**
   * One transaction and one statement for the whole batch (the server hands it a turn's messages).
   * Keys remembered here are answered from memory; the statement looks up the others (stored by
   * another node, or before a restart) under the append lock, so a key races no other node.
   */
  async appendMessages(batch: readonly NewMessage[]): Promise<AppendedMessage[]> {
    if (batch.length === 0) return [];
    const plan = new shared.AppendPlan(batch, (sender, key) => this.recentKeys.get(shared.keyId(sender, key)));
    const { fresh, out } = plan;
    if (fresh.length > 0) {
      // One array per column (unnest turns them back into rows).
      const columns: unknown[][] = Array.from({ length: 9 }, () => []);
      for (const i of fresh) shared.messageColumns(batch[i]!).forEach((v, k) => columns[k]!.push(v));
      const rows = await this.transaction(
        // Named: each pooled connection parses and plans it once.
        async (c) =>
          (
            await c.query<{ n: number | null; id: number; ts: number }>({
              name: 'hush-append-messages',
              text: APPEND_MESSAGES,
              values: columns,
            })
          ).rows,
        `BEGIN; SELECT pg_advisory_xact_lock(${APPEND_LOCK})`,
      );
      const repeated = new Set<number>();
      for (const r of rows) {
        if (r.n === null) continue;
        const i = fresh[r.n - 1]!;
        out[i] = { kind: 'repeat', id: String(r.id), ts: r.ts };
        repeated.add(i);
      }
      const ids = rows
        .filter((r) => r.n === null)
        .map((r) => r.id)
        .sort((x, y) => x - y);
      let next = 0;
      for (const i of fresh) if (!repeated.has(i)) out[i] = shared.withId(batch[i]!, String(ids[next++]));
    }
    const appended = plan.finish();
    batch.forEach((m, i) => {
      if (m.key !== undefined) this.rememberKey(m.from, m.key, appended[i]!);
    });
    return appended;
  }

  async messageByKey(sender: string, key: string): Promise<RepeatedMessage | undefined> {
    let found = this.recentKeys.get(shared.keyId(sender, key));
    if (!found) {
      const [row] = await this.rows<{ id: number; ts: number }>('SELECT id, ts FROM messages WHERE client_key = $1 AND sender = $2', [
        key,
        sender,
      ]);
      found = row && { kind: 'repeat', id: String(row.id), ts: row.ts };
    }
    if (found) this.rememberKey(sender, key, found);
    return found;
  }

  private rememberKey(sender: string, key: string, m: AppendedMessage): void {
    this.recentKeys.set(shared.keyId(sender, key), { kind: 'repeat', id: m.id, ts: m.ts });
  }

  async history(target: HistoryTarget, query: HistoryQuery): Promise<HistoryResult> {
    const limit = Math.max(0, Math.floor(query.limit));
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    if ('room' in target) where.push(`room = ${param(target.room)}`);
    else where.push(`conv = ${param(shared.directPairKey(target.dm[0], target.dm[1]))}`);
    if (query.before !== undefined) where.push(`id < ${param(String(shared.parseId(query.before)))}`);
    if (query.after !== undefined) where.push(`id > ${param(String(shared.parseId(query.after)))}`);
    const forward = shared.pagesForward(query);
    const sql = `${SELECT_MESSAGE} WHERE ${where.join(' AND ')} ORDER BY id ${forward ? 'ASC' : 'DESC'} LIMIT ${param(limit + 1)}`;
    const rows = await this.rows<shared.MessageRow>(sql, params);
    return shared.historyPage(rows, limit, forward);
  }

  async directMessagesSince(user: string, afterId: string, limit: number, opts?: { includeSent?: boolean }): Promise<StoredMessage[]> {
    const after = String(shared.parseId(afterId));
    const max = Math.max(0, Math.floor(limit));
    const rows = opts?.includeSent
      ? await this.rows<shared.MessageRow>(
          `${SELECT_MESSAGE} WHERE recipient = $1 AND id > $2
           UNION ${SELECT_MESSAGE} WHERE kind = 'dm' AND sender = $1 AND id > $2
           ORDER BY id ASC LIMIT $3`,
          [user, after, max],
        )
      : await this.rows<shared.MessageRow>(`${SELECT_MESSAGE} WHERE recipient = $1 AND id > $2 ORDER BY id ASC LIMIT $3`, [
          user,
          after,
          max,
        ]);
    return rows.map(shared.toMessage);
  }

  async messagesAfter(afterId: string, limit: number): Promise<StoredMessage[]> {
    const rows = await this.rows<shared.MessageRow>(`${SELECT_MESSAGE} WHERE id > $1 ORDER BY id ASC LIMIT $2`, [
      String(shared.parseId(afterId)),
      Math.max(0, Math.floor(limit)),
    ]);
    return rows.map(shared.toMessage);
  }

  async dmPeers(user: string): Promise<string[]> {
    const rows = await this.rows<{ peer: string | null }>(
      `SELECT recipient AS peer FROM messages WHERE kind = 'dm' AND sender = $1
       UNION SELECT sender AS peer FROM messages WHERE recipient = $1
       ORDER BY peer`,
      [user],
    );
    return rows.flatMap((r) => (r.peer !== null && r.peer !== user ? [r.peer] : []));
  }

  /** Highest id drawn ('0' when none): monotonic after retention, and never one an append still holds. */
  lastMessageId(): Promise<string> {
    return this.transaction(async (c) => {
      const [row] = await this.rows<{ id: number }>(LAST_ID, [], c);
      return String(row?.id ?? 0);
    }, `BEGIN; SELECT pg_advisory_xact_lock_shared(${APPEND_LOCK})`);
  }

  async roomMessage(room: string, id: string): Promise<Extract<StoredMessage, { kind: 'room' }> | undefined> {
    const [row] = await this.rows<shared.MessageRow>(`${SELECT_MESSAGE} WHERE id = $1 AND room = $2`, [String(shared.parseId(id)), room]);
    const m = row && shared.toMessage(row);
    return m?.kind === 'room' ? m : undefined;
  }

  async redactRoomMessage(room: string, id: string): Promise<void> {
    const m = await this.roomMessage(room, id);
    if (!m) return;
    await this.transaction(async (c) => {
      await this.rows('UPDATE messages SET body = $1 WHERE id = $2', [shared.redactedBody(m), String(shared.parseId(id))], c);
      // CASE keeps the JSON cast to the rows that hold JSON.
      await this.rows(
        `DELETE FROM messages WHERE room = $1 AND id > $2 AND CASE WHEN (action & ${shared.REF_FLAG}) != 0
         THEN body::jsonb->'ref'->>'kind' = 'edit' AND body::jsonb->'ref'->>'msgId' = $3 ELSE false END`,
        [room, String(shared.parseId(id)), id],
        c,
      );
    });
  }

  // ---- read markers and device delivery cursors ----

  async setReadMarker(user: string, conversation: string, msgId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO read_markers ("user", conversation, msg_id) VALUES ($1, $2, $3)
       ON CONFLICT ("user", conversation) DO UPDATE SET msg_id = GREATEST(read_markers.msg_id, EXCLUDED.msg_id)`,
      [user, conversation, String(shared.parseId(msgId))],
    );
  }

  async getReadMarkers(user: string): Promise<Record<string, string>> {
    const rows = await this.rows<{ conversation: string; msg_id: number }>(
      'SELECT conversation, msg_id FROM read_markers WHERE "user" = $1 ORDER BY conversation',
      [user],
    );
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const r of rows) out[r.conversation] = String(r.msg_id);
    return out;
  }

  async getDeviceCursor(user: string, signKey: string): Promise<string> {
    const [row] = await this.rows<{ msg_id: number }>('SELECT msg_id FROM device_cursors WHERE "user" = $1 AND sign_key = $2', [
      user,
      signKey,
    ]);
    return String(row?.msg_id ?? 0);
  }

  async advanceDeviceCursor(user: string, signKey: string, msgId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO device_cursors ("user", sign_key, msg_id) SELECT "user", sign_key, $1 FROM devices WHERE "user" = $2 AND sign_key = $3
       ON CONFLICT ("user", sign_key) DO UPDATE SET msg_id = GREATEST(device_cursors.msg_id, EXCLUDED.msg_id)`,
      [String(shared.parseId(msgId)), user, signKey],
    );
  }

  // ---- address bans ----

  async banAddress(address: string, until: number, reason: string | null): Promise<void> {
    this.addressBans = null;
    const forever = until === Number.POSITIVE_INFINITY ? 1 : 0;
    await this.pool.query(
      `INSERT INTO address_bans (address, until, forever, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (address) DO UPDATE SET until = EXCLUDED.until, forever = EXCLUDED.forever, reason = EXCLUDED.reason`,
      [address, forever ? null : Math.floor(until), forever, reason],
    );
  }

  async unbanAddress(address: string): Promise<void> {
    await this.pool.query('DELETE FROM address_bans WHERE address = $1', [address]);
    this.addressBans = null;
  }

  /** Answered from memory, reloaded at least every second (bans set on other nodes apply within it). */
  async isAddressBanned(address: string, now: number): Promise<boolean> {
    const wall = Date.now();
    if (this.addressBans === null || wall - this.addressBansAt >= ADDRESS_BANS_TTL_MS) {
      this.addressBans = new Map((await this.listAddressBans()).map((b) => [b.address, b.until]));
      this.addressBansAt = wall;
    }
    const until = this.addressBans.get(address);
    return until !== undefined && until > now;
  }

  async listAddressBans(): Promise<{ address: string; until: number; reason: string | null }[]> {
    return (await this.rows<shared.BanRow>('SELECT * FROM address_bans ORDER BY address')).map(shared.toBan);
  }

  // ---- admin requests ----

  async queueAdminRequest(request: AdminRequest): Promise<void> {
    await this.pool.query('INSERT INTO admin_requests (action, "user", address, reason) VALUES ($1, $2, $3, $4)', [
      request.action,
      request.user,
      request.address,
      request.reason,
    ]);
  }

  /** One statement: of nodes taking at once, each row goes to one. */
  async takeAdminRequests(): Promise<AdminRequest[]> {
    const rows = await this.rows<shared.AdminRequestRow>('DELETE FROM admin_requests RETURNING *');
    return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(shared.toAdminRequest);
  }

  // ---- files ----

  async createFile(file: Omit<StoredFile, 'complete'>): Promise<void> {
    await this.insert(
      'INSERT INTO files (id, sender, room, recipient, name, sha512, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [file.id, file.from, file.room, file.to, file.name, file.sha512, file.size, file.createdAt],
      'file',
    );
  }

  async putFileChunk(fileId: string, index: number, data: Uint8Array): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO file_chunks (file_id, idx, data) VALUES ($1, $2, $3) ON CONFLICT (file_id, idx) DO UPDATE SET data = EXCLUDED.data',
        [fileId, index, Buffer.from(data.buffer, data.byteOffset, data.byteLength)],
      );
    } catch (err) {
      if (pgCode(err) === FOREIGN_KEY) throw new StoreError('NOT_FOUND', 'no such file', { cause: err });
      throw err;
    }
  }

  async getFileChunk(fileId: string, index: number): Promise<Uint8Array | undefined> {
    const [row] = await this.rows<{ data: Buffer }>('SELECT data FROM file_chunks WHERE file_id = $1 AND idx = $2', [fileId, index]);
    return row ? new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength) : undefined;
  }

  completeFile(fileId: string): Promise<void> {
    return this.mustChange('UPDATE files SET complete = 1 WHERE id = $1', [fileId], 'file');
  }

  async getFile(fileId: string): Promise<StoredFile | undefined> {
    const [row] = await this.rows<shared.FileRow>(`${SELECT_FILE} WHERE id = $1`, [fileId]);
    return row && shared.toFile(row);
  }

  async pendingFilesFor(user: string): Promise<StoredFile[]> {
    const rows = await this.rows<shared.FileRow>(
      `${SELECT_FILE} WHERE complete = 1 AND sender <> $1
         AND (recipient = $1 OR room IN (SELECT room FROM members WHERE "user" = $1))
         AND NOT EXISTS (SELECT 1 FROM file_handled h WHERE h.file_id = files.id AND h."user" = $1 AND h.how <> 'accepted')
       ORDER BY created_at, id`,
      [user],
    );
    return rows.map(shared.toFile);
  }

  async fileHandling(fileId: string, user: string): Promise<FileHandling | undefined> {
    const [row] = await this.rows<{ how: FileHandling }>('SELECT how FROM file_handled WHERE file_id = $1 AND "user" = $2', [fileId, user]);
    return row?.how;
  }

  async markFileHandled(fileId: string, user: string, how: FileHandling): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO file_handled (file_id, "user", how) VALUES ($1, $2, $3) ON CONFLICT (file_id, "user") DO UPDATE SET how = EXCLUDED.how',
        [fileId, user, how],
      );
    } catch (err) {
      if (pgCode(err) === FOREIGN_KEY) throw new StoreError('NOT_FOUND', 'no such file', { cause: err });
      throw err;
    }
  }

  async deleteFile(fileId: string): Promise<void> {
    await this.pool.query('DELETE FROM files WHERE id = $1', [fileId]);
  }

  // ---- retention ----

  pruneMessages(cutoff: number, db: Db = this.pool): Promise<number> {
    return this.changes('DELETE FROM messages WHERE ts < $1', [cutoff], db);
  }

  pruneFiles(cutoff: number, db: Db = this.pool): Promise<number> {
    return this.changes('DELETE FROM files WHERE created_at < $1', [cutoff], db);
  }

  /** PostgreSQL places its own checkpoints. */
  checkpointIfDue(_now: number): Promise<boolean> {
    return Promise.resolve(false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** An INSERT whose unique violation means "already exists". */
  private async insert(sql: string, params: readonly unknown[], what: string): Promise<void> {
    try {
      await this.pool.query(sql, params as unknown[]);
    } catch (err) {
      if (pgCode(err) === UNIQUE) throw new StoreError('ALREADY_EXISTS', `${what} already exists`, { cause: err });
      throw err;
    }
  }
}

export function createPool(options: PostgresStoreOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'hushd',
    types: TYPES,
    // TCP keepalives notice a peer that vanished without closing the connection.
    keepAlive: true,
    ...(options.queryTimeoutMs !== undefined ? { query_timeout: options.queryTimeoutMs } : {}),
  });
  // Without a listener, an idle connection's error (the database restarted) would end the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

/**
 * Runs `fn` in a transaction opened by `begin` (which may also take locks). A connection whose
 * ROLLBACK fails is broken: it is destroyed rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const c = await pool.connect();
  // A checked-out connection has no listener of the pool's: one lost now (a database restart)
  // would be an uncaught 'error' event and end the process. The statement under way fails anyway.
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  c.on('error', onError);
  const release = (err?: Error) => {
    c.off('error', onError);
    c.release(err ?? lost);
  };
  try {
    await c.query(begin);
    const result = await fn(c);
    await c.query('COMMIT');
    release();
    return result;
  } catch (err) {
    try {
      await c.query('ROLLBACK');
      release();
    } catch (rollbackError) {
      release(rollbackError as Error);
    }
    throw err;
  }
}

/**
 * Brings the schema up to date: each version in its own transaction, under an advisory lock, so
 * nodes starting at once apply each version once (the others wait, then find it done). Returns the
 * versions this call applied.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const applied: number[] = [];
  for (let version = 1; version <= PG_SCHEMA_VERSION; version++) {
    const ran = await inTransaction(
      pool,
      async (c) => {
        await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        const current = Number((await c.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
        if (current > PG_SCHEMA_VERSION) {
          throw new StoreError(
            'SCHEMA_TOO_NEW',
            `database schema version ${current} is newer than this hushd understands (${PG_SCHEMA_VERSION})`,
          );
        }
        if (current >= version) return false;
        await c.query(PG_MIGRATIONS[version - 1]!);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
        return true;
      },
      `BEGIN; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`,
    );
    if (ran) applied.push(version);
  }
  return applied;
}

/** The schema version of the database at `pool` (0: never migrated). */
export async function schemaVersion(pool: pg.Pool): Promise<number> {
  const exists = await pool.query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'");
  if (exists.rowCount === 0) return 0;
  return Number((await pool.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0]!.v);
}

const UNIQUE = '23505';
const FOREIGN_KEY = '23503';

function pgCode(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

/** LIMIT NULL is "no limit". */
function pageLimit(page: ListPage | undefined): number | null {
  return page?.limit === undefined ? null : Math.max(0, Math.floor(page.limit));
}
