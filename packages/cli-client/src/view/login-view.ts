// The login form: server, username, password (masked), register toggle, invite code.
import blessed from 'blessed';
import { LineEditor } from '../line-editor.js';
import { escapeTags, stripControls } from '../sanitize.js';
import { wrap } from '../wrap.js';
import { typeInto, type KeyPress } from './keys.js';
import { ModalHost } from './modals.js';

export interface LoginValues {
  server: string;
  user: string;
  password: string;
  register: boolean;
  invite: string;
}

type TextField = 'server' | 'user' | 'password' | 'invite';
type Field = TextField | 'register';
const FIELDS: Field[] = ['server', 'user', 'password', 'register', 'invite'];
const FIELD_WIDTH = 40;
const BOX_WIDTH = 64;
/** Errors such as a refused handshake say why in a sentence: wrap them, up to this many rows. */
const MESSAGE_ROWS = 10;
/** The focus mark, a space, the label padded to 10, a space: where a field's text starts. */
const LABEL_COLS = 13;

export interface LoginRow {
  kind: 'blank' | 'field' | 'hint' | 'message';
  text: string;
}

/**
 * The form's rows for a box `inner` columns by `height` rows: the spacious layout when it fits;
 * in a small terminal the blank rows go, then the keys hint gives way to an error, so the fields
 * and what went wrong stay in view. `top` is the row of the first field.
 */
export function loginLayout(
  fields: string[],
  hint: string,
  message: string,
  inner: number,
  height: number,
): { rows: LoginRow[]; top: number } {
  const rows = (kind: LoginRow['kind'], texts: string[]): LoginRow[] => texts.map((text) => ({ kind, text }));
  const field = rows('field', fields);
  const hinted = rows('hint', wrap(hint, Math.max(1, inner - 2)));
  const said = message === '' ? [] : rows('message', wrap(message, Math.max(1, inner - 4)).slice(0, MESSAGE_ROWS));
  const blank = rows('blank', ['']);
  const spacious = [...blank, ...field, ...blank, ...hinted, ...(said.length > 0 ? blank : []), ...said];
  if (spacious.length <= height) return { rows: spacious, top: 1 };
  const room = Math.max(0, height - field.length);
  const hintShown = said.length === 0 || hinted.length + said.length <= room ? hinted.slice(0, room) : [];
  return { rows: [...field, ...hintShown, ...said.slice(0, room - hintShown.length)], top: 0 };
}

export class LoginView {
  private readonly box: blessed.Widgets.BoxElement;
  private readonly editors: Record<TextField, LineEditor> = {
    server: new LineEditor(),
    user: new LineEditor(),
    password: new LineEditor(),
    invite: new LineEditor(),
  };
  private register: boolean;
  private focus: Field;
  private message = '';
  private messageLevel: 'info' | 'error' = 'info';
  private busy = false;
  readonly modals: ModalHost;
  private readonly onKeypress = (ch: string | undefined, key: KeyPress): void => this.key(ch, key);
  private readonly onResize = (): void => this.render();

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    initial: LoginValues,
    private readonly submit: (v: LoginValues) => void,
    private readonly quit: () => void,
  ) {
    this.modals = new ModalHost(screen);
    this.box = blessed.box({
      parent: screen,
      top: 'center',
      left: 'center',
      width: Math.min(BOX_WIDTH, screen.width as number),
      height: Math.min(12 + MESSAGE_ROWS, screen.height as number),
      border: { type: 'line' },
      label: ' hush — log in ',
      tags: true,
      wrap: false,
    });
    this.editors.server.set(initial.server);
    this.editors.user.set(initial.user);
    this.editors.password.set(initial.password);
    this.editors.invite.set(initial.invite);
    this.register = initial.register;
    this.focus = initial.user === '' ? 'user' : initial.password === '' ? 'password' : 'user';
    screen.on('keypress', this.onKeypress);
    screen.on('resize', this.onResize);
    this.render();
  }

  destroy(): void {
    this.screen.removeListener('keypress', this.onKeypress);
    this.screen.removeListener('resize', this.onResize);
    this.modals.cancel();
    this.box.destroy();
  }

  values(): LoginValues {
    return {
      server: this.editors.server.text.trim(),
      user: this.editors.user.text.trim(),
      password: this.editors.password.text,
      register: this.register,
      invite: this.editors.invite.text.trim(),
    };
  }

  setBusy(busy: boolean, message = ''): void {
    this.busy = busy;
    this.message = message;
    this.messageLevel = 'info';
    this.render();
  }

  /** Show an error (remote text is sanitised here). */
  showError(text: string): void {
    this.busy = false;
    this.message = text;
    this.messageLevel = 'error';
    this.render();
  }

  private render(): void {
    // The box fits the terminal (a small one too); the fields give up columns before anything else.
    const width = Math.min(BOX_WIDTH, this.screen.width as number);
    const height = Math.min(12 + MESSAGE_ROWS, this.screen.height as number);
    this.box.width = width;
    this.box.height = height;
    const inner = Math.max(1, width - 2);
    const fieldWidth = Math.max(1, Math.min(FIELD_WIDTH, inner - LABEL_COLS - 1));
    const registerText = LABEL_COLS + 34 <= inner ? 'create a new account (Ctrl+R)' : 'new account (Ctrl+R)';
    const row = (f: Field, label: string): string => {
      const mark = this.focus === f ? '{bold}>{/bold}' : ' ';
      if (f === 'register') return `${mark} ${label.padEnd(10)} [${this.register ? 'x' : ' '}] ${registerText}`;
      const v = this.editors[f].view(fieldWidth, f === 'password' ? '*' : undefined);
      const shown = escapeTags(v.text).padEnd(fieldWidth, ' ');
      return `${mark} ${label.padEnd(10)} {underline}${shown}{/underline}`;
    };
    const colour = this.messageLevel === 'error' ? 'red-fg' : 'cyan-fg';
    const fields = [
      row('server', 'server'),
      row('user', 'username'),
      row('password', 'password'),
      row('register', 'register'),
      row('invite', 'invite'),
    ];
    const hint = `Tab/Up/Down move · Enter ${this.register ? 'registers' : 'logs in'} · Ctrl+C quits`;
    const layout = loginLayout(fields, hint, stripControls(this.message), inner, Math.max(0, height - 2));
    this.box.setLabel(this.register ? ' hush — register ' : ' hush — log in ');
    this.box.setContent(
      layout.rows
        .map(({ kind, text }) => {
          if (kind === 'hint') return `  {gray-fg}${escapeTags(text)}{/gray-fg}`;
          if (kind === 'message') return `  {${colour}}${escapeTags(text)}{/${colour}}`;
          return text;
        })
        .join('\n'),
    );
    this.screen.render();
    if (!this.modals.active && this.focus !== 'register') {
      const v = this.editors[this.focus].view(fieldWidth, this.focus === 'password' ? '*' : undefined);
      const top = (this.box.atop as number) + 1 + layout.top + FIELDS.indexOf(this.focus);
      this.screen.program.cup(top, (this.box.aleft as number) + 1 + LABEL_COLS + v.cursorCol);
      this.screen.program.showCursor();
    }
  }

  private move(delta: number): void {
    const i = FIELDS.indexOf(this.focus);
    this.focus = FIELDS[(i + delta + FIELDS.length) % FIELDS.length]!;
  }

  private key(ch: string | undefined, key: KeyPress): void {
    if (key.full === 'C-c' || key.full === 'C-d') return this.quit();
    if (this.modals.key(ch, key)) return;
    if (this.busy) return;
    switch (key.full) {
      case 'tab':
      case 'down':
        this.move(1);
        break;
      case 'S-tab':
      case 'up':
        this.move(-1);
        break;
      case 'C-r':
        this.register = !this.register;
        break;
      // A line feed is Enter typed before the terminal left cooked mode (or Ctrl+J).
      case 'linefeed':
      case 'enter':
        // Onward with no name would leave it for the password field, where it would be typed masked.
        if (this.focus === 'user' && this.editors.user.text.trim() === '') {
          this.message = 'type a username first: yours, or a new one to create (Ctrl+R ticks register)';
          this.messageLevel = 'error';
          break;
        }
        // Onward to a field still to fill; otherwise Enter logs in (a device that holds its key
        // needs no password).
        if ((this.focus === 'server' && this.editors.user.text === '') || (this.focus === 'user' && this.editors.password.text === '')) {
          this.move(1);
          break;
        }
        this.submit(this.values());
        return;
      default: {
        if (this.focus === 'register') {
          if (ch === ' ' || ch === 'x') this.register = !this.register;
          break;
        }
        const before = this.editors[this.focus].text;
        typeInto(this.editors[this.focus], ch, key);
        // An error about the values as they were is gone once they change.
        if (this.messageLevel === 'error' && this.editors[this.focus].text !== before) this.message = '';
      }
    }
    this.render();
  }
}
