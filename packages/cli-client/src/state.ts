// The application state and its reducer. Pure: every change is an action, time comes in actions.
import {
  type ChatMessage,
  type ConnectionState,
  conversationKey,
  type FileOffer,
  type MemberInfo,
  type PresenceState,
  type Reaction,
  type Target,
} from './sdk.js';

export const MAX_MESSAGES = 2000;
export const MAX_INPUT_HISTORY = 200;
export const TYPING_TTL_MS = 6000;
export const STATUS_KEY = 'status';

export type ConversationKind = 'status' | 'room' | 'dm';
export type E2EState = 'verified' | 'unverified' | 'changed';

export type Line =
  /**
   * `pending`: our line, not acknowledged yet (its id is a local one until then); `failed`: why the
   * server refused it (the text stays here and in the input history; /retry sends it again).
   */
  | {
      kind: 'message';
      id: string;
      ts: number;
      from: string;
      text: string;
      action: boolean;
      mine: boolean;
      mention: boolean;
      pending?: boolean;
      failed?: string;
      /** What the SDK folded in: the message answered, an edit, a delete, reactions. */
      replyTo?: string;
      edited?: boolean;
      deleted?: boolean;
      /** Who deleted it, when not its author (a room operator), as seen live. */
      deletedBy?: string;
      reactions?: Reaction[];
    }
  | {
      kind: 'notice';
      ts: number;
      level: 'info' | 'warn' | 'error';
      text: string;
      /** A dropped connection's notice: while it is away (`lost`), or folded once back (see foldDrop). */
      drop?: { lost: true } | { count: number };
    }
  | { kind: 'file'; ts: number; fileId: string };

export interface Conversation {
  key: string;
  kind: ConversationKind;
  /** Room name or peer user name; 'status' for the server buffer. */
  name: string;
  topic: string;
  /**
   * A room of kind e2e: only its members' devices read it. Undefined while the kind is not known (a
   * room first met through one of its messages): it is shown neither open nor 🔒 until it is.
   */
  sealed: boolean | undefined;
  lines: Line[];
  unread: number;
  mentions: number;
  members: MemberInfo[];
  /** Lines scrolled up from the bottom; 0 follows new messages. */
  scroll: number;
  /** The first message that was unread when the conversation was last opened (the "new since" marker). */
  marker: string | null;
  /** user -> typing expiry (ms since epoch) */
  typing: Record<string, number>;
}

export type FileStatus = 'offered' | 'sending' | 'receiving' | 'done' | 'declined' | 'cancelled' | 'failed';
export interface FileTransfer {
  fileId: string;
  direction: 'up' | 'down';
  name: string;
  size: number;
  from: string;
  bytes: number;
  status: FileStatus;
  path?: string;
  e2e: boolean;
  conversation: string;
  reason?: string;
  /** A download begun again from its start (the connection came back): said on its line. */
  restarted?: boolean;
  /** When an offer to us was made: "the newest" goes by it (offers arrive in any order at a start). */
  offeredAt?: number;
}

export interface InputHistory {
  entries: string[];
  index: number | null;
  draft: string;
  current: string;
}

export interface AppState {
  me: string | null;
  connection: ConnectionState;
  conversations: Conversation[];
  active: string;
  presence: Record<string, { state: PresenceState; status: string }>;
  e2e: Record<string, E2EState>;
  files: Record<string, FileTransfer>;
  /** peer -> the newest message of our direct conversation they marked read (their read marker). */
  reads: Record<string, string>;
  input: InputHistory;
  /** Users whose messages are hidden (/ignore). */
  ignored: string[];
}

export type Action =
  | { type: 'me'; user: string }
  | { type: 'connection'; state: ConnectionState }
  | { type: 'message'; message: ChatMessage; now: number }
  /** A message was edited, deleted or reacted to: its line takes the new state. */
  | { type: 'messageUpdate'; message: ChatMessage; deletedBy?: string }
  /** A line we typed, shown at once as pending under a local id. */
  | { type: 'outgoing'; key: string; localId: string; from: string; text: string; action: boolean; now: number }
  | { type: 'sent'; key: string; localId: string; id: string; ts: number }
  | { type: 'sendFailed'; key: string; localId: string; reason: string }
  | { type: 'removeLine'; key: string; id: string }
  | { type: 'ignored'; users: string[] }
  | { type: 'history'; key: string; messages: ChatMessage[] }
  /** What arrived in a conversation after `after` (seen in the app's last run) is new to the person. */
  | { type: 'newSince'; key: string; after: string }
  /**
   * `event`: something that happened (the connection dropped, came back), placed as a message from
   * the server is. Otherwise it answers what the person just did, and goes at the very bottom.
   */
  | {
      type: 'notice';
      key?: string;
      level: 'info' | 'warn' | 'error';
      text: string;
      now: number;
      event?: boolean;
      /** The connection dropped (`lost`) or is back (`back`): a drop with nothing said meanwhile folds into one line. */
      drop?: 'lost' | 'back';
    }
  | { type: 'joined'; room: string; topic?: string; sealed?: boolean; activate: boolean }
  | { type: 'parted'; room: string }
  | { type: 'close'; key: string }
  | { type: 'topic'; room: string; topic: string }
  | { type: 'members'; room: string; members: MemberInfo[] }
  | { type: 'memberJoined'; room: string; user: string }
  | { type: 'memberLeft'; room: string; user: string }
  | { type: 'presence'; user: string; state: PresenceState; status: string }
  | { type: 'typing'; from: string; target: Target; active: boolean; now: number }
  | { type: 'read'; from: string; target: Target; msgId: string }
  | { type: 'tick'; now: number }
  | { type: 'e2e'; user: string; state: E2EState }
  | { type: 'openDm'; user: string; activate: boolean }
  | { type: 'switch'; key: string }
  | { type: 'switchIndex'; index: number }
  | { type: 'switchRelative'; delta: number }
  | { type: 'scroll'; delta: number; max: number }
  | { type: 'scrollBottom' }
  | { type: 'clear' }
  | { type: 'fileOffer'; offer: FileOffer; now: number }
  | { type: 'fileSending'; fileId: string; name: string; size: number; target: Target; now: number }
  | { type: 'fileProgress'; fileId: string; direction: 'up' | 'down'; bytes: number; size: number }
  | { type: 'fileAccepted'; fileId: string; now: number }
  /** An accept refused before the offer was taken (e.g. a folder that cannot be used): it is open again. */
  | { type: 'fileReopened'; fileId: string }
  | { type: 'fileComplete'; fileId: string; path?: string }
  | { type: 'fileCancelled'; fileId: string; reason?: string; status?: 'declined' | 'cancelled' | 'failed' }
  | { type: 'inputSubmit'; line: string }
  | { type: 'inputPrev'; current: string }
  | { type: 'inputNext'; current: string };

// A conversation's key is the SDK's conversationKey ("#room", "@user"); the status buffer's is
// STATUS_KEY, which no room or user key can equal.
export function roomKey(room: string): string {
  return conversationKey({ room });
}
export function dmKey(user: string): string {
  return conversationKey({ user });
}
/** The other user of a direct message (ourselves for a note to self). */
export function dmPeer(m: ChatMessage, me: string | null): string {
  return m.peer ?? (m.mine ? undefined : m.from) ?? me ?? '';
}
/** The key of the conversation `m` belongs to. */
export function messageKey(m: ChatMessage, me: string | null): string {
  return m.kind === 'room' ? roomKey(m.room ?? '') : dmKey(dmPeer(m, me));
}
/** The SDK target for a conversation, or null for the status buffer. */
export function conversationTarget(c: Conversation): Target | null {
  if (c.kind === 'room') return { room: c.name };
  if (c.kind === 'dm') return { user: c.name };
  return null;
}

function newConversation(key: string, kind: ConversationKind, name: string): Conversation {
  const sealed = kind === 'room' ? undefined : false; // a room's kind comes with its 'joined'
  return { key, kind, name, topic: '', sealed, lines: [], unread: 0, mentions: 0, members: [], scroll: 0, marker: null, typing: {} };
}

export function initialState(): AppState {
  return {
    me: null,
    connection: 'connecting',
    conversations: [newConversation(STATUS_KEY, 'status', 'status')],
    active: STATUS_KEY,
    presence: {},
    e2e: {},
    files: {},
    reads: {},
    input: { entries: [], index: null, draft: '', current: '' },
    ignored: [],
  };
}

export function activeConversation(s: AppState): Conversation {
  return s.conversations.find((c) => c.key === s.active) ?? s.conversations[0]!;
}

export function findConversation(s: AppState, key: string): Conversation | undefined {
  return s.conversations.find((c) => c.key === key);
}

/** Whole-word, case-insensitive mention of `nick` (usernames are [a-z0-9_-]). */
export function mentions(text: string, nick: string | null): boolean {
  if (!nick) return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_-])@?${escaped}($|[^\\p{L}\\p{N}_-])`, 'iu').test(text);
}

/** The conversation without `user` typing in it. */
function notTyping(c: Conversation, user: string): Conversation {
  if (!(user in c.typing)) return c;
  const { [user]: _gone, ...typing } = c.typing;
  return { ...c, typing };
}

/** Users typing in a conversation right now. */
export function typingUsers(c: Conversation, now: number): string[] {
  return Object.entries(c.typing)
    .filter(([, exp]) => exp > now)
    .map(([u]) => u)
    .sort();
}

function withConversation(s: AppState, key: string, make: () => Conversation, update: (c: Conversation) => Conversation): AppState {
  const existing = findConversation(s, key);
  if (!existing) return { ...s, conversations: [...s.conversations, update(make())] };
  return { ...s, conversations: s.conversations.map((c) => (c.key === key ? update(c) : c)) };
}

function updateExisting(s: AppState, key: string, update: (c: Conversation) => Conversation): AppState {
  if (!findConversation(s, key)) return s;
  return withConversation(s, key, () => newConversation(key, 'status', key), update);
}

function append(lines: Line[], line: Line): Line[] {
  const next = lines.length >= MAX_MESSAGES ? lines.slice(lines.length - MAX_MESSAGES + 1) : lines.slice();
  next.push(line);
  return next;
}

const isPending = (l: Line): boolean => l.kind === 'message' && l.pending === true;

/**
 * The connection is back with nothing said since it dropped (above our lines still pending): its
 * 'connection lost' notice becomes one line saying how long, merged with the line of the drops just
 * before it when nothing came between them either, so a flapping network takes one line, not two
 * rows per drop. Undefined when something came between (the 'reconnected' line then follows it).
 */
function foldDrop(lines: Line[], now: number): Line[] | undefined {
  const pendingAt = lines.findIndex(isPending);
  const end = pendingAt < 0 ? lines.length : pendingAt;
  const lost = lines[end - 1];
  if (lost?.kind !== 'notice' || lost.drop === undefined || !('lost' in lost.drop)) return undefined;
  const before = lines[end - 2];
  const merge = before?.kind === 'notice' && before.drop !== undefined && 'count' in before.drop ? before : undefined;
  const count = merge?.drop !== undefined && 'count' in merge.drop ? merge.drop.count + 1 : 1;
  const since = merge?.ts ?? lost.ts;
  const span = durationWords(now - since);
  const text =
    count === 1 ? `connection lost for ${span}; reconnected` : `connection lost ${count} times in ${span}; reconnected each time`;
  const line: Line = { kind: 'notice', ts: since, level: 'info', text, drop: { count } };
  return [...lines.slice(0, end - (merge ? 2 : 1)), line, ...lines.slice(end)];
}

/** A span of time in words: seconds up to two minutes, minutes up to two hours, then hours. */
function durationWords(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}

export type MessageLine = Extract<Line, { kind: 'message' }>;

/** Messages that /reply N, /react N, /edit N and /delete N can name: stored ones (not pending, not refused). */
export function isNumbered(l: Line): l is MessageLine {
  return l.kind === 'message' && l.pending !== true && l.failed === undefined;
}

/**
 * Message numbers frozen at one moment, while a command names a message by its number:
 * `ids[n - 1]` was number n. Messages that came after have none.
 */
export interface Numbering {
  /** The conversation numbered. */
  readonly key: string;
  readonly ids: readonly string[];
  readonly numbers: ReadonlyMap<string, number>;
}

/** The numbers of `c`'s messages now, to freeze. */
export function numberingOf(c: Conversation): Numbering {
  const ids: string[] = [];
  for (let i = c.lines.length - 1; i >= 0; i--) {
    const l = c.lines[i]!;
    if (isNumbered(l)) ids.push(l.id);
  }
  return { key: c.key, ids, numbers: new Map(ids.map((id, i) => [id, i + 1])) };
}

/** Frozen numbers of `c`; those of another conversation do not count (its numbers are those of now). */
const frozenFor = (c: Conversation, frozen: Numbering | null): Numbering | null => (frozen?.key === c.key ? frozen : null);

/** The message numbered `n` (1 = the newest) in `c`, as the pane numbers them: by `frozen` numbers when given. */
export function numberedMessage(c: Conversation, n: number, frozen: Numbering | null = null): MessageLine | undefined {
  const numbering = frozenFor(c, frozen);
  if (numbering) {
    const id = numbering.ids[n - 1];
    return id === undefined ? undefined : c.lines.find((l): l is MessageLine => isNumbered(l) && l.id === id);
  }
  let left = n;
  for (let i = c.lines.length - 1; i >= 0; i--) {
    const l = c.lines[i]!;
    if (isNumbered(l) && --left === 0) return l;
  }
  return undefined;
}

/** The number a message has in the pane (1 = the newest), if it is loaded: by `frozen` numbers when given. */
export function messageNumber(c: Conversation, id: string, frozen: Numbering | null = null): number | undefined {
  const numbering = frozenFor(c, frozen);
  if (numbering) {
    const n = numbering.numbers.get(id);
    return n !== undefined && c.lines.some((l) => isNumbered(l) && l.id === id) ? n : undefined;
  }
  let n = 0;
  for (let i = c.lines.length - 1; i >= 0; i--) {
    const l = c.lines[i]!;
    if (!isNumbered(l)) continue;
    n++;
    if (l.id === id) return n;
  }
  return undefined;
}

/**
 * A message from the server goes above our lines still pending: every pane then shows the
 * server's order (ours included, once acknowledged), with what is still on its way below.
 */
function arrive(lines: Line[], line: Line): Line[] {
  const at = lines.findIndex(isPending);
  if (at < 0) return append(lines, line);
  const next = append(lines.slice(0, at), line);
  return next.concat(lines.slice(at));
}

/**
 * A message opened late (its sender's key came after later messages were shown) takes its place in
 * the server's order, as a history page's do: above later messages, and above this client's lines
 * stamped after it; our lines still pending stay below.
 */
function inPlace(lines: Line[], line: MessageLine): Line[] {
  let at = lines.findIndex(isPending);
  if (at < 0) at = lines.length;
  while (at > 0 && comesAfter(lines[at - 1]!, line)) at--;
  const next = [...lines.slice(0, at), line, ...lines.slice(at)];
  return next.length > MAX_MESSAGES ? next.slice(next.length - MAX_MESSAGES) : next;
}

function comesAfter(l: Line, m: MessageLine): boolean {
  return isNumbered(l) ? laterId(l.id, m.id) : l.ts > m.ts;
}

function toLine(m: ChatMessage, me: string | null): MessageLine {
  return {
    kind: 'message',
    id: m.id,
    ts: m.ts,
    from: m.from,
    text: m.text,
    action: m.action,
    mine: m.mine,
    mention: !m.mine && !m.deleted && mentions(m.text, me),
    ...changesOf(m),
  };
}

/** The folded-in state of a message, as line fields (absent when there is none). */
function changesOf(m: ChatMessage): Pick<Extract<Line, { kind: 'message' }>, 'replyTo' | 'edited' | 'deleted' | 'reactions'> {
  return {
    ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
    ...(m.edited ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.reactions && m.reactions.length > 0 ? { reactions: m.reactions } : {}),
  };
}

/** A new conversation for `key`: "#room", "@user", or else a status buffer. */
function conversationFor(key: string): Conversation {
  if (key.startsWith('#')) return newConversation(key, 'room', key.slice(1));
  if (key.startsWith('@')) return newConversation(key, 'dm', key.slice(1));
  return newConversation(key, 'status', '');
}

function activate(s: AppState, key: string): AppState {
  if (!findConversation(s, key)) return s;
  return {
    ...s,
    active: key,
    conversations: s.conversations.map((c) => (c.key === key ? { ...c, unread: 0, mentions: 0, marker: firstUnread(c) } : c)),
  };
}

/** Server message ids are decimal and grow: the longer one is later, then the larger. */
function laterId(id: string, than: string): boolean {
  return id.length !== than.length ? id.length > than.length : id > than;
}

/**
 * `c` once its messages up to `msgId` are read: only those from others after it stay unread (and
 * mentions among them). A marker older than every line held here says nothing about what is unread.
 */
function readUpTo(c: Conversation, msgId: string): Conversation {
  const held = c.lines.filter((l): l is MessageLine => l.kind === 'message' && !l.pending);
  if (!held.some((l) => !laterId(l.id, msgId))) return c;
  const after = held.filter((l) => !l.mine && laterId(l.id, msgId));
  const mentionsAfter = after.filter((l) => l.mention || c.kind === 'dm').length;
  const unread = Math.min(c.unread, after.length);
  const mentioned = Math.min(c.mentions, mentionsAfter);
  return unread === c.unread && mentioned === c.mentions ? c : { ...c, unread, mentions: mentioned };
}

/** The oldest of the `unread` newest messages from others, where the "new since" marker goes. */
function firstUnread(c: Conversation): string | null {
  if (c.unread === 0) return null;
  let left = c.unread;
  let first: string | null = null;
  for (let i = c.lines.length - 1; i >= 0 && left > 0; i--) {
    const l = c.lines[i]!;
    if (l.kind !== 'message' || l.mine) continue;
    first = l.id;
    left--;
  }
  return first;
}

function fileLineTarget(s: AppState, key: string): string {
  return findConversation(s, key) ? key : STATUS_KEY;
}

export function reduce(s: AppState, a: Action): AppState {
  switch (a.type) {
    case 'me':
      return { ...s, me: a.user };
    case 'connection':
      // Who was typing is not known while the connection is away: nobody is shown typing then.
      if (a.state === 'ready') return { ...s, connection: a.state };
      return {
        ...s,
        connection: a.state,
        conversations: s.conversations.map((c) => (Object.keys(c.typing).length ? { ...c, typing: {} } : c)),
      };
    case 'message': {
      if (!a.message.mine && s.ignored.includes(a.message.from)) return s;
      const key = messageKey(a.message, s.me);
      const line = toLine(a.message, s.me);
      const isActive = s.active === key;
      return withConversation(
        s,
        key,
        () => conversationFor(key),
        (c) => {
          if (c.lines.some((l) => l.kind === 'message' && l.id === a.message.id)) return c;
          if (a.message.mine) {
            // Our own line comes back once acknowledged, in the server's order: it takes the place of
            // the oldest pending line like it.
            const at = c.lines.findIndex(
              (l) => l.kind === 'message' && l.pending === true && l.text === a.message.text && l.action === a.message.action,
            );
            if (at >= 0)
              return {
                ...c,
                lines: arrive(
                  c.lines.filter((_, i) => i !== at),
                  line,
                ),
              };
          }
          const seen = isActive && c.scroll === 0;
          const typing = { ...c.typing };
          delete typing[a.message.from];
          return {
            ...c,
            lines: a.message.late ? inPlace(c.lines, line) : arrive(c.lines, line),
            unread: seen || a.message.mine ? c.unread : c.unread + 1,
            mentions:
              seen || line.kind !== 'message' || !(line.mention || (c.kind === 'dm' && !a.message.mine)) ? c.mentions : c.mentions + 1,
            typing,
          };
        },
      );
    }
    case 'messageUpdate': {
      const m = a.message;
      return updateExisting(s, messageKey(m, s.me), (c) => ({
        ...c,
        lines: c.lines.map((l) => {
          if (l.kind !== 'message' || l.id !== m.id) return l;
          const { replyTo: _r, edited: _e, deleted: _d, reactions: _x, ...rest } = l;
          const by = m.deleted && a.deletedBy !== undefined ? { deletedBy: a.deletedBy } : {};
          return { ...rest, text: m.text, mention: rest.mention && !m.deleted, ...changesOf(m), ...by };
        }),
      }));
    }
    case 'outgoing': {
      const line: Line = {
        kind: 'message',
        id: a.localId,
        ts: a.now,
        from: a.from,
        text: a.text,
        action: a.action,
        mine: true,
        mention: false,
        pending: true,
      };
      return withConversation(
        s,
        a.key,
        () => conversationFor(a.key),
        (c) => ({ ...c, lines: append(c.lines, line), scroll: 0 }),
      );
    }
    case 'sent':
      return updateExisting(s, a.key, (c) => {
        const at = c.lines.findIndex((l) => l.kind === 'message' && l.id === a.localId);
        if (at < 0) return c;
        const rest = c.lines.filter((_, i) => i !== at);
        const line = c.lines[at]!;
        if (line.kind !== 'message' || rest.some((l) => l.kind === 'message' && l.id === a.id)) return { ...c, lines: rest };
        return { ...c, lines: arrive(rest, { ...line, id: a.id, ts: a.ts, pending: false }) };
      });
    case 'sendFailed':
      return updateExisting(s, a.key, (c) => ({
        ...c,
        lines: c.lines.map((l) => (l.kind === 'message' && l.id === a.localId ? { ...l, pending: false, failed: a.reason } : l)),
      }));
    case 'removeLine':
      return updateExisting(s, a.key, (c) => ({ ...c, lines: c.lines.filter((l) => l.kind !== 'message' || l.id !== a.id) }));
    case 'ignored': {
      const hidden = new Set(a.users);
      const conversations = s.conversations.map((c) =>
        c.lines.some((l) => l.kind === 'message' && !l.mine && hidden.has(l.from))
          ? { ...c, lines: c.lines.filter((l) => l.kind !== 'message' || l.mine || !hidden.has(l.from)) }
          : c,
      );
      return { ...s, ignored: [...hidden].sort(), conversations };
    }
    case 'history': {
      return withConversation(
        s,
        a.key,
        () => conversationFor(a.key),
        (c) => {
          const ids = new Set(c.lines.flatMap((l) => (l.kind === 'message' ? [l.id] : [])));
          const fresh = a.messages.filter((m) => !ids.has(m.id) && (m.mine || !s.ignored.includes(m.from))).map((m) => toLine(m, s.me));
          if (fresh.length === 0) return c;
          const merged = [...fresh, ...c.lines.filter((l) => !isPending(l))].sort((x, y) => x.ts - y.ts).concat(c.lines.filter(isPending));
          return { ...c, lines: merged.slice(Math.max(0, merged.length - MAX_MESSAGES)) };
        },
      );
    }
    case 'newSince': {
      return updateExisting(s, a.key, (c) => {
        const fresh = c.lines.filter((l) => l.kind === 'message' && !l.mine && !l.pending && laterId(l.id, a.after));
        const first = fresh[0];
        if (first?.kind !== 'message') return c;
        return { ...c, marker: first.id, unread: a.key === s.active ? c.unread : Math.max(c.unread, fresh.length) };
      });
    }
    case 'notice': {
      // One about a conversation not open here goes to the status window, never into another one.
      // An event goes above our lines still on their way, as a message from the server does (they stay
      // at the bottom); an answer to the person goes where they look, under what they just sent.
      const key = a.key === undefined ? s.active : findConversation(s, a.key) ? a.key : STATUS_KEY;
      const place = a.event ? arrive : append;
      const folded = a.drop === 'back' ? foldDrop(findConversation(s, key)?.lines ?? [], a.now) : undefined;
      if (folded) return updateExisting(s, key, (c) => ({ ...c, lines: folded }));
      const line: Line = {
        kind: 'notice',
        ts: a.now,
        level: a.level,
        text: a.text,
        ...(a.drop === 'lost' ? { drop: { lost: true } } : {}),
      };
      return updateExisting(s, key, (c) => ({ ...c, lines: place(c.lines, line) }));
    }
    case 'joined': {
      const key = roomKey(a.room);
      const next = withConversation(
        s,
        key,
        () => conversationFor(key),
        (c) => ({ ...c, topic: a.topic ?? c.topic, sealed: a.sealed ?? c.sealed }),
      );
      return a.activate ? activate(next, key) : next;
    }
    case 'parted':
      return reduce(s, { type: 'close', key: roomKey(a.room) });
    case 'close': {
      const key = a.key;
      if (key === STATUS_KEY) return s;
      const idx = s.conversations.findIndex((c) => c.key === key);
      if (idx < 0) return s;
      const conversations = s.conversations.filter((c) => c.key !== key);
      if (s.active !== key) return { ...s, conversations };
      // The one she lands in is read like any she switches to (a kick or /part lands her there).
      return activate({ ...s, conversations }, conversations[Math.max(0, idx - 1)]!.key);
    }
    case 'topic':
      return updateExisting(s, roomKey(a.room), (c) => ({ ...c, topic: a.topic }));
    case 'members':
      return updateExisting(s, roomKey(a.room), (c) => ({ ...c, members: sortMembers(a.members) }));
    case 'memberJoined':
      return updateExisting(s, roomKey(a.room), (c) =>
        c.members.some((m) => m.user === a.user)
          ? c
          : {
              ...c,
              members: sortMembers([
                ...c.members,
                { user: a.user, role: 'member', state: s.presence[a.user]?.state ?? 'online', status: s.presence[a.user]?.status ?? '' },
              ]),
            },
      );
    case 'memberLeft':
      return updateExisting(s, roomKey(a.room), (c) => notTyping({ ...c, members: c.members.filter((m) => m.user !== a.user) }, a.user));
    case 'presence': {
      const presence = { ...s.presence, [a.user]: { state: a.state, status: a.status } };
      // Someone whose connection went away types nowhere: their 'typing…' goes at once, not when it expires.
      const conversations = s.conversations.map((c) => {
        const here = c.members.some((m) => m.user === a.user)
          ? { ...c, members: c.members.map((m) => (m.user === a.user ? { ...m, state: a.state, status: a.status } : m)) }
          : c;
        return a.state === 'offline' ? notTyping(here, a.user) : here;
      });
      return { ...s, presence, conversations };
    }
    case 'typing': {
      if (a.from === s.me) return s;
      const key = 'room' in a.target ? roomKey(a.target.room) : dmKey(a.from);
      return updateExisting(s, key, (c) => {
        const typing = { ...c.typing };
        if (a.active) typing[a.from] = a.now + TYPING_TTL_MS;
        else delete typing[a.from];
        return { ...c, typing };
      });
    }
    case 'read': {
      // Read on another of our devices (live, or while this one was away): caught up to there here too.
      if (a.from === s.me) return updateExisting(s, conversationKey(a.target), (c) => readUpTo(c, a.msgId));
      // A peer's marker in our direct conversation arrives as target { user: peer }.
      if (!('user' in a.target) || a.target.user !== a.from) return s;
      return { ...s, reads: { ...s.reads, [a.from]: a.msgId } };
    }
    case 'tick': {
      let changed = false;
      const conversations = s.conversations.map((c) => {
        const live = Object.entries(c.typing).filter(([, exp]) => exp > a.now);
        if (live.length === Object.keys(c.typing).length) return c;
        changed = true;
        return { ...c, typing: Object.fromEntries(live) };
      });
      return changed ? { ...s, conversations } : s;
    }
    case 'e2e':
      return { ...s, e2e: { ...s.e2e, [a.user]: a.state } };
    case 'openDm': {
      const key = dmKey(a.user);
      const next = withConversation(
        s,
        key,
        () => conversationFor(key),
        (c) => c,
      );
      return a.activate ? activate(next, key) : next;
    }
    case 'switch':
      return activate(s, a.key);
    case 'switchIndex': {
      const c = s.conversations[a.index];
      return c ? activate(s, c.key) : s;
    }
    case 'switchRelative': {
      const n = s.conversations.length;
      const idx = s.conversations.findIndex((c) => c.key === s.active);
      const next = s.conversations[(((idx + a.delta) % n) + n) % n]!;
      return activate(s, next.key);
    }
    case 'scroll':
      return updateExisting(s, s.active, (c) => {
        const scroll = Math.max(0, Math.min(a.max, c.scroll + a.delta));
        return { ...c, scroll, unread: scroll === 0 ? 0 : c.unread, mentions: scroll === 0 ? 0 : c.mentions };
      });
    case 'scrollBottom':
      return updateExisting(s, s.active, (c) => ({ ...c, scroll: 0, unread: 0, mentions: 0 }));
    case 'clear':
      return updateExisting(s, s.active, (c) => ({ ...c, lines: [], scroll: 0 }));
    case 'fileOffer': {
      const o = a.offer;
      const key = 'room' in o.target ? roomKey(o.target.room) : dmKey(o.from);
      const withConv =
        'room' in o.target
          ? s
          : withConversation(
              s,
              key,
              () => conversationFor(key),
              (c) => c,
            );
      const conv = fileLineTarget(withConv, key);
      const files = {
        ...s.files,
        [o.fileId]: {
          fileId: o.fileId,
          direction: 'down' as const,
          name: o.name,
          size: o.size,
          from: o.from,
          bytes: 0,
          status: 'offered' as const,
          e2e: o.e2e,
          conversation: conv,
          offeredAt: o.ts,
        },
      };
      return updateExisting({ ...withConv, files }, conv, (c) => ({
        ...c,
        lines: append(c.lines, { kind: 'file', ts: a.now, fileId: o.fileId }),
        unread: withConv.active === conv ? c.unread : c.unread + 1,
      }));
    }
    case 'fileSending': {
      const conv = fileLineTarget(s, conversationKey(a.target));
      const files = {
        ...s.files,
        [a.fileId]: {
          fileId: a.fileId,
          direction: 'up' as const,
          name: a.name,
          size: a.size,
          from: s.me ?? '',
          bytes: 0,
          status: 'sending' as const,
          e2e: 'user' in a.target,
          conversation: conv,
        },
      };
      return updateExisting({ ...s, files }, conv, (c) => ({
        ...c,
        lines: append(c.lines, { kind: 'file', ts: a.now, fileId: a.fileId }),
      }));
    }
    case 'fileProgress': {
      const f = s.files[a.fileId];
      if (!f || f.status === 'done' || f.status === 'cancelled' || f.status === 'failed') return s;
      const status: FileStatus = a.direction === 'up' ? 'sending' : 'receiving';
      const restarted = f.restarted === true || (a.direction === 'down' && a.bytes < f.bytes);
      const next = { ...f, bytes: Math.min(a.bytes, a.size), size: a.size, status, ...(restarted ? { restarted } : {}) };
      return { ...s, files: { ...s.files, [a.fileId]: next } };
    }
    case 'fileAccepted': {
      const f = s.files[a.fileId];
      if (!f) return s;
      // The download's line moves to the bottom, at the time it starts: its progress and result show
      // where the person is looking, below any refused tries of the same offer. Accepted from another
      // pane (a direct file's question answered in a room), that pane gets the line too.
      const bottom = (c: Conversation): Conversation => ({
        ...c,
        lines: append(
          c.lines.filter((l) => l.kind !== 'file' || l.fileId !== a.fileId),
          { kind: 'file', ts: a.now, fileId: a.fileId },
        ),
      });
      const here = updateExisting(s, f.conversation, bottom);
      const moved = here.active === f.conversation ? here : updateExisting(here, here.active, bottom);
      return { ...moved, files: { ...moved.files, [a.fileId]: { ...f, status: 'receiving' } } };
    }
    case 'fileReopened': {
      const f = s.files[a.fileId];
      return f?.status === 'receiving' ? { ...s, files: { ...s.files, [a.fileId]: { ...f, status: 'offered', bytes: 0 } } } : s;
    }
    case 'fileComplete': {
      const f = s.files[a.fileId];
      return f ? { ...s, files: { ...s.files, [a.fileId]: { ...f, status: 'done', bytes: f.size, path: a.path ?? f.path } } } : s;
    }
    case 'fileCancelled': {
      const f = s.files[a.fileId];
      // Saved here already: the sender withdrawing the offer afterwards changes nothing of it.
      if (f?.direction === 'down' && f.status === 'done') return s;
      return f ? { ...s, files: { ...s.files, [a.fileId]: { ...f, status: a.status ?? 'cancelled', reason: a.reason } } } : s;
    }
    case 'inputSubmit': {
      const line = a.line;
      const entries =
        line.trim() === '' || s.input.entries[s.input.entries.length - 1] === line
          ? s.input.entries
          : [...s.input.entries, line].slice(-MAX_INPUT_HISTORY);
      return { ...s, input: { entries, index: null, draft: '', current: '' } };
    }
    case 'inputPrev': {
      const { entries, index } = s.input;
      if (entries.length === 0) return s;
      const draft = index === null ? a.current : s.input.draft;
      const next = index === null ? entries.length - 1 : Math.max(0, index - 1);
      return { ...s, input: { entries, index: next, draft, current: entries[next]! } };
    }
    case 'inputNext': {
      const { entries, index, draft } = s.input;
      if (index === null) return s;
      if (index + 1 >= entries.length) return { ...s, input: { entries, index: null, draft: '', current: draft } };
      return { ...s, input: { entries, index: index + 1, draft, current: entries[index + 1]! } };
    }
  }
}

const ROLE_ORDER: Record<string, number> = { owner: 0, op: 1, member: 2 };
function sortMembers(ms: MemberInfo[]): MemberInfo[] {
  return [...ms].sort((a, b) => (ROLE_ORDER[a.role] ?? 3) - (ROLE_ORDER[b.role] ?? 3) || a.user.localeCompare(b.user));
}

/** A direct message or a mention from someone else rings the bell. */
export function shouldBell(m: ChatMessage, me: string | null): boolean {
  if (m.mine) return false;
  return m.kind === 'dm' || mentions(m.text, me);
}

/** The newest message from someone else: what viewing a conversation marks read. */
export function newestFromOthers(c: Conversation): Extract<Line, { kind: 'message' }> | undefined {
  const line = c.lines.findLast((l) => l.kind === 'message' && !l.mine);
  return line?.kind === 'message' ? line : undefined;
}

/** In a direct conversation whose last message is ours: the peer when they have read it. */
export function seenBy(s: AppState, c: Conversation): string | null {
  if (c.kind !== 'dm') return null;
  const last = c.lines.findLast((l) => l.kind === 'message');
  return last?.kind === 'message' && last.mine && s.reads[c.name] === last.id ? c.name : null;
}

/** The transfer /cancel acts on without an id: the newest one still running. */
export function latestRunning(s: AppState): FileTransfer | undefined {
  return Object.values(s.files)
    .filter((f) => f.status === 'sending' || f.status === 'receiving')
    .at(-1);
}

/** The file offer to act on when /accept or /decline has no id: the newest still offered. */
export function latestOffer(s: AppState): FileTransfer | undefined {
  const open = Object.values(s.files).filter((f) => f.direction === 'down' && f.status === 'offered');
  return open.reduce<FileTransfer | undefined>((newest, f) => ((f.offeredAt ?? 0) >= (newest?.offeredAt ?? 0) ? f : newest), undefined);
}
