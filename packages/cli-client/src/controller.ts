// The chat logic between the SDK and the view: owns the state, runs commands, turns client
// events into actions. No terminal here; the view subscribes and draws.
import { basename, resolve } from 'node:path';
import { homedir } from 'node:os';
import { parseInput, type Command } from './commands.js';
import { TabCompleter } from './completion.js';
import { emojify } from './emoji.js';
import { helpLines } from './help.js';
import { describeError, type ChatClient, type ChatMessage, type ClientEventMap, type FileStatusReport, type Target } from './sdk.js';
import {
  activeConversation, conversationTarget, dmKey, findConversation, initialState, latestOffer, latestRunning, messageKey, newestFromOthers, reduce,
  roomKey, shouldBell, STATUS_KEY,
  type Action, type AppState, type Conversation,
} from './state.js';
import { formatTime } from './format.js';

export interface UiHooks {
  /** Ring the terminal bell. */
  bell(): void;
  /** Ask for a line of text (prefilled); null when cancelled. */
  ask(question: string, initial: string): Promise<string | null>;
  /** Ask yes/no. */
  confirm(question: string): Promise<boolean>;
  /** The user asked to quit. */
  quit(): void;
}

export interface ControllerOptions {
  client: ChatClient;
  ui: UiHooks;
  downloadsDir: string;
  now?: () => number;
  /** File size lookup for /file (I/O injected so tests need no files). */
  fileSize?: (path: string) => Promise<number>;
}

const TYPING_REFRESH_MS = 3000;
/** "bob saved "x.txt"": a recipient's report on a file we sent. */
const FILE_STATUS_WORDS: Record<FileStatusReport, string> = {
  accepted: 'accepted', declined: 'declined', downloaded: 'saved', cancelled: 'cancelled',
};
const HISTORY_PAGE = 50;

interface PendingUpload { path: string; name: string; target: Target; fileId?: string }

export class ChatController {
  state: AppState = initialState();
  readonly completer = new TabCompleter();
  private readonly listeners = new Set<(s: AppState) => void>();
  private readonly client: ChatClient;
  private readonly ui: UiHooks;
  private readonly now: () => number;
  private readonly downloadsDir: string;
  private readonly fileSize: (path: string) => Promise<number>;
  private readonly unsubscribers: Array<() => void> = [];
  private readonly uploads: PendingUpload[] = [];
  private typingSentAt = 0;
  private typingTarget: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Conversation key -> the message id last marked read there (each message is marked once). */
  private readonly marked = new Map<string, string>();

  constructor(opts: ControllerOptions) {
    this.client = opts.client;
    this.ui = opts.ui;
    this.now = opts.now ?? Date.now;
    this.downloadsDir = opts.downloadsDir;
    this.fileSize = opts.fileSize ?? (async (p) => (await import('node:fs/promises')).stat(p).then((s) => s.size));
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
    this.markViewed();
  }

  /** The active conversation, scrolled to the bottom, is being read: mark its newest message once. */
  private markViewed(): void {
    const s = this.state;
    if (s.connection !== 'ready') return;
    const conv = activeConversation(s);
    const target = conversationTarget(conv);
    const newest = newestFromOthers(conv);
    if (!target || conv.scroll > 0 || !newest || this.marked.get(conv.key) === newest.id) return;
    this.marked.set(conv.key, newest.id);
    this.client.markRead(target, newest.id).catch(() => undefined); // best effort, like typing
  }

  /**
   * Notice lines: an array gives one line per entry; a string is one line. Remote text is embedded
   * in notices, so a newline inside an entry never starts a line (the view shows it as a space).
   */
  notice(text: string | readonly string[], level: 'info' | 'warn' | 'error' = 'info', key?: string): void {
    for (const line of typeof text === 'string' ? [text] : text) this.dispatch({ type: 'notice', key, level, text: line, now: this.now() });
  }

  private fail(err: unknown, key?: string): void {
    const { code, message } = describeError(err);
    this.notice(code ? `${code}: ${message}` : message, 'error', key);
  }

  /** Subscribe to the client and load the joined rooms. */
  async start(): Promise<void> {
    this.listen();
    if (this.client.user) this.dispatch({ type: 'me', user: this.client.user });
    this.dispatch({ type: 'connection', state: this.client.state });
    this.notice(`connected to server ${this.client.fingerprint}`);
    this.notice('room messages are encrypted in transit and readable by the server; direct messages are end-to-end encrypted. /help lists commands.');
    const rooms = [...this.client.rooms.values()].filter((r) => r.joined !== false);
    rooms.forEach((r, i) => this.dispatch({ type: 'joined', room: r.room, topic: r.topic, activate: i === 0 }));
    await Promise.all(rooms.map((r) => this.loadRoom(r.room)));
    this.timer = setInterval(() => this.dispatch({ type: 'tick', now: this.now() }), 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const u of this.unsubscribers.splice(0)) u();
  }

  private on<K extends keyof ClientEventMap>(event: K, listener: (...args: ClientEventMap[K]) => void): void {
    this.client.on(event, listener);
    this.unsubscribers.push(() => this.client.off(event, listener));
  }

  private listen(): void {
    this.on('message', (m) => this.onMessage(m));
    this.on('presence', (p) => this.dispatch({ type: 'presence', ...p }));
    this.on('typing', (t) => this.dispatch({ type: 'typing', ...t, now: this.now() }));
    this.on('read', (r) => this.dispatch({ type: 'read', ...r }));
    this.on('roomEvent', (e) => this.onRoomEvent(e));
    this.on('keyChange', (k) => {
      this.dispatch({ type: 'e2e', user: k.user, state: 'changed' });
      const text = `the device keys of ${k.user} CHANGED.` + (k.verified
        ? ` Sending to ${k.user} is blocked until you compare safety numbers again: /verify ${k.user}`
        : ` Compare safety numbers out of band: /verify ${k.user}`);
      this.notice(text, 'warn', findConversation(this.state, dmKey(k.user)) ? dmKey(k.user) : undefined);
    });
    this.on('dmWarning', (w) => {
      const what = w.kind === 'gap' ? `${w.missing ?? 'some'} direct message(s) from ${w.user} are missing (dropped by the server or network)`
        : w.kind === 'replay' ? `a replayed direct message from ${w.user} was ignored`
          : `a direct message from ${w.user} could not be decrypted`;
      this.notice(what, 'warn', findConversation(this.state, dmKey(w.user)) ? dmKey(w.user) : undefined);
    });
    this.on('notice', (n) => this.notice(n.code ? `${n.code}: ${n.text}` : n.text, n.level, STATUS_KEY));
    this.on('state', (s) => {
      const before = this.state.connection;
      this.dispatch({ type: 'connection', state: s });
      if (s === 'reconnecting' && before !== 'reconnecting') this.notice('connection lost; reconnecting…', 'warn');
      if (s === 'ready' && before === 'reconnecting') {
        this.notice('reconnected');
        for (const c of this.state.conversations) if (c.kind === 'room') void this.loadMembers(c.name);
      }
    });
    this.on('error', (e) => this.fail(e));
    this.on('closed', (c) => this.notice(`connection closed${c.code ? ` (${c.code})` : ''}${c.reason ? `: ${c.reason}` : ''}`, 'error'));
    this.on('fileOffer', (o) => {
      if (o.from === this.state.me) return; // our own room offer, echoed back
      this.dispatch({ type: 'fileOffer', offer: o, now: this.now() });
      this.ui.bell();
    });
    this.on('fileProgress', (p) => {
      if (p.direction === 'up' && !this.state.files[p.fileId]) this.bindUpload(p.fileId, p.size);
      this.dispatch({ type: 'fileProgress', ...p });
    });
    this.on('fileComplete', (c) => this.dispatch({ type: 'fileComplete', fileId: c.fileId, path: c.path }));
    this.on('fileCancelled', (c) => this.dispatch({ type: 'fileCancelled', fileId: c.fileId, reason: c.reason ?? (c.by ? `by ${c.by}` : undefined) }));
    this.on('fileStatus', (st) => {
      const f = this.state.files[st.fileId];
      if (f) this.notice(`${st.user} ${FILE_STATUS_WORDS[st.status]} "${f.name}"`, 'info', f.conversation);
    });
  }

  private onMessage(m: ChatMessage): void {
    const key = messageKey(m, this.state.me);
    const fresh = m.kind === 'dm' && !findConversation(this.state, key);
    this.dispatch({ type: 'message', message: m, now: this.now() });
    if (fresh) {
      const peer = key.slice('dm:'.length);
      this.refreshE2E(peer);
      void this.loadHistory({ user: peer }, HISTORY_PAGE, false);
    }
    if (shouldBell(m, this.state.me)) this.ui.bell();
  }

  private onRoomEvent(e: ClientEventMap['roomEvent'][0]): void {
    const key = roomKey(e.room);
    const by = e.by ? ` by ${e.by}` : '';
    const reason = e.reason ? ` (${e.reason})` : '';
    const me = this.state.me;
    switch (e.event) {
      case 'join':
        this.dispatch({ type: 'memberJoined', room: e.room, user: e.user });
        if (e.user !== me) this.notice(`${e.user} joined #${e.room}`, 'info', key);
        return;
      case 'part':
        this.dispatch({ type: 'memberLeft', room: e.room, user: e.user });
        this.notice(`${e.user} left #${e.room}`, 'info', key);
        return;
      case 'kick':
      case 'ban':
        this.notice(`${e.user} was ${e.event === 'kick' ? 'kicked' : 'banned'}${by}${reason}`, 'warn', key);
        this.dispatch({ type: 'memberLeft', room: e.room, user: e.user });
        if (e.user === me) this.dispatch({ type: 'parted', room: e.room });
        return;
      case 'topic':
        this.dispatch({ type: 'topic', room: e.room, topic: e.topic ?? '' });
        this.notice(`topic of #${e.room}${by}: ${e.topic ?? ''}`, 'info', key);
        return;
      case 'mute':
      case 'unmute':
        this.notice(`${e.user} was ${e.event}d${by}${reason}`, 'warn', key);
        return;
      case 'role':
        this.notice(`${e.user} is now ${e.role ?? 'member'}${by}`, 'info', key);
        void this.loadMembers(e.room);
        return;
      default:
        this.notice(`${e.event}: ${e.user}${by}${reason}`, 'info', key);
    }
  }

  private bindUpload(fileId: string, size: number): void {
    const pending = this.uploads.find((u) => u.fileId === undefined);
    if (!pending) return;
    pending.fileId = fileId;
    this.dispatch({ type: 'fileSending', fileId, name: pending.name, size, target: pending.target, now: this.now() });
  }

  private async loadMembers(room: string): Promise<void> {
    try {
      this.dispatch({ type: 'members', room, members: await this.client.members(room) });
    } catch (err) {
      this.fail(err, roomKey(room));
    }
  }

  private async loadRoom(room: string): Promise<void> {
    await this.loadMembers(room);
    await this.loadHistory({ room }, HISTORY_PAGE, false);
  }

  private async loadHistory(target: Target, limit: number, older: boolean): Promise<void> {
    const key = 'room' in target ? roomKey(target.room) : dmKey(target.user);
    const conv = findConversation(this.state, key);
    const oldest = older ? conv?.lines.find((l) => l.kind === 'message') : undefined;
    try {
      const page = await this.client.history(target, { limit, ...(oldest && oldest.kind === 'message' ? { before: oldest.id } : {}) });
      this.dispatch({ type: 'history', key, messages: page.messages });
      if (older) this.notice(`loaded ${page.messages.length} older message(s)${page.hasMore ? '' : ' (no more)'}`, 'info', key);
    } catch (err) {
      this.fail(err, key);
    }
  }

  /** Open (and show) the direct conversation with `user`. */
  openDm(user: string): void {
    if (user === this.state.me) return;
    const fresh = !findConversation(this.state, dmKey(user));
    this.dispatch({ type: 'openDm', user, activate: true });
    this.refreshE2E(user);
    if (fresh) void this.loadHistory({ user }, HISTORY_PAGE, false);
  }

  private refreshE2E(user: string): void {
    if (this.state.e2e[user] === 'changed') return;
    this.dispatch({ type: 'e2e', user, state: this.client.isVerified(user) ? 'verified' : 'unverified' });
  }

  /** Completion context: nicks of the active room plus known people, joined rooms. */
  completionContext(): { nicks: string[]; rooms: string[] } {
    const c = activeConversation(this.state);
    const nicks = new Set<string>(c.members.map((m) => m.user));
    for (const conv of this.state.conversations) if (conv.kind === 'dm') nicks.add(conv.name);
    for (const l of c.lines) if (l.kind === 'message') nicks.add(l.from);
    if (this.state.me) nicks.delete(this.state.me);
    const rooms = this.state.conversations.filter((x) => x.kind === 'room').map((x) => x.name);
    return { nicks: [...nicks], rooms };
  }

  tab(line: string): string {
    return this.completer.tab(line, this.completionContext());
  }

  /** Called as the user edits the input line: typing notifications, throttled. */
  inputChanged(text: string): void {
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
    try { fn(); } catch { /* typing is best effort */ }
  }

  /** The Enter key. */
  async submit(line: string): Promise<void> {
    this.dispatch({ type: 'inputSubmit', line });
    this.stopTyping();
    const parsed = parseInput(line);
    if (!parsed.ok) {
      if (parsed.error) this.notice(parsed.error, 'error');
      return;
    }
    try {
      await this.run(parsed.command);
    } catch (err) {
      this.fail(err);
    }
  }

  /** /whois: presence and status from the server, the safety-number state from this device. */
  private async whois(user: string): Promise<void> {
    const u = (await this.client.listUsers()).find((x) => x.user === user.toLowerCase());
    if (!u) throw new Error(`no user ${user}`);
    const e2e = this.state.e2e[u.user] === 'changed'
      ? `KEY CHANGED since last seen: compare safety numbers again, /verify ${u.user}`
      : this.client.isVerified(u.user) ? 'verified (safety numbers compared)' : `not verified: /verify ${u.user} to compare safety numbers`;
    this.notice([
      `whois ${u.user}:`,
      `  presence: ${u.state}${u.status ? ` — ${u.status}` : ''}`,
      ...(u.role === 'admin' ? ['  role: server admin'] : []),
      `  end-to-end: ${e2e}`,
    ]);
  }

  private activeRoom(): string {
    const c = activeConversation(this.state);
    if (c.kind !== 'room') throw new Error('this command works in a room: switch to one first');
    return c.name;
  }

  private async sendTo(conv: Conversation, text: string, action: boolean): Promise<void> {
    const body = emojify(text);
    if (conv.kind === 'status') throw new Error('this is the status window: /join #room or /query nick first');
    const r = conv.kind === 'room'
      ? await (action ? this.client.action(conv.name, body) : this.client.send(conv.name, body))
      : await this.client.sendDirect(conv.name, body, action ? { action: true } : undefined);
    const me = this.state.me ?? this.client.user ?? '';
    const msg: ChatMessage = conv.kind === 'room'
      ? { kind: 'room', id: r.id, ts: r.ts, from: me, room: conv.name, text: body, action, mine: true }
      : { kind: 'dm', id: r.id, ts: r.ts, from: me, peer: conv.name, text: body, action, mine: true };
    this.dispatch({ type: 'message', message: msg, now: this.now() });
  }

  private async run(cmd: Command): Promise<void> {
    const conv = activeConversation(this.state);
    const c = this.client;
    switch (cmd.kind) {
      case 'say': return this.sendTo(conv, cmd.text, false);
      case 'me': return this.sendTo(conv, cmd.text, true);
      case 'help': return this.notice(helpLines(cmd.topic));
      case 'join': {
        if (findConversation(this.state, roomKey(cmd.room))) {
          this.dispatch({ type: 'switch', key: roomKey(cmd.room) });
          return;
        }
        await c.joinRoom(cmd.room);
        this.dispatch({ type: 'joined', room: cmd.room, topic: c.rooms.get(cmd.room)?.topic, activate: true });
        return this.loadRoom(cmd.room);
      }
      case 'create': {
        await c.createRoom(cmd.room, cmd.topic);
        if (!c.rooms.has(cmd.room)) await c.joinRoom(cmd.room);
        this.dispatch({ type: 'joined', room: cmd.room, topic: cmd.topic ?? c.rooms.get(cmd.room)?.topic, activate: true });
        return this.loadRoom(cmd.room);
      }
      case 'part': {
        if (cmd.room === undefined && conv.kind === 'dm') return this.dispatch({ type: 'close', key: conv.key });
        const room = cmd.room ?? this.activeRoom();
        await c.partRoom(room);
        return this.dispatch({ type: 'parted', room });
      }
      case 'rooms': {
        const rooms = await c.listRooms();
        return this.notice(['rooms:', ...rooms.map((r) => `  #${r.room} (${r.members})${r.joined ? ' [joined]' : ''} ${r.topic}`)]);
      }
      case 'topic': {
        const room = this.activeRoom();
        if (cmd.text === undefined) return this.notice(`topic of #${room}: ${conv.topic || '(none)'}`);
        return c.setTopic(room, cmd.text);
      }
      case 'msg': {
        const had = findConversation(this.state, dmKey(cmd.user));
        this.dispatch({ type: 'openDm', user: cmd.user, activate: false });
        this.refreshE2E(cmd.user);
        if (!had) await this.loadHistory({ user: cmd.user }, HISTORY_PAGE, false);
        return this.sendTo(findConversation(this.state, dmKey(cmd.user))!, cmd.text, false);
      }
      case 'query': return this.openDm(cmd.user);
      case 'away': return c.setPresence('away', cmd.text ?? 'away');
      case 'back': return c.setPresence('online', '');
      case 'status': {
        const mine = this.state.me ? this.state.presence[this.state.me]?.state : undefined;
        await c.setPresence(mine === 'away' ? 'away' : 'online', cmd.text);
        return this.notice(`status set: ${cmd.text}`);
      }
      case 'users': {
        const users = await c.listUsers();
        return this.notice(['users:', ...users.map((u) => `  ${u.user} ${u.state}${u.status ? ` — ${u.status}` : ''}${u.role === 'admin' ? ' [admin]' : ''}`)]);
      }
      case 'history': {
        const target = conversationTarget(conv);
        if (!target) throw new Error('no history in the status window');
        return this.loadHistory(target, cmd.count ?? HISTORY_PAGE, true);
      }
      case 'search': {
        const q = cmd.text.toLowerCase();
        const hits = conv.lines.filter((l) => l.kind === 'message' && l.text.toLowerCase().includes(q));
        return this.notice([`search "${cmd.text}": ${hits.length} match(es) in loaded messages`,
          ...hits.slice(-20).map((l) => (l.kind === 'message' ? `  ${formatTime(l.ts)} ${l.from}: ${l.text.split(/\r?\n/)[0]}` : ''))]);
      }
      case 'file': {
        const target = conversationTarget(conv);
        if (!target) throw new Error('send files in a room or a direct conversation');
        const path = resolve(cmd.path.replace(/^~(?=$|[\\/])/, homedir()));
        const size = await this.fileSize(path);
        const upload: PendingUpload = { path, name: basename(path), target };
        this.uploads.push(upload);
        try {
          const { fileId } = await c.sendFile(target, path);
          if (!upload.fileId) {
            upload.fileId = fileId;
            this.dispatch({ type: 'fileSending', fileId, name: upload.name, size, target, now: this.now() });
          }
          this.dispatch({ type: 'fileComplete', fileId });
        } catch (err) {
          if (upload.fileId && this.state.files[upload.fileId]?.status === 'cancelled') return; // by /cancel
          throw err;
        } finally {
          this.uploads.splice(this.uploads.indexOf(upload), 1);
        }
        return;
      }
      case 'accept': {
        const offer = cmd.fileId ? this.state.files[cmd.fileId] : latestOffer(this.state);
        if (!offer || offer.direction !== 'down') throw new Error(cmd.fileId ? `no file offer ${cmd.fileId}` : 'no pending file offer');
        const dir = cmd.dir ?? (await this.ui.ask(`save "${offer.name}" (from ${offer.from}) into folder:`, this.downloadsDir));
        if (dir === null || dir.trim() === '') return this.notice('accept cancelled');
        this.dispatch({ type: 'fileAccepted', fileId: offer.fileId });
        try {
          const saved = await c.acceptFile(offer.fileId, resolve(dir.trim().replace(/^~(?=$|[\\/])/, homedir())));
          this.dispatch({ type: 'fileComplete', fileId: offer.fileId, path: saved });
        } catch (err) {
          if (this.state.files[offer.fileId]?.status === 'cancelled') return; // by /cancel or the sender
          this.dispatch({ type: 'fileCancelled', fileId: offer.fileId, status: 'failed', reason: describeError(err).message });
          throw err;
        }
        return;
      }
      case 'cancel': {
        const f = cmd.fileId ? this.state.files[cmd.fileId] : latestRunning(this.state);
        if (!f) throw new Error(cmd.fileId ? `no file ${cmd.fileId}` : 'no file transfer is running');
        if (f.status !== 'sending' && f.status !== 'receiving' && f.status !== 'offered') throw new Error(`"${f.name}" is already ${f.status}`);
        this.dispatch({ type: 'fileCancelled', fileId: f.fileId, status: 'cancelled', reason: 'by you' });
        return c.cancelFile(f.fileId);
      }
      case 'decline': {
        const offer = cmd.fileId ? this.state.files[cmd.fileId] : latestOffer(this.state);
        if (!offer) throw new Error(cmd.fileId ? `no file offer ${cmd.fileId}` : 'no pending file offer');
        await c.declineFile(offer.fileId);
        return this.dispatch({ type: 'fileCancelled', fileId: offer.fileId, status: 'declined' });
      }
      case 'verify': {
        const number = await c.safetyNumber(cmd.user);
        this.notice([`safety number with ${cmd.user}:`, `  ${number}`, `compare it with ${cmd.user} over another channel (in person, a call).`], 'info');
        if (await this.ui.confirm(`Does ${cmd.user}'s safety number match? (y/n)`)) {
          await c.verifyContact(cmd.user);
          this.dispatch({ type: 'e2e', user: cmd.user, state: 'verified' });
          return this.notice(`${cmd.user} is now verified`);
        }
        return this.notice(`${cmd.user} not verified`);
      }
      case 'kick': return c.kick(this.activeRoom(), cmd.user, cmd.reason);
      case 'ban': return c.ban({ user: cmd.user, reason: cmd.reason });
      case 'unban': {
        await c.unban(cmd.address !== undefined ? { address: cmd.address } : { user: cmd.user });
        return this.notice(`unbanned ${cmd.address ?? cmd.user}`);
      }
      case 'whois': return this.whois(cmd.user);
      case 'mute': return c.mute(this.activeRoom(), cmd.user, cmd.seconds);
      case 'unmute': return c.unmute(this.activeRoom(), cmd.user);
      case 'op': return c.setRole(this.activeRoom(), cmd.user, 'op');
      case 'deop': return c.setRole(this.activeRoom(), cmd.user, 'member');
      case 'clear': return this.dispatch({ type: 'clear' });
      case 'quit': return this.ui.quit();
    }
  }
}
