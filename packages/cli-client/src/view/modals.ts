// Modal dialogs drawn over the current screen: yes/no, one key of a few, a prompted line, the emoji picker.
import blessed from 'blessed';
import { searchEmoji, type EmojiEntry } from '../emoji.js';
import { LineEditor } from '../line-editor.js';
import { escapeTags, sanitize } from '../sanitize.js';
import { padRight, displayWidth } from '../width.js';
import type { Choice, Unasked } from '../controller.js';
import { printable, typeInto, type KeyPress } from './keys.js';

export interface Modal {
  /** true when the key was consumed */
  key(ch: string | undefined, key: KeyPress): boolean;
  destroy(): void;
}

function dialog(screen: blessed.Widgets.Screen, label: string, height: number, width: number | string = '70%'): blessed.Widgets.BoxElement {
  return blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width,
    height,
    border: { type: 'line' },
    label: ` ${label} `,
    tags: true,
    wrap: false,
    style: { border: { fg: 'yellow' } },
  });
}

/** y/n question. `lines` are tagged text (callers sanitize remote pieces). */
export class ConfirmModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  constructor(
    screen: blessed.Widgets.Screen,
    label: string,
    lines: string[],
    private readonly done: (yes: boolean) => void,
  ) {
    this.box = dialog(screen, label, lines.length + 4, '80%');
    this.box.setContent([...lines, '', '{bold}[y]es / [n]o{/bold}'].join('\n'));
    this.box.setFront();
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    const c = (ch ?? '').toLowerCase();
    if (c === 'y') this.done(true);
    else if (c === 'n' || key.full === 'escape') this.done(false);
    return true;
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Keys in the first moment after a prompt opens were meant for what was there before it. */
const CHOICE_ARMING_MS = 400;
/** A question nobody asked for (a file offer) opens only after this long without a key. */
export const UNASKED_IDLE_MS = 1500;
/** How often a waiting question looks again whether the input line is empty. */
const IDLE_CHECK_MS = 250;
/** A key that does not answer an unasked question puts it off to the next idle moment. */
const PUT_OFF = Symbol('put off');
type ChoiceAnswer = string | null | typeof PUT_OFF;

/**
 * One key out of a few ("[a] accept  [d] decline"); Esc answers null. `lines` are plain text.
 * The keys line shows, and keys count, only CHOICE_ARMING_MS after it opens: keys typed before
 * were meant for the input line and go on to it. An `unasked` question never takes a key that
 * does not answer it: such a key (any key before it is armed) puts it off and goes on.
 */
export class ChoiceModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private armed = false;
  private readonly timer: NodeJS.Timeout;
  constructor(
    screen: blessed.Widgets.Screen,
    label: string,
    lines: string[],
    private readonly choices: readonly Choice[],
    private readonly done: (answer: ChoiceAnswer) => void,
    private readonly unasked = false,
  ) {
    this.box = dialog(screen, label, lines.length + 4, '80%');
    const text = lines.map(sanitize);
    this.box.setContent([...text, '', '{gray-fg}…{/gray-fg}'].join('\n'));
    this.box.setFront();
    this.timer = setTimeout(() => {
      this.armed = true;
      const keys = choices.map((c) => `[${c.key}] ${c.label}`).join('   ');
      this.box.setContent([...text, '', `{bold}${escapeTags(keys)}{/bold}`].join('\n'));
      screen.render();
    }, CHOICE_ARMING_MS);
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    // A paste is text for the input line, never an answer.
    const answering = this.armed && key.paste === undefined;
    const hit = answering ? this.choices.find((c) => c.key === (ch ?? '').toLowerCase()) : undefined;
    if (hit || (answering && key.full === 'escape')) {
      this.done(hit ? hit.key : null);
      return true;
    }
    if (this.unasked) this.done(PUT_OFF);
    return answering && !this.unasked;
  }
  destroy(): void {
    clearTimeout(this.timer);
    this.box.destroy();
  }
}

/**
 * A question with an editable, prefilled answer. Text typed within CHOICE_ARMING_MS of it opening
 * was meant for the input line (typing that ran on past a file prompt's key): it closes the
 * question unanswered and goes on; Enter, Esc and the editing keys count at once.
 */
export class AskModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private readonly editor = new LineEditor();
  private readonly openedAt = Date.now();
  constructor(
    screen: blessed.Widgets.Screen,
    private readonly question: string,
    initial: string,
    private readonly done: (answer: string | null) => void,
  ) {
    this.box = dialog(screen, 'hush', 5);
    this.editor.set(initial);
    this.render();
    this.box.setFront();
  }
  private render(): void {
    const inner = Math.max(10, (this.box.width as number) - 4);
    const v = this.editor.view(inner);
    this.box.setContent(`${sanitize(this.question)}\n> ${escapeTags(v.text)}\n{gray-fg}Enter accepts, Esc cancels{/gray-fg}`);
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    switch (key.full) {
      case 'enter':
        this.done(this.editor.text);
        return true;
      case 'escape':
        this.done(null);
        return true;
      default:
        if (printable(ch, key) !== null && Date.now() - this.openedAt < CHOICE_ARMING_MS) {
          this.done(null);
          return false;
        }
        typeInto(this.editor, ch, key);
    }
    this.render();
    return true;
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Emoji picker: type to filter, Up/Down to choose, Enter inserts, Esc closes. */
export class EmojiPicker implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private readonly editor = new LineEditor();
  private results: EmojiEntry[] = [];
  private selected = 0;
  private readonly rows = 10;
  constructor(
    screen: blessed.Widgets.Screen,
    private readonly done: (emoji: string | null) => void,
  ) {
    this.box = dialog(screen, 'emoji', this.rows + 4, 44);
    this.update();
    this.box.setFront();
  }
  private update(): void {
    this.results = searchEmoji(this.editor.text, 200);
    this.selected = Math.min(this.selected, Math.max(0, this.results.length - 1));
    const start = Math.max(0, this.selected - this.rows + 1);
    const lines = this.results.slice(start, start + this.rows).map((e, i) => {
      const text = `${e.emoji}${' '.repeat(Math.max(1, 3 - displayWidth(e.emoji)))}:${e.name}:`;
      return start + i === this.selected ? `{inverse}${escapeTags(padRight(text, 38))}{/inverse}` : escapeTags(text);
    });
    this.box.setContent(
      [`search: ${escapeTags(this.editor.text)}_`, ...lines, ...(lines.length === 0 ? ['{gray-fg}no match{/gray-fg}'] : [])].join('\n'),
    );
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    switch (key.full) {
      case 'enter':
        this.done(this.results[this.selected]?.emoji ?? null);
        return true;
      case 'escape':
      case 'C-e':
        this.done(null);
        return true;
      case 'up':
        this.selected = Math.max(0, this.selected - 1);
        break;
      case 'down':
        this.selected = Math.min(this.results.length - 1, this.selected + 1);
        break;
      case 'backspace':
        this.editor.backspace();
        this.selected = 0;
        break;
      default: {
        const t = printable(ch, key);
        if (t !== null) {
          this.editor.insert(t);
          this.selected = 0;
        }
      }
    }
    this.update();
    return true;
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** Shows one modal at a time (later requests wait their turn) and routes keys to it. */
export class ModalHost {
  private current: Modal | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private cancelCurrent: (() => void) | null = null;
  /** When the person last pressed a key (unasked questions wait for a pause). */
  private lastKeyAt = Date.now();
  private closed = false;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly onClose: () => void = () => {},
  ) {}

  get active(): boolean {
    return this.current !== null;
  }

  /** Routes a key to the open modal: true when it took the key. */
  key(ch: string | undefined, key: KeyPress): boolean {
    this.lastKeyAt = Date.now();
    if (!this.current) return false;
    const taken = this.current.key(ch, key);
    this.screen.render();
    return taken;
  }

  /** Queues a modal; `skip`, asked when its turn comes, may answer instead of opening it. */
  private open<T>(make: (done: (v: T) => void) => Modal, cancelled: T, skip?: () => T | undefined): Promise<T> {
    const run = (): Promise<T> =>
      new Promise<T>((resolve) => {
        const skipped = skip?.();
        if (skipped !== undefined) return resolve(skipped);
        let modal: Modal | null = null;
        const done = (v: T): void => {
          if (modal === null || this.current !== modal) return;
          modal.destroy();
          this.current = null;
          this.cancelCurrent = null;
          this.onClose();
          this.screen.render();
          resolve(v);
        };
        modal = make(done);
        this.current = modal;
        this.cancelCurrent = () => done(cancelled);
        this.screen.render();
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  confirm(label: string, lines: string[]): Promise<boolean> {
    return this.open<boolean>((done) => new ConfirmModal(this.screen, label, lines, done), false);
  }

  /**
   * One key out of `choices`. An `unasked` question (a file offer) opens only once the input line
   * is empty and no key came for UNASKED_IDLE_MS, also when its turn in the queue comes; a key
   * that does not answer it puts it off to the next such moment. It resolves null without asking
   * once it is no longer wanted.
   */
  async choose(label: string, lines: string[], choices: readonly Choice[], unasked?: Unasked): Promise<string | null> {
    for (;;) {
      if (unasked && !(await this.idle(unasked))) return null;
      const answer = await this.open<ChoiceAnswer>(
        (done) => new ChoiceModal(this.screen, label, lines, choices, done, unasked !== undefined),
        null,
        unasked ? () => (!unasked.wanted() ? null : this.isIdle(unasked) ? undefined : PUT_OFF) : undefined,
      );
      if (answer !== PUT_OFF) return answer;
    }
  }

  private isIdle(unasked: Unasked): boolean {
    return this.current === null && Date.now() - this.lastKeyAt >= UNASKED_IDLE_MS && unasked.inputEmpty();
  }

  /** Waits for an idle moment: false when the question is no longer wanted (or the host is closed). */
  private async idle(unasked: Unasked): Promise<boolean> {
    while (!this.closed && unasked.wanted()) {
      if (this.isIdle(unasked)) return true;
      const rest = this.lastKeyAt + UNASKED_IDLE_MS - Date.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(rest, IDLE_CHECK_MS)).unref());
    }
    return false;
  }

  ask(question: string, initial: string): Promise<string | null> {
    return this.open<string | null>((done) => new AskModal(this.screen, question, initial, done), null);
  }

  pickEmoji(): Promise<string | null> {
    return this.open<string | null>((done) => new EmojiPicker(this.screen, done), null);
  }

  /** Cancel whatever is open, and drop the unasked questions waiting (on quit). */
  cancel(): void {
    this.closed = true;
    this.cancelCurrent?.();
  }
}
