import type { ServerMessageOf } from '@hush/protocol';
import type { HushError } from './errors.js';
import type { ClientPaths } from './paths.js';
import type { ServerAddress } from './server-addresses.js';

export interface TrustPrompt {
  host: string;
  port: number;
  fingerprint: string;
  shortFingerprint: string;
  /**
   * Other addresses already pinned to this same key (the same server under another name or port):
   * trusted, this client keeps its device, sessions and history from there.
   */
  knownAs: readonly string[];
}

/**
 * Every optional field also takes `undefined` (as from `process.env`), so that a project with
 * `exactOptionalPropertyTypes` (which `tsc --init` sets) can pass a variable that may be unset.
 */
export interface ConnectOptions {
  /** The server's name and port: its key is pinned under them, and they are dialled first. Local state follows the key, not the address. */
  host: string;
  port: number;
  /**
   * The server's other addresses (the nodes of a cluster, which share one identity key): when a
   * connection fails or drops, the next address is tried, round robin, with the reconnect back-off.
   * Every node must show the pinned key. A name that resolves to several addresses counts as each.
   */
  failover?: readonly ServerAddress[] | undefined;
  paths?: ClientPaths | undefined;
  /** Out-of-band fingerprint: first contact is trusted (and pinned) only if it matches. */
  expectedFingerprint?: string | undefined;
  /** Called on first contact (no pin yet). Return true to trust and pin. Without it and without expectedFingerprint, first contact fails. */
  trust?: ((prompt: TrustPrompt) => boolean | Promise<boolean>) | undefined;
  /** Reconnect with backoff after the connection drops (default true). */
  reconnect?: boolean | undefined;
  /** Connect/handshake and request timeout (default 15 s). */
  timeoutMs?: number | undefined;
}

/** 'reconnecting' lasts until the session is logged in again and caught up; 'closed' is for good. */
export type ConnectionState = 'connecting' | 'ready' | 'reconnecting' | 'closed';
export type PresenceState = 'online' | 'away' | 'offline';
export type RoomRole = 'owner' | 'op' | 'member';
/** 'e2e': only members' devices read the room; 'open': the server reads it too (an admin's choice). */
export type RoomKind = 'e2e' | 'open';
export type Target = { room: string } | { user: string };

export interface ChatMessage {
  kind: 'room' | 'dm';
  id: string;
  ts: number;
  from: string;
  /** kind 'room' */
  room?: string;
  /** kind 'dm': the other user of the conversation */
  peer?: string;
  /** The latest text ('' once deleted). */
  text: string;
  action: boolean;
  mine: boolean;
  /** The id of the message this one answers (it may be one this client never saw). */
  replyTo?: string;
  /** Its author changed the text since it was sent. */
  edited?: boolean;
  /** Taken back: the text is gone. */
  deleted?: boolean;
  /** Reactions, present when there is at least one. */
  reactions?: Reaction[];
  /**
   * On a 'message' event only: it opened late (it waited for its sender's key, or a later message
   * of its conversation was emitted before it). Its place is by server order (`id`, `ts`), not at the end.
   */
  late?: boolean;
}

/** One emoji on a message and who put it there (at most MAX_DISTINCT_REACTIONS emoji per message). */
export interface Reaction {
  emoji: string;
  users: string[];
}

export type MessageChange = { kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'react'; emoji: string; on: boolean };

/** A message changed: `by` edited it, deleted it or reacted to it; `message` is its state now. */
export interface MessageUpdate {
  target: Target;
  msgId: string;
  by: string;
  change: MessageChange;
  message: ChatMessage;
}

/** A search hit from the local history: the message as it is now. */
export interface SearchResult {
  target: Target;
  message: ChatMessage;
}

/** A send not acknowledged yet: 'queued' waits (for the pacer or a reconnect), 'sending' is on the wire. */
export interface PendingSend {
  /** The idempotency key it carries on every attempt. */
  key: string;
  target: Target;
  text: string;
  action: boolean;
  state: 'queued' | 'sending';
}

export interface RoomInfo {
  room: string;
  topic: string;
  kind: RoomKind;
  members: number;
  joined: boolean;
  role?: RoomRole;
}

export interface MemberInfo {
  user: string;
  role: RoomRole;
  state: PresenceState;
  status: string;
}

export interface UserInfo {
  user: string;
  state: PresenceState;
  status: string;
  role: 'admin' | 'user';
}

export interface FileOffer {
  fileId: string;
  from: string;
  /** The conversation: the room, or `{ user: from }` for a file sent to you directly. */
  target: Target;
  name: string;
  size: number;
  e2e: boolean;
  ts: number;
}

export interface ClientEvents {
  message: [ChatMessage];
  /** A message was edited, deleted, or reacted to (live, or while catching up). */
  messageUpdate: [MessageUpdate];
  presence: [{ user: string; state: PresenceState; status: string }];
  typing: [{ from: string; target: Target; active: boolean }];
  read: [{ from: string; target: Target; msgId: string }];
  /**
   * `elsewhere`: a create, join or part of this user made on another device of the account (not by
   * a call of this client); a room joined or created so is in `rooms` already, with its kind. Those
   * made while this device was disconnected are told when it reconnects (a create as a join), with
   * `whileAway`: such a part may as well be a kick the server did not keep.
   */
  roomEvent: [
    {
      room: string;
      /** As the protocol has it: 'join', 'part', 'kick', 'ban', 'mute', 'unmute', 'topic', 'role' or 'create'. */
      event: ServerMessageOf<'room_event'>['event'];
      user: string;
      by?: string;
      topic?: string;
      /** With 'role' (the new one) and 'join'. */
      role?: RoomRole;
      reason?: string;
      ts: number;
      elsewhere?: boolean;
      whileAway?: boolean;
    },
  ];
  /** A contact's device keys changed; if verified, direct messages to them are refused until re-verified (room messages are not). */
  keyChange: [{ user: string; verified: boolean }];
  /** `session_reset`: a session with one of the contact's devices broke (state lost or restored); the next message starts a new one. */
  dmWarning: [{ user: string; kind: 'replay' | 'gap' | 'undecryptable' | 'session_reset'; missing?: number }];
  notice: [{ level: 'info' | 'warn'; code?: string; text: string }];
  state: [ConnectionState];
  /** The sends not acknowledged yet changed (one was added, went out, was acked or failed): `pendingSends`. */
  outbox: [PendingSend[]];
  fileOffer: [FileOffer];
  /** An upload of ours was offered (before its first chunk): `path` as given to sendFile tells two at once apart. */
  fileSending: [{ fileId: string; target: Target; path: string; size: number }];
  fileProgress: [{ fileId: string; direction: 'up' | 'down'; bytes: number; size: number }];
  fileComplete: [{ fileId: string; direction: 'up' | 'down'; path?: string }];
  fileCancelled: [{ fileId: string; by?: string; reason?: string }];
  /** What a recipient did with our file: 'downloaded' once it saved it and the hash matched. */
  fileStatus: [{ fileId: string; user: string; status: 'accepted' | 'declined' | 'downloaded' | 'cancelled' }];
  error: [HushError];
  closed: [{ code?: string; reason?: string }];
}

/** How internal modules raise the client's events (the facade owns the emitter). Not exported. */
export type EmitEvent = <K extends keyof ClientEvents & string>(event: K, ...args: ClientEvents[K]) => void;
