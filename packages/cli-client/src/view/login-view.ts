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
const MESSAGE_ROWS = 6;

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
      width: BOX_WIDTH,
      height: 12 + MESSAGE_ROWS,
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
    this.render();
  }

  destroy(): void {
    this.screen.removeListener('keypress', this.onKeypress);
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
    const row = (f: Field, label: string): string => {
      const mark = this.focus === f ? '{bold}>{/bold}' : ' ';
      if (f === 'register') return `${mark} ${label.padEnd(10)} [${this.register ? 'x' : ' '}] create a new account (Ctrl+R)`;
      const v = this.editors[f].view(FIELD_WIDTH, f === 'password' ? '*' : undefined);
      const shown = escapeTags(v.text).padEnd(FIELD_WIDTH, ' ');
      return `${mark} ${label.padEnd(10)} {underline}${shown}{/underline}`;
    };
    const colour = this.messageLevel === 'error' ? 'red-fg' : 'cyan-fg';
    const rows = this.message === '' ? [] : wrap(stripControls(this.message), BOX_WIDTH - 6).slice(0, MESSAGE_ROWS);
    const msg = rows.map((r) => `  {${colour}}${escapeTags(r)}{/${colour}}`);
    this.box.setLabel(this.register ? ' hush — register ' : ' hush — log in ');
    this.box.setContent(
      [
        '',
        row('server', 'server'),
        row('user', 'username'),
        row('password', 'password'),
        row('register', 'register'),
        row('invite', 'invite'),
        '',
        `  {gray-fg}Tab/Up/Down move · Enter ${this.register ? 'registers' : 'logs in'} · Ctrl+C quits{/gray-fg}`,
        '',
        ...msg,
      ].join('\n'),
    );
    this.screen.render();
    if (!this.modals.active && this.focus !== 'register') {
      const v = this.editors[this.focus].view(FIELD_WIDTH, this.focus === 'password' ? '*' : undefined);
      const top = (this.box.atop as number) + 1 + 1 + FIELDS.indexOf(this.focus);
      this.screen.program.cup(top, (this.box.aleft as number) + 1 + 13 + v.cursorCol);
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
      case 'enter':
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
