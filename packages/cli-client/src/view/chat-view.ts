// The chat screen: conversations | messages | people, a status bar and the input line.
// It only draws state and turns keys and clicks into controller calls.
import blessed from 'blessed';
import type { ChatController } from '../controller.js';
import { formatLine } from '../format.js';
import { LineEditor } from '../line-editor.js';
import { escapeTags, sanitize, stripControls } from '../sanitize.js';
import { activeConversation, seenBy, typingUsers, type AppState, type Conversation } from '../state.js';
import { padRight, truncate } from '../width.js';
import { chatIntent, type KeyPress } from './keys.js';
import { ModalHost } from './modals.js';

const LEFT_WIDTH = 22;
const RIGHT_WIDTH = 22;
const PRESENCE_MARK: Record<string, string> = { online: '{green-fg}●{/green-fg}', away: '{yellow-fg}◐{/yellow-fg}', offline: '{gray-fg}○{/gray-fg}' };
const ROLE_MARK: Record<string, string> = { owner: '~', op: '@', member: ' ' };

export function e2eText(state: AppState, conv: Conversation): string {
  if (conv.kind === 'room') return '{yellow-fg}room messages: encrypted in transit, readable by the server{/yellow-fg}';
  if (conv.kind === 'dm') {
    const e = state.e2e[conv.name];
    if (e === 'changed') return '{red-fg}{bold}end-to-end encrypted: KEY CHANGED, /verify ' + sanitize(conv.name) + '{/bold}{/red-fg}';
    return e === 'verified' ? '{green-fg}end-to-end encrypted (verified){/green-fg}' : '{cyan-fg}end-to-end encrypted (unverified){/cyan-fg}';
  }
  return '';
}

export class ChatView {
  private readonly topic: blessed.Widgets.BoxElement;
  private readonly convs: blessed.Widgets.BoxElement;
  private readonly messages: blessed.Widgets.BoxElement;
  private readonly people: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly input: blessed.Widgets.BoxElement;
  private readonly editor = new LineEditor();
  readonly modals: ModalHost;
  private memberFocus: number | null = null;
  private renderQueued = false;
  private readonly onKeypress = (ch: string | undefined, key: KeyPress): void => this.key(ch, key);
  private readonly unsubscribe: () => void;

  constructor(private readonly screen: blessed.Widgets.Screen, private readonly ctl: ChatController, private readonly quit: () => void) {
    this.modals = new ModalHost(screen);
    const pane = { tags: true, wrap: false, border: { type: 'line' as const }, style: { border: { fg: 'gray' } } };
    this.topic = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false, style: { bg: 'blue', fg: 'white' } });
    this.convs = blessed.box({ ...pane, parent: screen, top: 1, left: 0, width: LEFT_WIDTH, bottom: 2, label: ' chats ', clickable: true });
    this.messages = blessed.box({ ...pane, parent: screen, top: 1, left: LEFT_WIDTH, right: RIGHT_WIDTH, bottom: 2 });
    this.people = blessed.box({ ...pane, parent: screen, top: 1, right: 0, width: RIGHT_WIDTH, bottom: 2, label: ' people ', clickable: true });
    this.status = blessed.box({ parent: screen, bottom: 1, left: 0, width: '100%', height: 1, tags: true, wrap: false, style: { bg: 'blue', fg: 'white' } });
    this.input = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false });

    this.convs.on('click', (data: blessed.Widgets.Events.IMouseEventArg) => {
      const row = data.y - (this.convs.atop as number) - 1;
      const c = this.ctl.state.conversations[row];
      if (c) this.ctl.dispatch({ type: 'switch', key: c.key });
    });
    this.people.on('click', (data: blessed.Widgets.Events.IMouseEventArg) => {
      const row = data.y - (this.people.atop as number) - 1;
      const m = activeConversation(this.ctl.state).members[row];
      if (m) this.ctl.openDm(m.user);
    });
    this.messages.on('wheelup', () => this.scroll(3));
    this.messages.on('wheeldown', () => this.scroll(-3));

    screen.on('keypress', this.onKeypress);
    screen.on('resize', () => this.render());
    this.unsubscribe = ctl.subscribe(() => this.scheduleRender());
    this.render();
  }

  destroy(): void {
    this.unsubscribe();
    this.screen.removeListener('keypress', this.onKeypress);
    this.modals.cancel();
    for (const el of [this.topic, this.convs, this.messages, this.people, this.status, this.input]) el.destroy();
  }

  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    setImmediate(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private paneSize(): { width: number; height: number } {
    const width = Math.max(10, (this.screen.width as number) - LEFT_WIDTH - RIGHT_WIDTH - 2);
    const height = Math.max(1, (this.screen.height as number) - 3 - 2);
    return { width, height };
  }

  /** Display lines of the active conversation, newest last, enough for the view and its scroll. */
  private visibleLines(conv: Conversation, width: number, height: number): { lines: string[]; total: number | null } {
    const want = height + conv.scroll;
    const out: string[] = [];
    let i = conv.lines.length - 1;
    for (; i >= 0 && out.length < want; i--) out.unshift(...formatLine(conv.lines[i]!, { width, files: this.ctl.state.files }));
    const end = Math.max(0, out.length - conv.scroll);
    return { lines: out.slice(Math.max(0, end - height), end), total: i < 0 ? out.length : null };
  }

  private scroll(delta: number): void {
    const conv = activeConversation(this.ctl.state);
    const { width, height } = this.paneSize();
    let total = 0;
    for (const l of conv.lines) total += formatLine(l, { width, files: this.ctl.state.files }).length;
    this.ctl.dispatch({ type: 'scroll', delta, max: Math.max(0, total - height) });
  }

  render(): void {
    const s = this.ctl.state;
    const conv = activeConversation(s);
    const { width, height } = this.paneSize();

    const title = conv.kind === 'room' ? `#${conv.name}` : conv.kind === 'dm' ? `@${conv.name}` : 'status';
    this.topic.setContent(` hush  ${escapeTags(stripControls(title))}${conv.topic ? ` — ${sanitize(truncate(stripControls(conv.topic), 200))}` : ''}`);

    this.convs.setContent(s.conversations.map((c, i) => {
      const name = c.kind === 'room' ? `#${c.name}` : c.kind === 'dm' ? `@${c.name}` : '(status)';
      const count = c.unread > 0 ? ` ${c.unread}` : '';
      const text = escapeTags(padRight(`${i + 1}.${stripControls(name)}`, LEFT_WIDTH - 2 - count.length) + count);
      if (c.key === s.active) return `{inverse}${text}{/inverse}`;
      if (c.mentions > 0) return `{yellow-fg}{bold}${text}{/bold}{/yellow-fg}`;
      return c.unread > 0 ? `{bold}${text}{/bold}` : text;
    }).join('\n'));

    const view = this.visibleLines(conv, width, height);
    const scrolled = conv.scroll > 0 ? ` ↑${conv.scroll} ` : '';
    if (scrolled) this.messages.setLabel(`${scrolled}(PageDown) `);
    else this.messages.removeLabel();
    this.messages.setContent(view.lines.join('\n'));

    const members = conv.kind === 'room' ? conv.members : [];
    this.people.setContent(members.map((m, i) => {
      const text = `${PRESENCE_MARK[m.state] ?? ' '}${ROLE_MARK[m.role] ?? ' '}${escapeTags(truncate(stripControls(m.user), RIGHT_WIDTH - 5))}`;
      return this.memberFocus === i ? `{inverse}${text}{/inverse}` : text;
    }).join('\n'));

    const typing = typingUsers(conv, Date.now());
    const conn = s.connection === 'ready' ? '{green-fg}connected{/green-fg}' : s.connection === 'closed' ? '{red-fg}disconnected{/red-fg}' : `{yellow-fg}${s.connection}…{/yellow-fg}`;
    const parts = [conn, escapeTags(s.me ?? ''), escapeTags(stripControls(title))];
    if (typing.length > 0) parts.push(`${sanitize(typing.slice(0, 3).join(', '))}${typing.length > 3 ? ' …' : ''} typing…`);
    const seen = seenBy(s, conv);
    if (seen) parts.push(`seen by ${sanitize(seen)}`);
    const e2e = e2eText(s, conv);
    if (e2e) parts.push(e2e);
    this.status.setContent(' ' + parts.join(' │ '));

    const inputWidth = Math.max(5, (this.screen.width as number) - 3);
    const v = this.editor.view(inputWidth);
    this.input.setContent(`{bold}>{/bold} ${escapeTags(v.text)}`);
    this.screen.render();
    if (!this.modals.active) {
      this.screen.program.cup((this.screen.height as number) - 1, 2 + v.cursorCol);
      this.screen.program.showCursor();
    }
  }

  private key(ch: string | undefined, key: KeyPress): void {
    if (key.full === 'C-c') return this.quit();
    if (this.modals.key(ch, key)) return;
    if (this.memberFocus !== null) return this.memberKey(key);
    const intent = chatIntent(ch, key);
    switch (intent.kind) {
      case 'quit': return this.quit();
      case 'submit': {
        const text = this.editor.text;
        if (text.trim() === '') return;
        this.editor.set('');
        void this.ctl.submit(text);
        break;
      }
      case 'complete': this.editor.set(this.ctl.tab(this.editor.text)); break;
      case 'historyPrev':
        this.ctl.dispatch({ type: 'inputPrev', current: this.editor.text });
        this.editor.set(this.ctl.state.input.current);
        break;
      case 'historyNext':
        this.ctl.dispatch({ type: 'inputNext', current: this.editor.text });
        if (this.ctl.state.input.index !== null || this.ctl.state.input.current !== '' || this.editor.text !== '') this.editor.set(this.ctl.state.input.current);
        break;
      case 'pageUp': this.scroll(Math.max(1, this.paneSize().height - 2)); break;
      case 'pageDown': this.scroll(-Math.max(1, this.paneSize().height - 2)); break;
      case 'switchIndex': this.ctl.dispatch({ type: 'switchIndex', index: intent.index }); break;
      case 'switchRelative': this.ctl.dispatch({ type: 'switchRelative', delta: intent.delta }); break;
      case 'emojiPicker':
        void this.modals.pickEmoji().then((e) => {
          if (e) this.editor.insert(e);
          this.render();
        });
        return;
      case 'focusMembers':
        if (activeConversation(this.ctl.state).members.length > 0) this.memberFocus = 0;
        break;
      case 'edit': {
        const op = intent.op;
        this.editor[op === 'delete' ? 'del' : op]();
        this.ctl.inputChanged(this.editor.text);
        break;
      }
      case 'insert':
        this.editor.insert(intent.text);
        this.ctl.inputChanged(this.editor.text);
        break;
      case 'escape': case 'none': return;
    }
    this.render();
  }

  private memberKey(key: KeyPress): void {
    const members = activeConversation(this.ctl.state).members;
    const at = this.memberFocus ?? 0;
    if (key.full === 'up') this.memberFocus = Math.max(0, at - 1);
    else if (key.full === 'down') this.memberFocus = Math.min(members.length - 1, at + 1);
    else if (key.full === 'enter') {
      this.memberFocus = null;
      const m = members[at];
      if (m) this.ctl.openDm(m.user);
    } else if (key.full === 'escape' || key.full === 'C-o' || key.full === 'tab') this.memberFocus = null;
    this.render();
  }

  /** Bell on a direct message or a mention. */
  bell(): void {
    this.screen.program.bel();
  }
}
