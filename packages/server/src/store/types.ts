// The store interface: everything hushd keeps. SQLite (better-sqlite3, WAL) implements it by
// default; a shared database can replace it for scale-out. Synchronous on purpose: better-sqlite3
// is synchronous and a call finishes before the next event-loop turn, so ordering is simple.

export type ServerRole = 'admin' | 'user';
export type RoomRole = 'owner' | 'op' | 'member';

export interface UserRecord {
  /** Canonical (normalised) username: also the primary key. */
  name: string;
  /** Self-describing scrypt hash; null for an account that has no password yet. */
  passwordHash: string | null;
  role: ServerRole;
  createdAt: number;
  /** Account ban: ms timestamp until which the account is banned (Infinity stored as null + flag). */
  bannedUntil: number | null;
  banReason: string | null;
}

export interface DeviceRecord {
  user: string;
  /** base64url Ed25519 public key: identifies the device. */
  signKey: string;
  boxKey: string;
  signature: string;
  createdAt: number;
  lastSeen: number;
}

/** 'e2e': members send sealed envelopes the server cannot read; 'open': the server reads the text. */
export type RoomKind = 'e2e' | 'open';

export interface RoomRecord {
  name: string;
  topic: string;
  createdAt: number;
  createdBy: string | null;
  kind: RoomKind;
}

export interface MemberRecord {
  room: string;
  user: string;
  role: RoomRole;
  /** ms timestamp until which the member is muted, or null. */
  mutedUntil: number | null;
}

/** What a room message refers to (a reply, an edit, a delete or a reaction): see PROTOCOL.md. */
export type MessageRef =
  | { kind: 'reply' | 'edit' | 'delete'; msgId: string }
  | { kind: 'react'; msgId: string; emoji: string; on: boolean };

/**
 * A message as stored. Room messages of open rooms keep their text (empty for a delete or reaction,
 * and once deleted: then `deleted`); those of e2e rooms, and DMs, only an opaque envelope (a sealed
 * room message has empty text, no action flag and no ref: they are inside the envelope).
 */
export type StoredMessage = (RoomMessageFields & { id: string; deleted?: boolean }) | (DmMessageFields & { id: string });

/** `key`: the sender's idempotency key; a sender's message with a key already used is not stored again. */
export type NewMessage = (RoomMessageFields & { key?: string }) | (DmMessageFields & { key?: string });

/** What a room message holds, as sent and as stored. */
interface RoomMessageFields {
  kind: 'room';
  ts: number;
  from: string;
  room: string;
  text: string;
  action: boolean;
  ref?: MessageRef;
  envelope?: string;
}

/** What a direct message holds, as sent and as stored. */
interface DmMessageFields {
  kind: 'dm';
  ts: number;
  from: string;
  to: string;
  envelope: string;
}

/** What a repeated key is answered with: the id and time of the message stored under it first. */
export interface RepeatedMessage {
  kind: 'repeat';
  id: string;
  ts: number;
}

export type AppendedMessage = StoredMessage | RepeatedMessage;

/** History target: a room, or the direct conversation between two users. */
export type HistoryTarget = { room: string } | { dm: readonly [string, string] };

export interface HistoryQuery {
  /** Only messages with id < before (newer first when paging back). */
  before?: string;
  /** Only messages with id > after (catch-up after reconnect). */
  after?: string;
  limit: number;
}

export interface HistoryResult {
  /** Oldest first. */
  messages: StoredMessage[];
  hasMore: boolean;
}

/** A page of a name-ordered list: names > `after`, at most `limit` (all when omitted). */
export interface ListPage {
  after?: string;
  limit?: number;
}

/** What is left of a membership after a part or kick (so the default room does not re-add the user). */
export interface DepartureRecord {
  room: string;
  user: string;
  /** The mute in force when the user left (ms timestamp), or null: restored if they rejoin. */
  mutedUntil: number | null;
}

export type FileHandling = 'accepted' | 'declined' | 'downloaded';

export interface StoredFile {
  id: string;
  from: string;
  /** Room name or recipient username. */
  room: string | null;
  to: string | null;
  /** Display name for room files; null for end-to-end files (the name is inside the envelope). */
  name: string | null;
  sha512: string | null;
  size: number;
  createdAt: number;
  /** True once every chunk has been uploaded. */
  complete: boolean;
}

/** A device's signed prekey as uploaded (base64url keys); the server checked its signature. */
export interface SignedPrekeyRecord {
  id: number;
  createdAt: number;
  publicKey: string;
  signature: string;
}

/** A one-time prekey (base64url public key), handed out once. */
export interface OneTimePrekeyRecord {
  id: number;
  publicKey: string;
}

/**
 * A ban, unban or server role change recorded by the admin command line, for a running server to
 * enforce: a ban closes the target's sessions and takes the account out of its rooms (with the
 * events that make members of end-to-end rooms rotate their keys); an unban brings the account back
 * to the default room; a role change reaches the account's sessions (an admin demoted loses the
 * admin's powers at once); a device removed loses its sessions, and the account's contacts and
 * other devices are told its key set changed.
 */
export interface AdminRequest {
  /** `password`: only logged by the server that takes it (the new hash is already stored). */
  action: 'ban' | 'unban' | 'role' | 'devices' | 'password';
  user: string | null;
  address: string | null;
  reason: string | null;
}

export interface Store {
  // Accounts
  createUser(name: string, passwordHash: string | null, role: ServerRole, now: number): UserRecord;
  getUser(name: string): UserRecord | undefined;
  /** Users ordered by name; `page` pages through them (additive: no argument lists all). */
  listUsers(page?: ListPage): UserRecord[];
  setPasswordHash(name: string, passwordHash: string): void;
  setServerRole(name: string, role: ServerRole): void;
  /** until = null lifts the ban; Number.POSITIVE_INFINITY bans forever. */
  setUserBan(name: string, until: number | null, reason: string | null): void;

  // Devices (one account may have several)
  /**
   * Adds or updates a device. A new device's delivery cursor starts at the newest stored message:
   * earlier direct messages were sealed before it existed, so it could not open them.
   */
  upsertDevice(device: Omit<DeviceRecord, 'createdAt' | 'lastSeen'>, now: number): { created: boolean };
  listDevices(user: string): DeviceRecord[];
  getDevice(user: string, signKey: string): DeviceRecord | undefined;
  touchDevice(user: string, signKey: string, now: number): void;
  /** Removes a device with its cursor and prekeys; false if there was none. */
  deleteDevice(user: string, signKey: string): boolean;

  // Prekeys of a device (forward-secret sessions between devices): public halves only
  /** Keeps `prekey` as the device's signed prekey unless the one held is newer (higher createdAt). */
  setSignedPrekey(user: string, signKey: string, prekey: SignedPrekeyRecord): void;
  getSignedPrekey(user: string, signKey: string): SignedPrekeyRecord | undefined;
  /** Adds one-time prekeys (ids already held are ignored); returns how many the device now has. */
  addOneTimePrekeys(user: string, signKey: string, prekeys: readonly OneTimePrekeyRecord[]): number;
  /** Removes and returns the device's oldest one-time prekey, if any is left. */
  takeOneTimePrekey(user: string, signKey: string): OneTimePrekeyRecord | undefined;
  countOneTimePrekeys(user: string, signKey: string): number;

  // Invites (registration mode "invite")
  createInvite(code: string, createdBy: string | null, now: number): void;
  consumeInvite(code: string, usedBy: string, now: number): boolean;

  // Rooms and membership
  createRoom(name: string, topic: string, createdBy: string | null, now: number, kind: RoomKind): RoomRecord;
  getRoom(name: string): RoomRecord | undefined;
  /** Rooms ordered by name; `page` pages through them. */
  listRooms(page?: ListPage): RoomRecord[];
  setTopic(name: string, topic: string): void;
  /**
   * Adds the member or sets an existing member's role. A returning member gets back the mute
   * recorded at their departure (a part or kick never sheds a mute); the departure is cleared.
   */
  addMember(room: string, user: string, role: RoomRole): void;
  /** Removes the member and records the departure (with the mute in force), in one transaction. */
  removeMember(room: string, user: string): void;
  getMember(room: string, user: string): MemberRecord | undefined;
  /** Set while `user` has parted or been kicked from `room` and not rejoined. */
  getDeparture(room: string, user: string): DepartureRecord | undefined;
  /** Members ordered by user name; `page` pages through them. */
  listMembers(room: string, page?: ListPage): MemberRecord[];
  roomsOf(user: string): MemberRecord[];
  setMemberRole(room: string, user: string, role: RoomRole): void;
  setMute(room: string, user: string, until: number | null): void;

  /**
   * Messages: append in one transaction; returns, in order, each stored row with its id, or a
   * `repeat` for a message whose (sender, key) was stored before (earlier, or in this batch).
   */
  appendMessages(batch: readonly NewMessage[]): AppendedMessage[];
  /** The message `sender` stored under idempotency `key`, if any. */
  messageByKey(sender: string, key: string): RepeatedMessage | undefined;
  history(target: HistoryTarget, query: HistoryQuery): HistoryResult;
  /**
   * Direct messages to `user` with id > afterId (offline delivery and catch-up), oldest first;
   * with `includeSent`, also those sent by `user` (so the sender's other devices catch up too).
   */
  directMessagesSince(user: string, afterId: string, limit: number, opts?: { includeSent?: boolean }): StoredMessage[];
  /** The distinct other parties of the direct messages `user` sent or received. */
  dmPeers(user: string): string[];
  /** Highest message id stored, or '0'. */
  lastMessageId(): string;
  /** Every message (rooms and direct) with id > afterId, oldest first, at most `limit`: what a node missed on the bus. */
  messagesAfter(afterId: string, limit: number): StoredMessage[];
  /** The room message `id` of `room`, if it is stored. */
  roomMessage(room: string, id: string): Extract<StoredMessage, { kind: 'room' }> | undefined;
  /**
   * Forgets what room message `id` said: its text goes, and so do the edits of it (the delete that
   * asked for this stays, so history still says it was deleted).
   */
  redactRoomMessage(room: string, id: string): void;

  // Read markers, per user and conversation key ("#room" or "@user"); a marker only moves forward
  setReadMarker(user: string, conversation: string, msgId: string): void;
  getReadMarkers(user: string): Record<string, string>;
  /**
   * Per-device delivery cursor for direct messages: the highest DM id this device (user + signKey)
   * has been sent; '0' for an unknown device. Each device catches up on its own at login.
   */
  getDeviceCursor(user: string, signKey: string): string;
  /** Moves the device's cursor forward to `msgId` (never back); no-op for an unknown device. */
  advanceDeviceCursor(user: string, signKey: string, msgId: string): void;

  // Address bans
  banAddress(address: string, until: number, reason: string | null): void;
  unbanAddress(address: string): void;
  isAddressBanned(address: string, now: number): boolean;
  listAddressBans(): { address: string; until: number; reason: string | null }[];

  // Admin requests: what `hushd ban`, `unban` and `user role`, run beside the servers, ask them to carry out
  queueAdminRequest(request: AdminRequest): void;
  /** Takes the queued requests, oldest first, removing them: each is taken by one node. */
  takeAdminRequests(): AdminRequest[];

  // Files (metadata here; chunk bytes in the store too, so retention and crash safety are one place)
  createFile(file: Omit<StoredFile, 'complete'>): void;
  putFileChunk(fileId: string, index: number, data: Uint8Array): void;
  getFileChunk(fileId: string, index: number): Uint8Array | undefined;
  completeFile(fileId: string): void;
  getFile(fileId: string): StoredFile | undefined;
  /**
   * Complete files offered to a user (directly or through a room they are in) not yet declined or
   * downloaded: an accepted file whose save was never confirmed (the receiver died mid-download) stays.
   */
  pendingFilesFor(user: string): StoredFile[];
  markFileHandled(fileId: string, user: string, how: FileHandling): void;
  /** How `user` has handled the file so far (undefined: not yet). */
  fileHandling(fileId: string, user: string): FileHandling | undefined;
  deleteFile(fileId: string): void;

  // Retention (cutoffs are ms timestamps)
  /** Deletes messages older than `cutoff`. Returns rows deleted. */
  pruneMessages(cutoff: number): number;
  /** Deletes files (with their chunks) created before `cutoff`, complete or not. Returns files deleted. */
  pruneFiles(cutoff: number): number;
  /**
   * Keeps the write-ahead log bounded where the store's own checkpoints cannot (SQLite: starts a hold
   * of the calls, or checkpoints here when its worker cannot). The server calls it between turns;
   * returns whether it did anything.
   */
  checkpointIfDue(now: number): boolean;
  close(): void;
}
