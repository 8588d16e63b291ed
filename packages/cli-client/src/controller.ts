// The chat logic between the SDK and the view: owns the state and the input line, runs commands,
// turns client events into actions. No terminal here; the view subscribes and draws.
import { basename } from 'node:path';
import { parseInput } from './commands.js';
import { type CompletionContext, TabCompleter } from './completion.js';
import { emojify } from './emoji.js';
import type { DirectConversation } from './direct-list.js';
import {
  NOT_CONNECTED,
  PASSWORD_CHANGED,
  PASSWORD_QUESTIONS,
  passwordChangeFailed,
  passwordKept,
  passwordQuestion,
  removalDone,
  removalFailed,
  removalKept,
  removalQuestion,
  refusalBeforeAsking,
  removalRefusal,
} from './own-account.js';
import {
  closedText,
  conversationLabel,
  formatTime,
  type ListedDevice,
  NOTES_TO_SELF,
  offerSize,
  openRoomJoinedText,
  waitingOffersText,
} from './format.js';
import { helpLines } from './help.js';
import { LineEditor } from './line-editor.js';
import { MessageNumbers } from './message-commands.js';
import { lineCount, normalizePaste, PASTE_CONFIRM_LINES, splitText } from './paste.js';
import { pathArg } from './path-arg.js';
import {
  describeError,
  errorText,
  type ChatClient,
  type ChatMessage,
  type ClientEventMap,
  type FileOffer,
  type FileStatusReport,
  type RoomInfo,
  type SearchResult,
  type Target,
} from './sdk.js';
import {
  activeConversation,
  conversationTarget,
  dmKey,
  dmPeer,
  findConversation,
  initialState,
  latestOffer,
  latestRunning,
  messageKey,
  newestFromOthers,
  reduce,
  roomKey,
  shouldBell,
  STATUS_KEY,
  type Action,
  type AppState,
  type Conversation,
  type FileTransfer,
  type Numbering,
} from './state.js';

export interface Choice {
  key: string;
  label: string;
}

/** A question the person did not ask for (a file offer): it must never take keys meant for the input line. */
export interface Unasked {
  /** false once no answer is needed any more (answered with /accept meanwhile): then it is not asked. */
  wanted(): boolean;
  /** It opens only while the input line is empty. */
  inputEmpty(): boolean;
}

export interface UiHooks {
  /** Ring the terminal bell. */
  bell(): void;
  /** Ask for a line of text (prefilled); null when cancelled. */
  ask(question: string, initial: string): Promise<string | null>;
  /**
   * Ask secrets (passwords) one after the other, never drawn; null when cancelled. Keys typed ahead,
   * however fast, go into the questions, never to the input line.
   */
  secrets(questions: readonly string[]): Promise<string[] | null>;
  /**
   * Ask yes/no, `details` above the question: true only for a deliberate yes; null when a key
   * that does not answer closed the question (that key goes on to the input line).
   */
  confirm(question: string, details?: readonly string[]): Promise<boolean | null>;
  /**
   * One key out of `choices` (Esc: null). `lines` are plain text. An `unasked` question waits for a
   * pause in typing, and a key that does not answer it puts it off (and goes on to the input line).
   */
  choose(title: string, lines: string[], choices: readonly Choice[], unasked?: Unasked): Promise<string | null>;
  /** Select message `id` in the conversation `key` on screen and scroll it into view (as Alt+Up would). */
  reveal?(key: string, id: string): void;
  /** Show the last `count` lines of the conversation in front from their first (a /help longer than the pane). */
  fromTop?(count: number): void;
  /** The user asked to quit. */
  quit(): void;
}

/** What hush remembers between launches (kept by the app, in the config directory). */
export interface Memory {
  ignored: readonly string[];
  /** Ring the bell on a mention or a direct message (/bell on|off; default from hush.json, else on). */
  bell: boolean;
  save(change: { ignored?: readonly string[]; bell?: boolean }): void;
}

export interface ControllerOptions {
  client: ChatClient;
  ui: UiHooks;
  downloadsDir: string;
  memory?: Memory;
  now?: () => number;
  /** File size lookup for /file (I/O injected so tests need no files). */
  fileSize?: (path: string) => Promise<number>;
  /** How long the view must rest on new messages before a read marker goes out. */
  readMarkDelayMs?: number;
  /** The direct conversations the list held when hush last ran (this server and account), in list order. */
  directs?: readonly DirectConversation[];
  /** When the login was asked for (default: start()): offers made before it were left waiting. */
  loginAt?: number;
  /** The SDK's notices given during the login, before the controller listened (shown at start). */
  loginNotices?: readonly ClientEventMap['notice'][0][];
}

const TYPING_REFRESH_MS = 3000;
/** The offers made again at login are listed once none has come for this long. */
const WAITING_OFFERS_QUIET_MS = 300;
const HISTORY_PAGE = 50;
/** "bob saved "x.txt"": a recipient's report on a file we sent. */
const FILE_STATUS_WORDS: Record<FileStatusReport, string> = {
  accepted: 'accepted',
  declined: 'declined',
  downloaded: 'saved',
  cancelled: 'cancelled',
};

interface PendingUpload {
  path: string;
  name: string;
  target: Target;
  fileId?: string;
}
interface RefusedLine {
  key: string;
  text: string;
  action: boolean;
}

/** The longest reason for closing for good that the lines refused afterwards repeat (a ban's reason is short). */
const CLOSED_REASON_REPEATED = 100;

/** SDK notices said in the pane in front of the person rather than in the status window. */
const IN_FRONT_NOTICES = new Set(['SENDS_HELD', 'SENDS_RESUMED', 'OWN_DEVICE_ADDED', 'PASSWORD_CHANGED', 'DEVICE_READDED']);

/** SDK notice codes about one room, which the notice names first ("#dev is end-to-end encrypted…"). */
const ROOM_NOTICES = new Set(['E2E_ROOM_JOINED', 'E2E_ROOM_DOWNGRADE', 'E2E_ROOM_MESSAGE', 'CATCH_UP_LIMIT', 'FILE_UNFINISHED']);

/** Commands whose text is kept in the input line when they are refused: what was written for them. */
const KEEPS_TEXT = /^\/(reply|re|edit)\s+\S/i;

/** Commands that move the view themselves (the rest bring it to the bottom, where their answer goes). */
const KEEPS_SCROLL = new Set(['goto', 'history']);

const ROLE_WORDS: Record<string, string> = { owner: 'an owner', op: 'an operator', member: 'a member' };

/**
 * The end of history as /history says it. End to end, the server may hold older messages that
 * were never sealed for this device: before the user joined, or before the device existed.
 */
function noMore(conv: Conversation | undefined): string {
  const sealed = conv?.kind === 'dm' || (conv?.kind === 'room' && conv.sealed !== false);
  return sealed
    ? ': none older that this device can open (end-to-end messages from before you joined, or before this device was added to your account, stay closed to it)'
    : ' (no more)';
}

/** The start of a line, for messages that must say which line they mean. */
function quoteStart(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > 40 ? `${flat.slice(0, 40)}…` : flat}"`;
}

/** How to switch to the direct conversation with `user`: its Alt key while it is among the first ten, else /query. */
function switchKeys(state: AppState, user: string): string {
  const at = state.conversations.findIndex((c) => c.key === dmKey(user)) + 1;
  return at >= 1 && at <= 10 ? `Alt+${at % 10} opens it` : `/query ${user} opens it`;
}

const isOpenOffer = (f: FileTransfer): boolean => f.direction === 'down' && f.status === 'offered';

export class ChatController {
  state: AppState = initialState();
  private readonly completer = new TabCompleter();
  /** The input line (the view draws it; pastes land in it). */
  readonly editor = new LineEditor();
  /** The numbers the input line names messages by (frozen while a numbered command is in it). */
  readonly messageNumbers = new MessageNumbers();
  readonly client: ChatClient;
  /** The last /search: its words and the results shown, for /goto N. */
  lastSearch: { words: string; shown: SearchResult[] } | null = null;
  /** Whether a mention or a direct message rings the bell (see Memory.bell). */
  bellOn = true;
  private readonly listeners = new Set<(s: AppState) => void>();
  /** The questions to the person (a command may ask one). */
  readonly ui: UiHooks;
  /** The clock (tests set it). */
  readonly now: () => number;
  private readonly downloadsDir: string;
  private readonly memory: Memory | undefined;
  private readonly fileSize: (path: string) => Promise<number>;
  private readonly readMarkDelayMs: number;
  private readonly directs: readonly DirectConversation[];
  /** When this run logged in: a file offer made before it was left waiting (it is listed, not asked). */
  private startedAt = Infinity;
  private readonly loginAt: number | undefined;
  private readonly loginNotices: readonly ClientEventMap['notice'][0][];
  /** Offers from before, listed together once they stop coming (the server makes them again at login, in a burst). */
  private readonly waitingOffers: FileOffer[] = [];
  private waitingTimer: NodeJS.Timeout | null = null;
  /** Set once the client is closed for good: why, in words (lines typed after are refused with it). */
  private closedWords: string | null = null;
  /** A room /join or /create is creating: the command says so, its create event need not. */
  private creating: string | null = null;
  /** The server said goodbye SERVER_SHUTDOWN: the drop that follows is a restart, not a lost connection. */
  private serverShutdown = false;
  /** The room whose pane closed under a line being typed for it, and where she was moved (see closedUnderHer). */
  private movedFrom: { room: string; to: string } | null = null;
  /** This account's other devices as last listed: Tab completes them after `/devices remove`. */
  private otherDevices: string[] = [];
  private readonly unsubscribers: Array<() => void> = [];
  private readonly uploads: PendingUpload[] = [];
  private readonly refused: RefusedLine[] = [];
  /** SDK notices about a room whose pane is not open yet. */
  private roomNotices: Array<{ room: string; level: 'info' | 'warn'; text: string }> = [];
  /** Member changes seen while member lists load (one journal per load). */
  private readonly memberJournals = new Set<Action[]>();
  private typingSentAt = 0;
  private typingTarget: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private localIds = 0;
  /** Conversation key -> the message id last marked read there (each message is marked once). */
  private readonly marked = new Map<string, string>();
  /** The hints hintOnce gave in this run. */
  private readonly hintsGiven = new Set<string>();
  /** "fileId user" of the recipients who accepted a file we sent: accepted again, their download was cut. */
  private readonly acceptedBy = new Set<string>();

  constructor(opts: ControllerOptions) {
    this.client = opts.client;
    this.ui = opts.ui;
    this.now = opts.now ?? Date.now;
    this.downloadsDir = opts.downloadsDir;
    this.memory = opts.memory;
    this.readMarkDelayMs = opts.readMarkDelayMs ?? 500;
    this.directs = opts.directs ?? [];
    this.loginAt = opts.loginAt;
    this.loginNotices = opts.loginNotices ?? [];
    this.fileSize = opts.fileSize ?? (async (p) => (await import('node:fs/promises')).stat(p).then((s) => s.size));
    if (opts.memory && opts.memory.ignored.length > 0) this.dispatch({ type: 'ignored', users: [...opts.memory.ignored] });
    this.bellOn = opts.memory?.bell ?? true;
  }

  subscribe(listener: (s: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispatch(action: Action): void {
    const next = reduce(this.state, action);
    if (next === this.state) return;
    this.state = next;
    for (const l of this.listeners) l(next);
    this.scheduleReadMark();
  }

  /**
   * The active conversation, scrolled to the bottom, is being read: once the view has rested on it
   * a moment, mark its newest message (one marker for a burst of messages, not one each).
   */
  private scheduleReadMark(): void {
    if (this.readTimer || this.state.connection !== 'ready') return;
    const conv = activeConversation(this.state);
    const newest = newestFromOthers(conv);
    if (conv.scroll > 0 || !newest || this.marked.get(conv.key) === newest.id) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      const c = activeConversation(this.state);
      const target = conversationTarget(c);
      const last = newestFromOthers(c);
      if (!target || c.scroll > 0 || !last || this.marked.get(c.key) === last.id || this.state.connection !== 'ready') return;
      this.marked.set(c.key, last.id);
      this.client.markRead(target, last.id).catch(() => undefined); // best effort, like typing
    }, this.readMarkDelayMs);
    this.readTimer.unref?.();
  }

  /**
   * Notice lines: an array gives one line per entry; a string is one line. Remote text is embedded
   * in notices, so a newline inside an entry never starts a line (the view shows it as a space).
   */
  /** The input line changed outside a key press (a paste answered): redraw. */
  private inputEdited(): void {
    for (const l of this.listeners) l(this.state);
  }

  notice(text: string | readonly string[], level: 'info' | 'warn' | 'error' = 'info', key?: string): void {
    for (const line of typeof text === 'string' ? [text] : text) this.dispatch({ type: 'notice', key, level, text: line, now: this.now() });
  }

  /** A notice of something that happened to the connection: placed among the messages, above our lines still sending. */
  private eventNotice(text: string, level: 'info' | 'warn', drop?: 'lost' | 'back'): void {
    this.dispatch({ type: 'notice', level, text, now: this.now(), event: true, ...(drop === undefined ? {} : { drop }) });
  }

  private fail(err: unknown, key?: string): void {
    const why = this.why(err);
    this.notice(why === this.closedWords ? `not done: ${why}` : why, 'error', key);
  }

  /** `err` in words; once the session closed for good, a closed connection is said with why it closed. */
  private why(err: unknown): string {
    return this.closedWords !== null && describeError(err).code === 'CONNECTION_CLOSED' ? this.closedWords : errorText(err);
  }

  /**
   * Subscribe to the client, open the joined rooms (the first in front), then the direct
   * conversations of the last run, and load their history. Offers left waiting are listed once.
   */
  async start(): Promise<void> {
    this.startedAt = this.loginAt ?? this.now();
    this.listen();
    if (this.client.user) this.dispatch({ type: 'me', user: this.client.user });
    this.dispatch({ type: 'connection', state: this.client.state });
    const rooms = [...this.client.rooms.values()].filter((r) => r.joined !== false);
    rooms.forEach((r, i) => this.dispatch({ type: 'joined', room: r.room, topic: r.topic, sealed: r.kind === 'e2e', activate: i === 0 }));
    for (const { user } of this.directs) this.dispatch({ type: 'openDm', user, activate: false });
    this.notice(`connected to server ${this.client.fingerprint}`, 'info', STATUS_KEY);
    this.notice(
      'Type /help for commands and keys. Direct messages and rooms marked 🔒 are end-to-end encrypted; other rooms are encrypted in transit and readable by the server.',
    );
    for (const n of this.loginNotices) this.sdkNotice(n);
    this.timer = setInterval(() => this.dispatch({ type: 'tick', now: this.now() }), 1000);
    this.timer.unref?.();
    await Promise.all([
      ...rooms.map((r) => this.loadRoom(r.room)),
      ...this.directs.map(async ({ user, seen }) => {
        this.refreshE2E(user);
        await this.loadHistory({ user }, HISTORY_PAGE, false);
        if (seen !== undefined) this.dispatch({ type: 'newSince', key: dmKey(user), after: seen });
        this.readElsewhere({ user });
      }),
    ]);
    for (const offer of this.client.pendingFiles()) this.onFileOffer(offer);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.readTimer) clearTimeout(this.readTimer);
    if (this.waitingTimer) clearTimeout(this.waitingTimer);
    this.timer = null;
    this.readTimer = null;
    for (const u of this.unsubscribers.splice(0)) u();
  }

  quit(): void {
    this.ui.quit();
  }

  private on<K extends keyof ClientEventMap & string>(event: K, listener: (...args: ClientEventMap[K]) => void): void {
    this.client.on(event, listener);
    this.unsubscribers.push(() => this.client.off(event, listener));
  }

  private listen(): void {
    this.on('message', (m) => this.onMessage(m));
    this.on('messageUpdate', (u) => {
      // Another's delete is a room operator's: said under the line, and to its author in words.
      const byOther = u.change.kind === 'delete' && u.by !== u.message.from;
      this.dispatch({ type: 'messageUpdate', message: u.message, ...(byOther ? { deletedBy: u.by } : {}) });
      if (byOther && u.message.mine) {
        this.notice(
          `${u.by} (a room operator) deleted your message of ${formatTime(u.message.ts)}`,
          'warn',
          messageKey(u.message, this.state.me),
        );
      }
    });
    this.on('presence', (p) => this.memberChange({ type: 'presence', ...p }));
    this.on('typing', (t) => this.dispatch({ type: 'typing', ...t, now: this.now() }));
    this.on('read', (r) => this.dispatch({ type: 'read', ...r }));
    this.on('roomEvent', (e) => this.onRoomEvent(e));
    this.on('keyChange', (k) => {
      // "KEY CHANGED" is for a contact whose keys were compared; another's changes are said calmly below.
      this.dispatch({ type: 'e2e', user: k.user, state: k.verified ? 'changed' : 'unverified' });
      // Everyone sharing a room with k.user hears of each device they add: said in the conversation
      // with them, else in (status), never in whatever room is open; loud only for a verified contact.
      const text = k.verified
        ? `the device keys of ${k.user} CHANGED since you verified them (a device was added, removed or replaced). Direct messages to ${k.user} are blocked until you compare safety numbers again: /verify ${k.user}. Room messages still reach all of ${k.user}'s devices.`
        : `${k.user}'s devices changed (a device was added, removed or replaced): compare safety numbers with /verify ${k.user} if you rely on it`;
      const dm = dmKey(k.user);
      this.notice(text, k.verified ? 'warn' : 'info', findConversation(this.state, dm) ? dm : STATUS_KEY);
    });
    this.on('dmWarning', (w) => {
      const what =
        w.kind === 'gap'
          ? `${w.missing ?? 'some'} direct message(s) from ${w.user} are missing (dropped by the server or network)`
          : w.kind === 'replay'
            ? `a replayed direct message from ${w.user} was ignored`
            : w.kind === 'session_reset'
              ? `the encrypted session with a device of ${w.user} broke (lost or restored state): a direct message could not be read; the next message starts a new session`
              : `a direct message from ${w.user} could not be decrypted`;
      this.notice(what, 'warn', findConversation(this.state, dmKey(w.user)) ? dmKey(w.user) : undefined);
    });
    this.on('notice', (n) => this.sdkNotice(n));
    this.unsubscribers.push(this.subscribe(() => this.flushRoomNotices()));
    this.on('state', (s) => {
      const before = this.state.connection;
      this.dispatch({ type: 'connection', state: s });
      if (s === 'reconnecting' && before !== 'reconnecting') {
        const why = this.serverShutdown ? 'the server is shutting down (most often to restart)' : 'connection lost';
        this.eventNotice(
          `${why}; reconnecting… (what you type is kept and sent once back)`,
          'warn',
          this.serverShutdown ? undefined : 'lost',
        );
      }
      if (s !== 'reconnecting') this.serverShutdown = false;
      if (s === 'ready') void this.ownDevices().catch(() => undefined); // for Tab only: /devices says its own errors
      if (s === 'ready' && before === 'reconnecting') {
        this.eventNotice('reconnected', 'info', 'back');
        for (const c of this.state.conversations) if (c.kind === 'room') void this.loadMembers(c.name);
      }
    });
    this.on('error', (e) => {
      // A download's failure: its /accept (or question) says it, naming the file; said twice otherwise.
      if (e.code === 'FILE_CORRUPT' || e.code === 'FILE_IO') return;
      this.fail(e);
    });
    this.on('closed', (c) => {
      this.refused.splice(0); // nothing can send them any more
      this.notice(closedText(c), 'error');
      // Said in full once; each line refused from now on says it again, without a long reason (a
      // changed server key's fills a dozen rows): those under every line would bury it.
      const long = c.reason !== undefined && c.reason.length > CLOSED_REASON_REPEATED;
      this.closedWords = closedText(long ? (c.code === undefined ? {} : { code: c.code }) : c);
    });
    this.on('fileOffer', (o) => this.onFileOffer(o));
    this.on('fileSending', (u) => this.bindUpload(u.fileId, u.path, u.size));
    this.on('fileProgress', (p) => this.dispatch({ type: 'fileProgress', ...p }));
    this.on('fileComplete', (c) => this.dispatch({ type: 'fileComplete', fileId: c.fileId, path: c.path }));
    this.on('fileCancelled', (c) =>
      this.dispatch({ type: 'fileCancelled', fileId: c.fileId, reason: c.reason ?? (c.by ? `by ${c.by}` : undefined) }),
    );
    this.on('fileStatus', (st) => {
      const f = this.state.files[st.fileId];
      if (!f) return;
      const who = `${st.fileId} ${st.user}`;
      const again = st.status === 'accepted' && this.acceptedBy.has(who);
      if (st.status === 'accepted') this.acceptedBy.add(who);
      const said = `${st.user} ${FILE_STATUS_WORDS[st.status]} "${f.name}"`;
      this.notice(again ? `${said} again: the first download did not finish` : said, 'info', f.conversation);
    });
  }

  /** An SDK notice about a room goes to its pane (held until that opens: joining says it first); others to the status window. */
  private sdkNotice(n: ClientEventMap['notice'][0]): void {
    // Its goodbye comes just before the drop, which says it in the pane in front (see 'state').
    if (n.code === 'SERVER_SHUTDOWN') return void (this.serverShutdown = true);
    if (n.code === 'OWN_DEVICE_ADDED' || n.code === 'OWN_DEVICE_REMOVED') void this.ownDevices().catch(() => undefined);
    // A warning's code helps a bug report; information reads better without one.
    const text = n.code && n.level === 'warn' ? `${n.text} [${n.code}]` : n.text;
    // Whether what is typed can be stored is said in front of the person, as the connection's own notices are;
    // so is a change to the account's devices or password: whoever did it may not be them.
    if (n.code !== undefined && IN_FRONT_NOTICES.has(n.code)) return this.eventNotice(text, n.level);
    const room = n.code !== undefined && ROOM_NOTICES.has(n.code) ? /#([a-z0-9_-]{1,32})/.exec(n.text)?.[1] : undefined;
    // A transfer a closed hush left unfinished is said where the person looks, beside the offers listed again.
    if (room === undefined) return this.notice(text, n.level, n.code === 'FILE_UNFINISHED' ? undefined : STATUS_KEY);
    this.roomNotice(room, n.level, text);
  }

  /**
   * A notice for a room's pane. One not open yet gets it when it opens, if it is `coming` (joined
   * already, by default); else the status window does.
   */
  private roomNotice(room: string, level: 'info' | 'warn', text: string, coming = this.client.rooms.get(room)?.joined === true): void {
    const open = findConversation(this.state, roomKey(room)) !== undefined;
    if (!open && coming) return void this.roomNotices.push({ room, level, text });
    this.notice(text, level, open ? roomKey(room) : STATUS_KEY);
  }

  private flushRoomNotices(): void {
    const open = this.roomNotices.filter((n) => findConversation(this.state, roomKey(n.room)));
    if (open.length === 0) return;
    this.roomNotices = this.roomNotices.filter((n) => !open.includes(n));
    for (const n of open) this.notice(n.text, n.level, roomKey(n.room));
  }

  private onMessage(m: ChatMessage): void {
    const key = messageKey(m, this.state.me);
    const fresh = m.kind === 'dm' && !findConversation(this.state, key);
    const peer = dmPeer(m, this.state.me);
    if (fresh && peer === this.state.me) {
      // Notes to self opened by a note from another device: what they are is said above the first one.
      this.dispatch({ type: 'openDm', user: peer, activate: false });
      this.notesToSelf(peer);
    }
    this.dispatch({ type: 'message', message: m, now: this.now() });
    if (fresh) {
      this.refreshE2E(peer);
      void this.loadHistory({ user: peer }, HISTORY_PAGE, false);
    }
    if (this.bellOn && shouldBell(m, this.state.me) && !this.state.ignored.includes(m.from)) this.ui.bell();
  }

  private onRoomEvent(e: ClientEventMap['roomEvent'][0]): void {
    const key = roomKey(e.room);
    const by = e.by ? ` by ${e.by}` : '';
    const reason = e.reason ? ` (${e.reason})` : '';
    const me = this.state.me;
    if (e.elsewhere) return this.movedElsewhere(e);
    switch (e.event) {
      case 'join':
        this.memberChange({ type: 'memberJoined', room: e.room, user: e.user });
        if (e.user !== me) this.notice(`${e.user} joined #${e.room}`, 'info', key);
        return;
      case 'part':
        this.memberChange({ type: 'memberLeft', room: e.room, user: e.user });
        // Our own /part here closes the pane itself.
        if (e.user !== me) this.notice(`${e.user} left #${e.room}`, 'info', key);
        return;
      case 'ban':
        // Only server admins ban, from the whole server: every room says it. The banned person's
        // panes stay to read; the server's goodbye says why the connection ends.
        this.memberChange({ type: 'memberLeft', room: e.room, user: e.user });
        if (e.user !== me) this.notice(`${e.user} was banned from the server${by}${reason}`, 'warn', key);
        return;
      case 'kick': {
        const done = `kicked from #${e.room}${by}${reason}`;
        this.memberChange({ type: 'memberLeft', room: e.room, user: e.user });
        if (e.user !== me) return this.notice(`${e.user} was ${done}`, 'warn', key);
        // The room's pane closes: said in the pane she is left in, and in the status window.
        this.closedUnderHer(e.room);
        this.notice(`you were ${done}`, 'warn');
        if (this.state.active !== STATUS_KEY) this.notice(`you were ${done}`, 'warn', STATUS_KEY);
        return;
      }
      case 'topic':
        this.dispatch({ type: 'topic', room: e.room, topic: e.topic ?? '' });
        this.notice(`topic of #${e.room}${by}: ${e.topic ?? ''}`, 'info', key);
        return;
      case 'mute':
        // The server's event does not carry how long (a mute may last until /unmute): the server's
        // refusal of each line does, so that is where the muted person is sent to read it.
        this.notice(
          e.user === me
            ? `you were muted in #${e.room}${by}${reason}: what you send there is refused, each time saying for how long yet`
            : `${e.user} was muted in #${e.room}${by}${reason}`,
          'warn',
          key,
        );
        return;
      case 'unmute':
        this.notice(`${e.user === me ? 'you were' : `${e.user} was`} unmuted in #${e.room}${by}`, 'info', key);
        return;
      case 'role': {
        const role = ROLE_WORDS[e.role ?? 'member'] ?? e.role;
        const before = findConversation(this.state, key)?.members.find((m) => m.user === e.user)?.role;
        this.notice(
          before === (e.role ?? 'member')
            ? `${e.user} stays ${role}${e.by ? ` (${e.by} set the role ${e.user} already had)` : ''}`
            : e.by
              ? (e.role ?? 'member') === 'member' && before !== undefined && before !== 'member'
                ? `${e.by} took back ${e.user}'s ${before === 'owner' ? 'owner' : 'operator'} role`
                : `${e.by} made ${e.user} ${role}`
              : `${e.user} is now ${role}`,
          'info',
          key,
        );
        void this.loadMembers(e.room);
        return;
      }
      case 'create':
        // Only the creator hears of it, before the SDK lists the room: its pane opens next.
        if (e.room === this.creating) {
          this.creating = null;
          return;
        }
        this.roomNotice(e.room, 'info', `you created #${e.room} and are its owner (/topic sets its topic)`, true);
        return;
      default:
        this.notice(`${e.event}: ${e.user}${by}${reason}`, 'info', key);
    }
  }

  /**
   * A room created, joined or left on another device of ours: followed here. The SDK knows a room
   * joined so (its kind above all) by now, so its pane opens with the right label.
   */
  private movedElsewhere(e: ClientEventMap['roomEvent'][0]): void {
    const key = roomKey(e.room);
    if (e.event === 'part') {
      if (!findConversation(this.state, key)) return;
      // Learnt at a reconnect, a room gone from the list may as well be a kick: the server keeps no reason.
      const text = e.whileAway
        ? `you are no longer in #${e.room}: you left it on another device, or its operators removed you while you were away`
        : `you left #${e.room} (on another device)`;
      this.closedUnderHer(e.room);
      this.notice(text); // in the pane she is left in, and in the status window
      if (this.state.active !== STATUS_KEY) this.notice(text, 'info', STATUS_KEY);
      return;
    }
    const info = this.client.rooms.get(e.room);
    this.dispatch({ type: 'joined', room: e.room, topic: info?.topic, sealed: info && info.kind === 'e2e', activate: false });
    const owner = e.event === 'create' ? ' and are its owner' : '';
    this.notice(`you ${e.event === 'create' ? 'created' : 'joined'} #${e.room} on another device${owner}`, 'info', key);
    void this.loadRoom(e.room);
  }

  // ------------------------------------------------------------------------------------------
  // Files

  /**
   * A file offer, shown at its own time, asks there and then: accept (then where to save), decline,
   * or later. One made before this run started (left waiting, offered again at login) is listed instead.
   */
  private onFileOffer(o: FileOffer): void {
    if (o.from === this.state.me || this.state.ignored.includes(o.from)) return;
    if (this.state.files[o.fileId]) return; // already shown (pending at start and announced again)
    this.dispatch({ type: 'fileOffer', offer: o, now: o.ts });
    if (o.ts < this.startedAt) {
      this.waitingOffers.push(o);
      if (this.waitingTimer) clearTimeout(this.waitingTimer);
      this.waitingTimer = setTimeout(() => {
        this.waitingTimer = null;
        this.notice(waitingOffersText(this.waitingOffers.splice(0), this.now()));
      }, WAITING_OFFERS_QUIET_MS);
      this.waitingTimer.unref?.();
      return;
    }
    this.ui.bell();
    void this.promptOffer(o.fileId);
  }

  private async promptOffer(fileId: string): Promise<void> {
    const f = this.state.files[fileId];
    if (f?.status !== 'offered') return;
    const open = (): boolean => this.state.files[fileId]?.status === 'offered';
    const to = f.conversation.startsWith('#') ? `to ${f.conversation}, ` : f.conversation.startsWith('@') ? 'to you, ' : '';
    const where = f.e2e ? `${to}end-to-end encrypted` : `to ${f.conversation}, readable by the server`;
    const choice = await this.ui.choose(
      'file offer',
      [`${f.from} offers "${f.name}" (${offerSize(f.size)}), ${where}.`],
      [
        { key: 'a', label: 'accept' },
        { key: 'd', label: 'decline' },
        { key: 'l', label: 'later (/accept or /decline)' },
      ],
      // Not while the person is typing: a key meant for the input line must not answer it.
      { wanted: open, inputEmpty: () => this.editor.text === '' },
    );
    if (!open()) return; // cancelled or answered meanwhile
    try {
      if (choice === 'a') await this.accept(this.state.files[fileId]!);
      else if (choice === 'd') await this.decline(this.state.files[fileId]!);
    } catch (err) {
      this.fail(err); // where the question was answered: a direct file's may be answered in a room
    }
  }

  /**
   * A transfer named by id or by file name, or (none given) the newest `fallback` finds: `none` says
   * there is none. Of several with that name, the newest `usable` one (an open offer for /accept).
   */
  private findFile(
    name: string | undefined,
    fallback: () => FileTransfer | undefined,
    none: string,
    usable?: (f: FileTransfer) => boolean,
  ): FileTransfer {
    const named = Object.values(this.state.files).filter((x) => x.name === name);
    const f = name === undefined ? fallback() : (this.state.files[name] ?? named.filter((x) => usable?.(x)).at(-1) ?? named.at(-1));
    if (!f) throw new Error(name === undefined ? none : `no file ${name}`);
    return f;
  }

  async acceptOffer(first?: string, rest?: string): Promise<void> {
    // "/accept my notes.txt ~/dl": the longest start of the words that is a file's name names it
    // (names have spaces), what follows is the folder.
    let [name, dir] = [first, rest];
    const words = first !== undefined && rest !== undefined ? `${first} ${rest}`.split(' ') : [];
    for (let n = words.length; n > 1; n--) {
      const named = words.slice(0, n).join(' ');
      if (!Object.values(this.state.files).some((f) => f.name === named)) continue;
      [name, dir] = [named, words.slice(n).join(' ').trim() || undefined];
      break;
    }
    const offer = this.findFile(name, () => latestOffer(this.state), 'no pending file offer', isOpenOffer);
    if (offer.direction !== 'down' || offer.status !== 'offered') {
      const ended = offer.status === 'declined' || offer.status === 'cancelled' || offer.status === 'failed';
      const again = offer.direction === 'down' && ended ? `: only ${offer.from} can offer it again` : '';
      throw new Error(`"${offer.name}" is not an open offer (${offer.status})${again}`);
    }
    await this.accept(offer, dir);
  }

  private async accept(offer: FileTransfer, dir?: string): Promise<void> {
    const folder = dir ?? (await this.ui.ask(`save "${offer.name}" (from ${offer.from}) into folder:`, this.downloadsDir));
    if (folder === null || folder.trim() === '')
      return this.notice(`"${offer.name}" not accepted yet: /accept when you want it`, 'info', offer.conversation);
    this.dispatch({ type: 'fileAccepted', fileId: offer.fileId, now: this.now() });
    try {
      const saved = await this.client.acceptFile(offer.fileId, pathArg(folder));
      this.dispatch({ type: 'fileComplete', fileId: offer.fileId, path: saved });
    } catch (err) {
      if (this.state.files[offer.fileId]?.status === 'cancelled') return; // by /cancel or the sender
      // Refused before the offer was taken (a folder that cannot be used): /accept may try another.
      if (this.client.pendingFiles().some((f) => f.fileId === offer.fileId)) this.dispatch({ type: 'fileReopened', fileId: offer.fileId });
      else {
        this.dispatch({ type: 'fileCancelled', fileId: offer.fileId, status: 'failed', reason: errorText(err) });
        // Shown in whatever pane is open: name the file there too.
        throw new Error(`file "${offer.name}" from ${offer.from} failed: ${errorText(err)}`);
      }
      throw err;
    }
  }

  async declineOffer(name?: string): Promise<void> {
    await this.decline(this.findFile(name, () => latestOffer(this.state), 'no pending file offer', isOpenOffer));
  }

  private async decline(offer: FileTransfer): Promise<void> {
    await this.client.declineFile(offer.fileId);
    this.dispatch({ type: 'fileCancelled', fileId: offer.fileId, status: 'declined' });
  }

  async cancelTransfer(name?: string): Promise<void> {
    const f = this.findFile(name, () => latestRunning(this.state), 'no file transfer is running');
    // A file of ours that is sent stays offered on the server: cancelling it withdraws the offer.
    const withdraw = f.direction === 'up' && f.status === 'done';
    if (!withdraw && f.status !== 'sending' && f.status !== 'receiving' && f.status !== 'offered') {
      throw new Error(`"${f.name}" is already ${f.status}`);
    }
    this.dispatch({ type: 'fileCancelled', fileId: f.fileId, status: 'cancelled', reason: withdraw ? 'withdrawn by you' : 'by you' });
    await this.client.cancelFile(f.fileId);
  }

  async sendFile(rawPath: string): Promise<void> {
    const target = conversationTarget(activeConversation(this.state));
    if (!target) throw new Error('send files in a room or a direct conversation');
    const path = pathArg(rawPath);
    const upload: PendingUpload = { path, name: basename(path), target };
    this.uploads.push(upload);
    try {
      // The SDK says in words what is wrong with the path (no such file, a folder, too large).
      const { fileId } = await this.client.sendFile(target, path);
      if (!upload.fileId) {
        upload.fileId = fileId;
        const size = await this.fileSize(path).catch(() => 0);
        this.dispatch({ type: 'fileSending', fileId, name: upload.name, size, target, now: this.now() });
      }
      this.dispatch({ type: 'fileComplete', fileId });
    } catch (err) {
      if (upload.fileId && this.state.files[upload.fileId]?.status === 'cancelled') return; // by /cancel
      if (!upload.fileId) throw err; // refused before it was offered: the words name the path
      // Stopped under way (a lost connection, a mute): its line says so instead of its last progress.
      if (this.failTransfer(upload.fileId, errorText(err))) return;
      throw new Error(`sending "${upload.name}" failed: ${errorText(err)}`);
    } finally {
      this.uploads.splice(this.uploads.indexOf(upload), 1);
    }
  }

  /**
   * Marks an upload failed, its line saying why; true when that line is among the newest of the pane
   * in front (on screen already, a notice would say it twice), false when it is elsewhere or far up.
   */
  private failTransfer(fileId: string, reason: string): boolean {
    this.dispatch({ type: 'fileCancelled', fileId, status: 'failed', reason });
    return activeConversation(this.state)
      .lines.slice(-3)
      .some((l) => l.kind === 'file' && l.fileId === fileId);
  }

  /** Our offer of `path` was made: its line shows from now on (by path: two sent at once finish in any order). */
  private bindUpload(fileId: string, path: string, size: number): void {
    const pending = this.uploads.find((u) => u.fileId === undefined && u.path === path);
    if (!pending) return;
    pending.fileId = fileId;
    this.dispatch({ type: 'fileSending', fileId, name: pending.name, size, target: pending.target, now: this.now() });
  }

  // ------------------------------------------------------------------------------------------
  // Rooms and conversations

  /** A join, a part or a presence change: also kept for the member lists being loaded now. */
  private memberChange(action: Action): void {
    for (const journal of this.memberJournals) journal.push(action);
    this.dispatch(action);
  }

  /**
   * The list comes from before the changes that arrive while it loads: they are applied again on
   * top of it, so a person who joined meanwhile is not dropped from the list.
   */
  private async loadMembers(room: string): Promise<void> {
    const journal: Action[] = [];
    this.memberJournals.add(journal);
    try {
      this.dispatch({ type: 'members', room, members: await this.client.members(room) });
      for (const action of journal) this.dispatch(action);
    } catch (err) {
      this.fail(err, roomKey(room));
    } finally {
      this.memberJournals.delete(journal);
    }
  }

  private async loadRoom(room: string): Promise<void> {
    await this.loadMembers(room);
    await this.loadHistory({ room }, HISTORY_PAGE, false);
    const seen = this.client.seenInLastRun(room);
    if (seen !== undefined) this.dispatch({ type: 'newSince', key: roomKey(room), after: seen });
    this.readElsewhere({ room });
  }

  /** What the account read on another device while this one was closed is not counted unread here. */
  private readElsewhere(target: Target): void {
    const msgId = this.client.lastRead(target);
    if (msgId !== undefined && this.client.user) this.dispatch({ type: 'read', from: this.client.user, target, msgId });
  }

  /** The server's NOT_FOUND when a direct conversation's first page finds no such user (the caller says so), else null. */
  private async loadHistory(target: Target, limit: number, older: boolean): Promise<unknown> {
    const key = 'room' in target ? roomKey(target.room) : dmKey(target.user);
    const conv = findConversation(this.state, key);
    const oldest = older ? conv?.lines.find((l) => l.kind === 'message' && !l.pending && !l.failed) : undefined;
    try {
      const page = await this.client.history(target, { limit, ...(oldest && oldest.kind === 'message' ? { before: oldest.id } : {}) });
      this.dispatch({ type: 'history', key, messages: page.messages });
      if (older) this.notice(`loaded ${page.messages.length} older message(s)${page.hasMore ? '' : noMore(conv)}`, 'info', key);
    } catch (err) {
      if (!older && 'user' in target && describeError(err).code === 'NOT_FOUND') return err;
      this.fail(err, key);
    }
    return null;
  }

  async olderHistory(count?: number): Promise<void> {
    const target = conversationTarget(activeConversation(this.state));
    if (!target) throw new Error('no history in the status window');
    await this.loadHistory(target, count ?? HISTORY_PAGE, true);
  }

  /** /join: switch to a room already open, else join it, creating it (as its owner) when it does not exist. */
  async join(room: string): Promise<void> {
    if (findConversation(this.state, roomKey(room))) return this.dispatch({ type: 'switch', key: roomKey(room) });
    try {
      await this.client.joinRoom(room);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'NOT_FOUND') throw err;
      // Its create event comes after the reply: kept until then.
      this.creating = room;
      await this.client.createRoom(room, undefined, 'e2e').catch((error: unknown) => {
        this.creating = null;
        throw error;
      });
      if (!this.client.rooms.has(room)) await this.client.joinRoom(room);
      this.dispatch({ type: 'joined', room, topic: '', sealed: this.client.rooms.get(room)?.kind === 'e2e', activate: true });
      this.notice(
        `#${room} did not exist: you created it, end-to-end encrypted, and are its owner (/topic sets its topic)`,
        'info',
        roomKey(room),
      );
      return this.loadRoom(room);
    }
    this.dispatch({
      type: 'joined',
      room,
      topic: this.client.rooms.get(room)?.topic,
      sealed: this.client.rooms.get(room)?.kind === 'e2e',
      activate: true,
    });
    // An end-to-end room is announced by the SDK (E2E_ROOM_JOINED); an open one as plainly here.
    if (this.client.rooms.get(room)?.kind === 'open') this.notice(openRoomJoinedText(room), 'info', roomKey(room));
    await this.loadRoom(room);
  }

  /** Rooms a person creates are end-to-end encrypted (only a server admin can make an open room, with the SDK). */
  async create(room: string, topic?: string): Promise<void> {
    // Said here, where the topic is known: its create event carries none.
    this.creating = room;
    await this.client.createRoom(room, topic, 'e2e').catch((error: unknown) => {
      this.creating = null;
      if (describeError(error).code !== 'ALREADY_EXISTS') throw error;
      throw Object.assign(new Error(`#${room} exists already: /join #${room} joins it`), { code: 'ALREADY_EXISTS' });
    });
    if (!this.client.rooms.has(room)) await this.client.joinRoom(room);
    this.dispatch({
      type: 'joined',
      room,
      topic: topic ?? this.client.rooms.get(room)?.topic,
      sealed: this.client.rooms.get(room)?.kind === 'e2e',
      activate: true,
    });
    this.notice(
      `you created #${room}, end-to-end encrypted, and are its owner${topic ? '' : ' (/topic sets its topic)'}`,
      'info',
      roomKey(room),
    );
    await this.loadRoom(room);
  }

  /**
   * A room's pane closed by others (a kick, a part on another device): a line being typed for it
   * must not go, on its Enter, to the conversation she is moved to. That Enter says so instead.
   */
  private closedUnderHer(room: string): void {
    const wasHere = this.state.active === roomKey(room);
    this.dispatch({ type: 'parted', room });
    if (wasHere && this.editor.text.trim() !== '') this.movedFrom = { room, to: this.state.active };
  }

  async part(room?: string): Promise<void> {
    const conv = activeConversation(this.state);
    if (room === undefined && conv.kind === 'dm') return this.dispatch({ type: 'close', key: conv.key });
    const name = room ?? this.activeRoom();
    const mine = findConversation(this.state, roomKey(name))?.members.find((m) => m.user === this.state.me);
    if (mine?.role === 'owner') {
      // The server keeps no owner for a room without its member: she would come back a member.
      const why = `you own #${name}: leaving gives the owner role up for good (you would come back a member; only a server admin sets roles then)`;
      const yes = await this.ui.confirm(`leave #${name}?`, [why]);
      if (yes !== true) return this.notice(`you stay in #${name}${yes === null ? ': answer the question with y or n' : ''}`);
    }
    await this.client.partRoom(name);
    this.dispatch({ type: 'parted', room: name });
    this.notice(`you left #${name}`); // in the pane she is left in: the room's own is gone
  }

  async listRooms(): Promise<void> {
    const rooms = await this.client.listRooms();
    // Which rooms are open is said here, before anyone joins one to speak.
    const kind = (r: RoomInfo): string => (r.kind === 'e2e' ? '🔒' : '[open: readable by the server]');
    this.notice(['rooms:', ...rooms.map((r) => `  #${r.room} ${kind(r)} (${r.members})${r.joined ? ' [joined]' : ''} ${r.topic}`)]);
  }

  /** /names: the people of a room, as the people list shows them. */
  async names(room?: string): Promise<void> {
    const name = room ?? this.activeRoom();
    const members = await this.client.members(name);
    const mark = { owner: '~', op: '@', member: '' } as const;
    this.notice(
      `people in #${name} (${members.length}): ${members.map((m) => `${mark[m.role]}${m.user}${m.state === 'online' ? '' : ` (${m.state})`}`).join(', ')}`,
    );
  }

  async topic(text?: string): Promise<void> {
    const room = this.activeRoom();
    if (text === undefined) return this.notice(`topic of #${room}: ${activeConversation(this.state).topic || '(none)'}`);
    await this.client.setTopic(room, text);
  }

  async listUsers(): Promise<void> {
    const users = await this.client.listUsers();
    this.notice([
      'users:',
      ...users.map((u) => `  ${u.user} ${u.state}${u.status ? ` — ${u.status}` : ''}${u.role === 'admin' ? ' [admin]' : ''}`),
    ]);
  }

  /** /bell on|off: kept for the next launch; without a setting, says the current one. */
  setBell(on?: boolean): void {
    if (on !== undefined) {
      this.bellOn = on;
      this.memory?.save({ bell: on });
    }
    this.notice(this.bellOn ? 'the bell rings on mentions and direct messages' : 'the bell is off');
  }

  /** A hint given the first time only in this run (`id` names it). */
  hintOnce(id: string, text: string, key?: string): void {
    if (this.hintsGiven.has(id)) return;
    this.hintsGiven.add(id);
    this.notice(text, 'info', key);
  }

  showHelp(topic?: string): void {
    const lines = helpLines(topic);
    this.notice(lines);
    this.ui.fromTop?.(lines.length);
  }

  /** Open (and show) the direct conversation with `user`. */
  openDm(user: string): void {
    const fresh = !findConversation(this.state, dmKey(user));
    const from = this.state.active;
    this.dispatch({ type: 'openDm', user, activate: true });
    this.refreshE2E(user);
    if (!fresh) return;
    this.notesToSelf(user);
    void this.loadHistory({ user }, HISTORY_PAGE, false).then((missing) => missing && this.noSuchUser(user, missing, from));
  }

  async msg(user: string, text: string): Promise<void> {
    const had = findConversation(this.state, dmKey(user));
    this.dispatch({ type: 'openDm', user, activate: false });
    this.refreshE2E(user);
    const missing = had ? null : await this.loadHistory({ user }, HISTORY_PAGE, false);
    if (missing) return this.noSuchUser(user, missing, this.state.active, text);
    if (!had) this.notesToSelf(user);
    this.sendTo(findConversation(this.state, dmKey(user))!, text, false);
    // Sent from another pane: said there, with the way to the conversation it went to.
    if (this.state.active !== dmKey(user))
      this.notice(`→ @${user}: ${quoteStart(emojify(text))} (${switchKeys(this.state, user)})`, 'info');
  }

  /**
   * The server knows no `user` (`err`, its NOT_FOUND, says so in the words every command gets): the
   * conversation just opened with them goes again, and she is back in `from`.
   */
  private noSuchUser(user: string, err: unknown, from: string, unsent?: string): void {
    this.dispatch({ type: 'close', key: dmKey(user) });
    if (this.state.active !== from) this.dispatch({ type: 'switch', key: from });
    const said = errorText(err);
    this.notice(unsent === undefined ? said : `not sent to ${user}: ${quoteStart(unsent)} — ${said}`, 'error');
  }

  /** A conversation with oneself is notes to self: said when it opens. */
  private notesToSelf(user: string): void {
    if (user === this.state.me) this.notice(NOTES_TO_SELF, 'info', dmKey(user));
  }

  private refreshE2E(user: string): void {
    if (this.state.e2e[user] === 'changed') return;
    this.dispatch({ type: 'e2e', user, state: this.client.isVerified(user) ? 'verified' : 'unverified' });
  }

  /**
   * /whois: presence and status from the server, the safety-number state from this device. The key
   * directory is asked first: a user it does not know gets the server's NOT_FOUND, as /verify does.
   */
  async whois(user: string): Promise<void> {
    const devices = await this.client.listDevices(user);
    const u = (await this.client.listUsers()).find((x) => x.user === user);
    const e2e =
      user === this.state.me
        ? 'this is you (others compare safety numbers with you)'
        : devices.length === 0
          ? `${user} has not logged in on any device yet: no safety number to compare until they have`
          : this.state.e2e[user] === 'changed'
            ? `KEY CHANGED since last seen: compare safety numbers again, /verify ${user}`
            : this.client.isVerified(user)
              ? 'verified (safety numbers compared)'
              : `not verified: /verify ${user} to compare safety numbers`;
    this.notice([
      `whois ${user}:`,
      ...(u ? [`  presence: ${u.state}${u.status ? ` — ${u.status}` : ''}`] : []),
      ...(u?.role === 'admin' ? ['  role: server admin'] : []),
      `  end-to-end: ${e2e}`,
    ]);
  }

  async verify(user: string): Promise<void> {
    if (user.toLowerCase() === this.state.me) throw new Error('that is you: /verify another user');
    const number = await this.client.safetyNumber(user);
    const compare = [`safety number with ${user}:`, `  ${number}`, `compare it with ${user} over another channel (in person, a call).`];
    this.notice(compare, 'info');
    // The number is in the question itself: the pane behind it may be covered.
    const answer = await this.ui.confirm(`Does ${user}'s safety number match?`, compare);
    if (answer === true) {
      await this.client.verifyContact(user);
      this.dispatch({ type: 'e2e', user, state: 'verified' });
      return this.notice(`${user} is now verified`);
    }
    this.notice(answer === null ? `${user} not verified: answer the question with y or n` : `${user} not verified`);
  }

  /** This account's devices, as the server has them now; the other ones are kept for Tab. */
  async ownDevices(): Promise<ListedDevice[]> {
    const devices = await this.client.listDevices();
    this.otherDevices = devices.filter((d) => !d.thisDevice).map((d) => d.id);
    return devices;
  }

  /**
   * /devices remove: another device of this account logged out for good, with the account's
   * password and a yes. The password is asked first, with nothing awaited before it: typed ahead,
   * it goes into the question (drawn as stars), never onto the input line. It is kept nowhere.
   */
  async removeDevice(id: string): Promise<void> {
    const early = this.client.state !== 'ready' ? NOT_CONNECTED : refusalBeforeAsking(id, this.client.deviceId);
    if (early) return this.refuseBeforeSecrets(early);
    const [password] = (await this.ui.secrets([passwordQuestion(id)])) ?? [];
    if (!password) return this.notice(removalKept(id, 'no password given'));
    // A device listed already needs no round trip: the yes/no opens at once, to take a y typed on.
    const refusal = this.otherDevices.includes(id) ? undefined : removalRefusal(id, await this.ownDevices());
    if (refusal) return this.notice(refusal, 'error');
    const { question, details } = removalQuestion(id);
    const yes = await this.ui.confirm(question, details);
    if (yes !== true) return this.notice(removalKept(id, yes === null ? 'answer the question with y or n' : 'you said no'));
    try {
      await this.client.removeDevice(id, password);
    } catch (err) {
      return this.notice(removalFailed(id, err), 'error');
    }
    this.otherDevices = this.otherDevices.filter((d) => d !== id);
    this.notice(removalDone(id));
  }

  /**
   * A refusal where a password question would open, said in a dialog all the same: a password typed
   * ahead of the question goes into it (drawn as stars, dropped), never onto the input line and so
   * into the conversation. Enter or Esc closes it.
   */
  private async refuseBeforeSecrets(refusal: string): Promise<void> {
    this.notice(refusal, 'error');
    await this.ui.secrets([`${refusal}. Nothing was asked; what you type here is dropped`]);
  }

  /**
   * /passwd: the account's password changed with the current one, the new one typed twice. Like
   * /devices remove, the first question opens with nothing awaited before it, and no answer is kept.
   */
  async changePassword(): Promise<void> {
    if (this.client.state !== 'ready') return this.refuseBeforeSecrets(NOT_CONNECTED);
    const [current, next, again] =
      (await this.ui.secrets([PASSWORD_QUESTIONS.current, PASSWORD_QUESTIONS.next, PASSWORD_QUESTIONS.again])) ?? [];
    if (!current) return this.notice(passwordKept('no password given'));
    if (!next) return this.notice(passwordKept('no new password given'));
    if (again !== next) return this.notice(passwordKept('the two new passwords differ'), 'error');
    try {
      await this.client.changePassword(current, next);
    } catch (err) {
      return this.notice(passwordChangeFailed(err), 'error');
    }
    this.notice(PASSWORD_CHANGED);
  }

  async ignore(user?: string): Promise<void> {
    if (user === undefined) {
      return this.notice(
        this.state.ignored.length === 0
          ? 'nobody is ignored'
          : `ignored: ${this.state.ignored.join(', ')} (/unignore nick shows them again)`,
      );
    }
    if (user === this.state.me) throw new Error('you cannot ignore yourself');
    if (this.state.ignored.includes(user)) return this.notice(`${user} is ignored already (/unignore ${user} to undo)`);
    // Only someone with an account (the server's NOT_FOUND says so). Ignoring is this device's own
    // business: an outage, or a lookup that fails otherwise, does not hold it up.
    if (this.client.state === 'ready') {
      await this.client.listDevices(user).catch((err: unknown) => {
        if (describeError(err).code === 'NOT_FOUND') throw err;
      });
    }
    this.dispatch({ type: 'ignored', users: [...this.state.ignored, user] });
    this.memory?.save({ ignored: this.state.ignored });
    this.notice(`ignoring ${user}: their messages and file offers are hidden (/unignore ${user} to undo)`);
  }

  unignore(user: string): void {
    if (!this.state.ignored.includes(user)) throw new Error(`${user} is not ignored`);
    this.dispatch({ type: 'ignored', users: this.state.ignored.filter((u) => u !== user) });
    this.memory?.save({ ignored: this.state.ignored });
    this.notice(`${user} is no longer ignored (older messages come back with /history)`);
  }

  activeRoom(): string {
    const c = activeConversation(this.state);
    if (c.kind !== 'room') throw new Error('this command works in a room: switch to one first');
    return c.name;
  }

  // ------------------------------------------------------------------------------------------
  // Typing and sending

  /** Completion context: nicks of the active room plus known people, joined rooms, own other devices. */
  completionContext(): CompletionContext {
    const c = activeConversation(this.state);
    const nicks = new Set<string>(c.members.map((m) => m.user));
    for (const conv of this.state.conversations) if (conv.kind === 'dm') nicks.add(conv.name);
    for (const l of c.lines) if (l.kind === 'message') nicks.add(l.from);
    if (this.state.me) nicks.delete(this.state.me);
    const rooms = this.state.conversations.filter((x) => x.kind === 'room').map((x) => x.name);
    return { nicks: [...nicks], rooms, devices: this.otherDevices };
  }

  /** Tab in the input line. */
  complete(): void {
    this.editor.set(this.completer.tab(this.editor.text, this.completionContext()));
  }

  /** Called as the user edits the input line: typing notifications (the SDK coalesces them). */
  inputChanged(): void {
    const text = this.editor.text;
    if (text === '') this.movedFrom = null; // what she types now is for where she is
    this.messageNumbers.follow(activeConversation(this.state), text);
    this.completer.reset();
    const target = conversationTarget(activeConversation(this.state));
    if (!target || text.startsWith('/')) return;
    const key = activeConversation(this.state).key;
    const t = this.now();
    if (text === '') {
      if (this.typingTarget === key) this.stopTyping();
      return;
    }
    if (this.typingTarget !== key || t - this.typingSentAt > TYPING_REFRESH_MS) {
      if (this.typingTarget && this.typingTarget !== key) this.stopTyping();
      this.typingTarget = key;
      this.typingSentAt = t;
      this.safe(() => this.client.setTyping(target, true));
    }
  }

  private stopTyping(): void {
    const conv = this.typingTarget ? findConversation(this.state, this.typingTarget) : undefined;
    const target = conv ? conversationTarget(conv) : null;
    this.typingTarget = null;
    this.typingSentAt = 0;
    if (target) this.safe(() => this.client.setTyping(target, false));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch {
      /* typing is best effort */
    }
  }

  /**
   * A bracketed paste. A few lines land in the input line (newlines kept: Enter sends them as one
   * message); more than PASTE_CONFIRM_LINES ask first: send as one message, edit, or drop.
   */
  async paste(raw: string): Promise<void> {
    const text = normalizePaste(raw);
    if (text === '') return;
    const lines = lineCount(text);
    if (lines <= PASTE_CONFIRM_LINES) {
      this.editor.insert(text);
      this.inputChanged();
      return this.inputEdited();
    }
    const conv = activeConversation(this.state);
    const where = conv.kind === 'room' ? `#${conv.name}` : conv.kind === 'dm' ? conv.name : 'the status window';
    const first = text.slice(0, text.indexOf('\n'));
    const choice = await this.ui.choose(
      'paste',
      [`You pasted ${lines} lines (${text.length} characters), starting ${quoteStart(first)}.`, `Send them to ${where} as one message?`],
      [
        { key: 'y', label: 'send' },
        { key: 'e', label: 'edit in the input line' },
        { key: 'n', label: 'drop the paste' },
      ],
    );
    if (choice === 'y') {
      await this.run(() => this.say(text, false));
      return;
    }
    if (choice === 'e') {
      this.editor.insert(text);
      this.inputChanged();
    }
    this.inputEdited();
  }

  /** Enter: the input line is submitted and emptied. */
  async submitInput(): Promise<void> {
    const text = this.editor.text;
    if (text.trim() === '') return;
    const moved = this.movedFrom;
    this.movedFrom = null;
    if (moved && moved.to === this.state.active) {
      const where = conversationLabel(activeConversation(this.state));
      this.notice(`not sent: this was typed in #${moved.room}, which closed; you are in ${where} now: Enter sends it here`, 'warn');
      return;
    }
    const numbers = this.messageNumbers.follow(activeConversation(this.state), text); // those it was typed against
    this.editor.set('');
    this.inputChanged();
    const done = await this.submit(text, numbers);
    // A refused /reply or /edit keeps the text typed for it, to fix the number or wait and press Enter again.
    if (!done && KEEPS_TEXT.test(text) && this.editor.text === '') {
      this.editor.set(text);
      this.inputChanged();
    }
  }

  /**
   * Run a typed line (a command or text to send); `numbers`: the message numbers it names messages by
   * (null: those of now). False when it was refused (the reason is said).
   */
  async submit(line: string, numbers: Numbering | null = null): Promise<boolean> {
    this.dispatch({ type: 'inputSubmit', line });
    this.stopTyping();
    const parsed = parseInput(line);
    // Its answer is said at the bottom: in view, as a sent line is (not /goto and /history: they go up).
    if (!(parsed.ok && KEEPS_SCROLL.has(parsed.command.name))) this.dispatch({ type: 'scrollBottom' });
    if (!parsed.ok) {
      if (parsed.error) this.notice(parsed.error, 'error');
      return false;
    }
    return this.run(() => this.messageNumbers.run(numbers, () => parsed.command.run(this, parsed.args)));
  }

  private async run(fn: () => Promise<void> | void): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Text to the active conversation (command /say, /me, or plain text). */
  say(text: string, action: boolean): void {
    this.sendTo(activeConversation(this.state), text, action);
  }

  /**
   * Shows each line at once as pending and hands it to the SDK, which paces, queues through
   * outages and resends until acknowledged. Text over the server's limit goes as several messages.
   * A refused line says which it was and stays for /retry.
   */
  private sendTo(conv: Conversation, text: string, action: boolean): void {
    if (this.closedWords) throw new Error(`not sent: ${this.closedWords}`);
    if (conv.kind === 'status') throw new Error('this is the status window: /join #room or /query nick first');
    const pieces = splitText(emojify(text), this.client.limits.maxTextLength);
    for (const body of pieces) this.sendPiece(conv, body, action);
    if (pieces.length > 1) this.notice(`long text: sent as ${pieces.length} messages`, 'info', conv.key);
  }

  private sendPiece(conv: Conversation, body: string, action: boolean): void {
    const localId = `local:${++this.localIds}`;
    const key = conv.key;
    // Sent again (typed, recalled, or by /retry): it is no longer a refused line.
    const again = this.refused.findIndex((r) => r.key === key && r.text === body && r.action === action);
    if (again >= 0) this.refused.splice(again, 1);
    const failed = conv.lines.find((l) => l.kind === 'message' && l.failed !== undefined && l.text === body);
    if (failed?.kind === 'message') this.dispatch({ type: 'removeLine', key, id: failed.id });
    this.dispatch({ type: 'outgoing', key, localId, from: this.state.me ?? this.client.user ?? '', text: body, action, now: this.now() });
    const sent =
      conv.kind === 'room'
        ? action
          ? this.client.action(conv.name, body)
          : this.client.send(conv.name, body)
        : this.client.sendDirect(conv.name, body, action ? { action: true } : undefined);
    sent.then(
      (r) => this.dispatch({ type: 'sent', key, localId, id: r.id, ts: r.ts }),
      (err: unknown) => this.refuse({ key, text: body, action }, localId, err),
    );
  }

  private refuse(line: RefusedLine, localId: string, err: unknown): void {
    // A line still on its way when the client closed for good: why is said once, beside it.
    const reason = this.why(err);
    const conv = findConversation(this.state, line.key);
    // Refused until she verifies that contact again: a plain /retry would fail the same way.
    const verifyFirst = describeError(err).code === 'E2E_KEY_CHANGED' && conv?.kind === 'dm' ? `/verify ${conv.name}` : undefined;
    this.dispatch({
      type: 'sendFailed',
      key: line.key,
      localId,
      reason: verifyFirst === undefined ? reason : `${reason} — ${verifyFirst}, then /retry`,
    });
    if (this.state.connection === 'closed') return;
    // One entry per refused line, however often it was refused.
    const same = (r: RefusedLine): boolean => r.key === line.key && r.text === line.text && r.action === line.action;
    if (!this.refused.some(same)) this.refused.push(line);
    // Never put back into the input line by itself: refusals come while she types on, and the text
    // would be glued to hers. The line itself says why under it (format.ts): said once more only
    // where she is looking when that is not its conversation, or when the line is no longer shown.
    const here = this.state.active === line.key;
    const marked = findConversation(this.state, line.key)?.lines.some((l) => l.kind === 'message' && l.id === localId) === true;
    if (here && marked) return;
    const to = here || !conv ? '' : ` to ${conv.kind === 'room' ? `#${conv.name}` : conv.name}`;
    const again = verifyFirst !== undefined ? `${verifyFirst}, then /retry.` : '/retry sends it again.';
    // Its conversation closed meanwhile: the status window says it (no name to give it here).
    this.notice(`not sent${to}: ${quoteStart(line.text)} — ${reason}. ${again}`, 'error', conv ? undefined : STATUS_KEY);
  }

  /** /retry: the refused lines again, in order, each to its conversation. */
  retry(): void {
    if (this.closedWords) throw new Error(`nothing can be sent: ${this.closedWords}`);
    const lines = this.refused.splice(0);
    if (lines.length === 0) throw new Error('no refused line to send again');
    for (const l of lines) {
      const conv = findConversation(this.state, l.key);
      if (conv) this.sendPiece(conv, l.text, l.action);
      else this.notice(`cannot send ${quoteStart(l.text)} again: its conversation is closed`, 'error');
    }
  }
}
