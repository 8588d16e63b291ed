// The chat screen: conversations | messages | people, a status bar and the input line.
// It only draws state and turns keys and clicks into controller calls.
import blessed from 'blessed';
import type { ChatController } from '../controller.js';
import {
  fitStatus,
  type FormatOptions,
  moreBelowRow,
  conversationLabel,
  conversationListRow,
  panelWidths,
  rowsAddedAfter,
  scrollAfterRewrap,
  tailRows,
  unreadElsewhere,
  type StatusItem,
} from '../format.js';
import type { LineEditor } from '../line-editor.js';
import { escapeTags, stripControls } from '../sanitize.js';
import { firstSelection, SELECT_KEYS, SELECTION_HINT, SELECTION_HINT_SHORT, selectionKey } from '../selection.js';
import {
  activeConversation,
  messageNumber,
  numberingOf,
  seenBy,
  typingUsers,
  type AppState,
  type Conversation,
  type Line,
  type Numbering,
} from '../state.js';
import { truncate } from '../width.js';
import { applyEdit, chatIntent, type KeyPress } from './keys.js';
import { ModalHost } from './modals.js';
import { clipRowsByColumns } from './unicode-patch.js';

const PRESENCE_MARK: Record<string, string> = {
  online: '{green-fg}●{/green-fg}',
  away: '{yellow-fg}◐{/yellow-fg}',
  offline: '{gray-fg}○{/gray-fg}',
};
const ROLE_MARK: Record<string, string> = { owner: '~', op: '@', member: ' ' };
/** Said for Ctrl+O where the terminal is too narrow for the people list. */
export const PEOPLE_HIDDEN = 'the people list is hidden at this width: /names lists them, /query nick opens a conversation';

/** The conversation's encryption, plain and tagged, and a room's short form for a narrow bar (empty in the status window). */
export function e2eText(state: AppState, conv: Conversation): { text: string; tagged: string; short?: { text: string; tagged: string } } {
  const styled = (style: string, text: string) => ({ text, tagged: `{${style}}${escapeTags(text)}{/${style}}` });
  const room = (style: string, text: string, short: string) => ({ ...styled(style, text), short: styled(style, short) });
  if (conv.kind === 'room') {
    if (conv.sealed === undefined)
      return room('yellow-fg', 'room: encryption not known yet (nothing is sent in clear)', 'encryption not known yet');
    return conv.sealed
      ? room('green-fg', '🔒 end-to-end encrypted room', '🔒 end-to-end')
      : room('yellow-fg', 'room messages: encrypted in transit, readable by the server', 'open room: readable by the server');
  }
  if (conv.kind === 'dm') {
    if (conv.name === state.me) return styled('green-fg', 'notes to yourself: end-to-end encrypted to your own devices');
    const e = state.e2e[conv.name];
    if (e === 'changed') return styled('red-fg', `end-to-end encrypted: KEY CHANGED, /verify ${stripControls(conv.name)}`);
    return e === 'verified'
      ? styled('green-fg', 'end-to-end encrypted (verified)')
      : styled('cyan-fg', 'end-to-end encrypted (unverified)');
  }
  return { text: '', tagged: '' };
}

export class ChatView {
  private readonly topic: blessed.Widgets.BoxElement;
  private readonly convs: blessed.Widgets.BoxElement;
  private readonly messages: blessed.Widgets.BoxElement;
  private readonly people: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly input: blessed.Widgets.BoxElement;
  /** The input line lives in the controller (pastes and refused lines land in it). */
  private get editor(): LineEditor {
    return this.ctl.editor;
  }
  readonly modals: ModalHost;
  private memberFocus: number | null = null;
  /** The message picked with the keyboard (Alt+Up), by conversation and id. */
  private selected: { key: string; id: string } | null = null;
  private renderQueued = false;
  /** While scrolled up: the newest line when last drawn, so new lines do not move the view. */
  private scrolledAt: { key: string; width: number; last: Line } | null = null;
  /**
   * The conversation drawn last and its "new since" rule: one opened anew starts at its rule, and so
   * does one whose rule is placed after it is first drawn (a start's catch-up). Lines arriving live
   * move neither.
   */
  private shown: { key: string; marker: string | null } | null = null;
  private readonly onKeypress = (ch: string | undefined, key: KeyPress): void => this.key(ch, key);
  private readonly unsubscribe: () => void;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly ctl: ChatController,
    private readonly quit: () => void,
  ) {
    this.modals = new ModalHost(screen);
    const pane = { tags: true, wrap: false, border: { type: 'line' as const }, style: { border: { fg: 'gray' } } };
    const bar = { left: 0, width: '100%', height: 1, tags: true, wrap: false, style: { bg: 'blue', fg: 'white' } };
    this.topic = blessed.box({ ...bar, parent: screen, top: 0 });
    const { left, right } = panelWidths(screen.width as number);
    this.convs = blessed.box({
      ...pane,
      parent: screen,
      top: 1,
      left: 0,
      width: Math.max(1, left),
      bottom: 2,
      label: ' chats ',
      clickable: true,
    });
    this.messages = blessed.box({ ...pane, parent: screen, top: 1, left, right, bottom: 2 });
    this.people = blessed.box({
      ...pane,
      parent: screen,
      top: 1,
      right: 0,
      width: Math.max(1, right),
      bottom: 2,
      label: ' people ',
      clickable: true,
    });
    this.status = blessed.box({ ...bar, parent: screen, bottom: 1 });
    this.input = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false });
    for (const el of [this.topic, this.convs, this.messages, this.people, this.status, this.input]) clipRowsByColumns(el);

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
    const { left, right } = panelWidths(this.screen.width as number);
    const width = Math.max(10, (this.screen.width as number) - left - right - 2);
    const height = Math.max(1, (this.screen.height as number) - 3 - 2);
    return { width, height };
  }

  /** Side panels by the terminal's width: they shrink, then hide, so the chat stays readable. */
  private placePanels(): void {
    const { left, right } = panelWidths(this.screen.width as number);
    this.messages.left = left;
    this.messages.right = right;
    for (const [panel, width] of [
      [this.convs, left],
      [this.people, right],
    ] as const) {
      if (width === 0) panel.hide();
      else {
        panel.width = width;
        panel.show();
      }
    }
  }

  /** Rows of the active conversation shown in the pane; while scrolled up the last says so. */
  private visibleRows(conv: Conversation, width: number, height: number): string[] {
    const opts = this.paneOptions(conv, width);
    if (conv.scroll === 0) return tailRows(conv.lines, opts, height).rows.slice(-height);
    const rows = tailRows(conv.lines, opts, height + conv.scroll).rows;
    const end = Math.max(0, rows.length - conv.scroll);
    return [...rows.slice(Math.max(0, end - (height - 1)), end), moreBelowRow(conv.unread, width)];
  }

  /** While a command that names a message is typed, or a message is selected, the pane numbers them. */
  private paneOptions(conv: Conversation, width: number): FormatOptions {
    const selected = this.selected?.key === conv.key ? this.selected.id : undefined;
    return {
      width,
      files: this.ctl.state.files,
      marker: conv.marker,
      numbered: this.frozenNumbers(conv) ?? selected !== undefined,
      canRetry: this.ctl.state.connection !== 'closed',
      ...(selected === undefined ? {} : { selected }),
    };
  }

  /** The numbers frozen while a numbered command is in the input line (null: the pane numbers messages as they are now). */
  private frozenNumbers(conv: Conversation): Numbering | null {
    return this.ctl.messageNumbers.follow(conv, this.editor.text);
  }

  /** Scrolls so the selected message is in the pane: at its bottom when it was out of sight. */
  private revealSelection(conv: Conversation, id: string): void {
    const line = conv.lines.find((l) => l.kind === 'message' && l.id === id);
    if (!line) return;
    const { width, height } = this.paneSize();
    const opts = this.paneOptions(conv, width);
    const below = rowsAddedAfter(conv.lines, line, opts) ?? 0;
    const own = tailRows([line], opts).rows.length;
    const room = conv.scroll > 0 ? height - 1 : height;
    if (conv.scroll <= below && below + own <= conv.scroll + room) return;
    const total = tailRows(conv.lines, opts).rows.length;
    this.ctl.dispatch({ type: 'scroll', delta: below - conv.scroll, max: Math.max(0, total - (height - 1)) });
  }

  private scroll(delta: number): void {
    const conv = activeConversation(this.ctl.state);
    const { width, height } = this.paneSize();
    const total = tailRows(conv.lines, { width, files: this.ctl.state.files, marker: conv.marker }).rows.length;
    this.ctl.dispatch({ type: 'scroll', delta, max: Math.max(0, total - (height - 1)) });
  }

  /**
   * A conversation opened with more new lines than the pane holds starts at its "new since you were
   * here" rule, the first new line under it and "↓ more below" at the foot (read as she pages down);
   * true when it scrolled.
   */
  private openAtMarker(conv: Conversation): boolean {
    const at = conv.marker ? conv.lines.findIndex((l) => l.kind === 'message' && l.id === conv.marker) : -1;
    if (at < 0 || conv.scroll > 0) return false;
    const { width, height } = this.paneSize();
    const opts = this.paneOptions(conv, width);
    const fromRule = tailRows(conv.lines.slice(at), opts).rows.length;
    if (fromRule <= height) return false;
    const total = tailRows(conv.lines, opts).rows.length;
    const max = Math.max(0, total - (height - 1));
    this.ctl.dispatch({ type: 'scroll', delta: Math.min(max, fromRule - (height - 1)), max });
    return true;
  }

  /**
   * A view scrolled up stays on the rows it shows while lines arrive below, and keeps the line at its
   * foot when a resize re-wraps the rows; true when it moved.
   */
  private holdScrolledView(conv: Conversation, width: number, height: number): boolean {
    const last = conv.lines.at(-1);
    const held = this.scrolledAt;
    this.scrolledAt = conv.scroll > 0 && last ? { key: conv.key, width, last } : null;
    if (!this.scrolledAt || held?.key !== conv.key) return false;
    const opts = { width, files: this.ctl.state.files, marker: conv.marker };
    const added = rowsAddedAfter(conv.lines, held.last, opts) ?? 0;
    let scroll = conv.scroll + added;
    if (held.width !== width) {
      const at = conv.lines.lastIndexOf(held.last);
      const seen = at < 0 ? conv.lines : conv.lines.slice(0, at + 1);
      scroll = scrollAfterRewrap(seen, conv.scroll, { ...opts, width: held.width }, opts) + added;
    }
    // Grown taller than the rows above its foot, the pane shows more below instead of blank rows.
    scroll = Math.min(scroll, Math.max(0, tailRows(conv.lines, opts).rows.length - (height - 1)));
    if (scroll === conv.scroll) return false;
    this.ctl.dispatch({ type: 'scroll', delta: scroll - conv.scroll, max: Math.max(conv.scroll, scroll) });
    return true;
  }

  render(): void {
    const s = this.ctl.state;
    const conv = activeConversation(s);
    const { width, height } = this.paneSize();
    if (conv.key !== this.shown?.key || conv.marker !== this.shown.marker) {
      this.shown = { key: conv.key, marker: conv.marker };
      if (this.openAtMarker(conv)) return; // drawn again, scrolled
    }
    if (this.holdScrolledView(conv, width, height)) return; // drawn again with the held position
    // A selection ends when its conversation is left or its message is gone.
    const selectedNumber = this.selected && messageNumber(conv, this.selected.id, this.frozenNumbers(conv));
    if (this.selected && (this.selected.key !== conv.key || selectedNumber === undefined)) this.selected = null;
    const cols = this.screen.width as number;
    this.placePanels();
    if (!this.peopleShown()) this.memberFocus = null; // narrowed while it had the keyboard: back to the input line

    const title = conv.kind === 'status' ? 'status' : conversationLabel(conv);
    this.topic.setContent(escapeTags(truncate(` hush  ${title}${conv.topic ? ` — ${stripControls(conv.topic)}` : ''}`, cols)));

    this.convs.setContent(
      s.conversations
        .map((c, i) => {
          const text = escapeTags(conversationListRow(c, i, panelWidths(cols).left - 2));
          if (c.key === s.active) return `{inverse}${text}{/inverse}`;
          if (c.mentions > 0) return `{yellow-fg}{bold}${text}{/bold}{/yellow-fg}`;
          return c.unread > 0 ? `{bold}${text}{/bold}` : text;
        })
        .join('\n'),
    );

    this.messages.setContent(this.visibleRows(conv, width, height).join('\n'));

    const members = conv.kind === 'room' ? conv.members : [];
    this.people.setContent(
      members
        .map((m, i) => {
          const text = `${PRESENCE_MARK[m.state] ?? ' '}${ROLE_MARK[m.role] ?? ' '}${escapeTags(truncate(stripControls(m.user), panelWidths(cols).right - 5))}`;
          return this.memberFocus === i ? `{inverse}${text}{/inverse}` : text;
        })
        .join('\n'),
    );

    const typing = typingUsers(conv, Date.now());
    const conn =
      s.connection === 'ready'
        ? '{green-fg}connected{/green-fg}'
        : s.connection === 'closed'
          ? '{red-fg}disconnected{/red-fg}'
          : `{yellow-fg}${s.connection}…{/yellow-fg}`;
    const item = (text: string, priority: number, tagged = escapeTags(text)): StatusItem => ({ text, tagged, priority });
    const items = [
      item(s.connection === 'ready' ? 'connected' : s.connection === 'closed' ? 'disconnected' : `${s.connection}…`, 9, conn),
      item(stripControls(s.me ?? ''), 2),
      item(title, 7),
    ];
    if (typing.length > 0) items.push(item(`${stripControls(typing.slice(0, 3).join(', '))}${typing.length > 3 ? ' …' : ''} typing…`, 4));
    const seen = seenBy(s, conv);
    if (seen) items.push(item(`seen by ${stripControls(seen)}`, 3));
    const elsewhere = panelWidths(cols).left === 0 ? unreadElsewhere(s.conversations, s.active) : '';
    if (elsewhere) items.push(item(elsewhere, 6));
    if (this.selected) {
      const long = `message ${selectedNumber} selected: ${SELECTION_HINT}`;
      // Said at every width: typing goes to the selection's keys while it is on.
      items.push(item(long.length <= cols / 2 + 20 ? long : `message ${selectedNumber} selected: ${SELECTION_HINT_SHORT}`, 8));
    }
    const e2e = e2eText(s, conv);
    if (e2e.text) {
      const said = item(e2e.text, conv.kind === 'dm' && s.e2e[conv.name] === 'changed' ? 10 : 5, e2e.tagged);
      items.push(e2e.short ? { ...said, short: e2e.short } : said);
    }
    this.status.setContent(fitStatus(items, cols));

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
    // blessed gives a typed Enter twice, 'enter' then 'return': the echo must not end what the Enter began (a /goto selection).
    if (key.full === 'return') return;
    if (this.memberFocus !== null) return this.memberKey(key);
    if (this.selected && this.selectionKey(key)) return;
    if (SELECT_KEYS.includes(key.full)) {
      const conv = activeConversation(this.ctl.state);
      const id = firstSelection(conv, this.frozenNumbers(conv));
      if (id) {
        this.selected = { key: conv.key, id };
        this.revealSelection(conv, id);
      }
      return this.render();
    }
    const intent = chatIntent(ch, key, this.editor.text === '');
    switch (intent.kind) {
      case 'quit':
        return this.quit();
      case 'submit':
        void this.ctl.submitInput();
        break;
      case 'paste':
        void this.ctl.paste(intent.text);
        break;
      case 'complete':
        this.ctl.complete();
        break;
      case 'historyPrev':
        this.ctl.dispatch({ type: 'inputPrev', current: this.editor.text });
        this.editor.set(this.ctl.state.input.current);
        break;
      case 'historyNext':
        this.ctl.dispatch({ type: 'inputNext', current: this.editor.text });
        if (this.ctl.state.input.index !== null || this.ctl.state.input.current !== '' || this.editor.text !== '')
          this.editor.set(this.ctl.state.input.current);
        break;
      case 'pageUp':
        this.scroll(Math.max(1, this.paneSize().height - 2));
        break;
      case 'pageDown':
        this.scroll(-Math.max(1, this.paneSize().height - 2));
        break;
      case 'switchIndex':
        this.ctl.dispatch({ type: 'switchIndex', index: intent.index });
        break;
      case 'switchRelative':
        this.ctl.dispatch({ type: 'switchRelative', delta: intent.delta });
        break;
      case 'emojiPicker':
        this.modals.pickEmoji((e) => {
          this.editor.insert(e);
          this.render();
        });
        return;
      case 'focusMembers':
        // Never a focus on a list that is not drawn: keys would vanish and Enter open a stranger's conversation.
        if (!this.peopleShown()) this.ctl.notice(PEOPLE_HIDDEN);
        else if (activeConversation(this.ctl.state).members.length > 0) this.memberFocus = 0;
        break;
      case 'edit':
        applyEdit(this.editor, intent.op);
        this.ctl.inputChanged();
        break;
      case 'insert':
        this.editor.insert(intent.text);
        this.ctl.inputChanged();
        break;
      case 'escape':
      case 'none':
        return;
    }
    this.scheduleRender(); // a flood of keys (a paste without brackets) draws once per tick
  }

  /** A key while a message is selected; false when it ends the selection and goes on to the input line. */
  private selectionKey(key: KeyPress): boolean {
    const conv = activeConversation(this.ctl.state);
    // The numbers the pane shows, kept for the command the key puts in the input line or runs.
    const numbers = this.frozenNumbers(conv) ?? numberingOf(conv);
    const step = selectionKey(conv, numbers, this.selected!.id, key, this.ctl.state.me);
    if (step.kind === 'move') {
      this.selected = { key: conv.key, id: step.id };
      this.revealSelection(conv, step.id);
      this.render();
      return true;
    }
    if (step.kind === 'stay') return true;
    this.selected = null;
    if (step.kind === 'pass') return false;
    switch (step.kind) {
      case 'input':
        this.editor.set(step.text);
        this.ctl.messageNumbers.freeze(numbers);
        this.ctl.inputChanged();
        break;
      case 'run':
        void this.ctl.submit(step.command, numbers);
        break;
      case 'react':
        this.modals.pickEmoji((emoji) => {
          void this.ctl.submit(`/react ${step.n} ${emoji}`, numbers);
          this.render();
        });
        break;
      case 'refuse':
        this.ctl.notice(step.reason, 'error');
        break;
    }
    this.render();
    return true;
  }

  private peopleShown(): boolean {
    return panelWidths(this.screen.width as number).right > 0;
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

  /** The last `count` lines read from their first, `↓ more below` at the foot, when the pane cannot hold them all. */
  fromTop(count: number): void {
    const conv = activeConversation(this.ctl.state);
    const { width, height } = this.paneSize();
    const opts = this.paneOptions(conv, width);
    const rows = tailRows(conv.lines.slice(-count), opts).rows.length;
    if (rows <= height) return;
    const total = tailRows(conv.lines, opts).rows.length;
    this.ctl.dispatch({ type: 'scroll', delta: rows - (height - 1) - conv.scroll, max: Math.max(0, total - (height - 1)) });
  }

  /** Selects message `id` of the conversation on screen and scrolls it into view, as Alt+Up does. */
  reveal(key: string, id: string): void {
    const conv = activeConversation(this.ctl.state);
    if (conv.key !== key || !conv.lines.some((l) => l.kind === 'message' && l.id === id)) return;
    this.selected = { key, id };
    this.revealSelection(conv, id);
    this.render();
  }
}
