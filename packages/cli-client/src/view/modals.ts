// Modal dialogs drawn over the current screen: one key of a few (yes/no too), a prompted line, the emoji picker.
import blessed from 'blessed';
import { searchEmoji, type EmojiEntry } from '../emoji.js';
import { LineEditor } from '../line-editor.js';
import { escapeTags, stripControls } from '../sanitize.js';
import { padRight, displayWidth } from '../width.js';
import { wrap } from '../wrap.js';
import type { Choice, Unasked } from '../controller.js';
import { printable, typeInto, type KeyPress } from './keys.js';

export interface Modal {
  /** true when the key was consumed */
  key(ch: string | undefined, key: KeyPress): boolean;
  destroy(): void;
}

function dialog(screen: blessed.Widgets.Screen, label: string, height = 3, width: number | string = '70%'): blessed.Widgets.BoxElement {
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

/** Said instead of a question the terminal is too small to show whole: no answer counts then. */
export const TOO_SMALL = 'make the terminal larger to answer';

/**
 * A question's box for a `cols` x `rows` terminal: its plain `lines`, then a blank row and the
 * `footer` rows, each wrapped to the box (a line without spaces, a fingerprint, is cut only at the
 * edge). null when the whole of it does not fit: then nobody can answer what they cannot read.
 */
export function questionLayout(
  lines: readonly string[],
  footer: readonly string[],
  cols: number,
  rows: number,
): { width: number; body: string[]; footer: string[][] } | null {
  const widest = Math.max(...[...lines, ...footer].map((l) => displayWidth(stripControls(l))));
  // Two columns of border, one of padding each side.
  const inner = Math.min(widest, cols - 6);
  if (inner < 16) return null;
  const fit = (l: string): string[] => wrap(stripControls(l), inner);
  const body = lines.flatMap(fit);
  const foot = footer.map(fit);
  if (body.length + 1 + foot.flat().length + 2 > rows) return null;
  return { width: inner + 4, body, footer: foot };
}

/** What a key that does not answer a question does to it. */
export type StrayKeys =
  /** It closes the question unanswered and goes on to the input line. */
  | 'close'
  /** There is no input line: the key is dropped and the question waits for a pause again. */
  | 'ignore'
  /** Before the question is armed it goes on to the input line; after, it is dropped. */
  | 'keep';

/** Keys in the first moment after a prompt opens were meant for what was there before it. */
const CHOICE_ARMING_MS = 400;
/** A question nobody asked for (a file offer) opens only after this long without a key. */
export const UNASKED_IDLE_MS = 1500;
/** How often a waiting question looks again whether the input line is empty. */
const IDLE_CHECK_MS = 250;
/** A key that does not answer closed the question (an unasked one is asked again at the next pause). */
const UNANSWERED = Symbol('unanswered');
type ChoiceAnswer = string | null | typeof UNANSWERED;
const YES_NO: readonly Choice[] = [
  { key: 'y', label: 'yes' },
  { key: 'n', label: 'no' },
];

/**
 * One key out of a few ("[a] accept  [d] decline"); Esc answers null. `lines` are plain text.
 * The keys line shows, and keys count, only CHOICE_ARMING_MS after it opens (and, with 'ignore',
 * after the last key that did not answer): keys typed before were meant for something else. A paste
 * never answers, nor does any key while the terminal is too small to show the whole question.
 */
export class ChoiceModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private armed = false;
  private fits = false;
  private timer: NodeJS.Timeout | null = null;
  /** The screen has drawn itself for its new size before it tells us: draw again. */
  private readonly relayout = (): void => {
    this.render();
    this.screen.render();
  };
  constructor(
    private readonly screen: blessed.Widgets.Screen,
    label: string,
    private readonly lines: readonly string[],
    private readonly choices: readonly Choice[],
    private readonly done: (answer: ChoiceAnswer) => void,
    private readonly strays: StrayKeys = 'keep',
    private readonly hint?: string,
  ) {
    this.box = dialog(screen, label);
    this.box.setFront();
    screen.on('resize', this.relayout);
    this.arm();
  }
  /** Answers count only once no key came for CHOICE_ARMING_MS. */
  private arm(): void {
    this.armed = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.armed = true;
      this.render();
      this.screen.render();
    }, CHOICE_ARMING_MS);
    this.render();
  }
  private render(): void {
    const keys = this.choices.map((c) => `[${c.key}] ${c.label}`).join('   ');
    const layout = questionLayout(
      this.lines,
      this.hint ? [keys, this.hint] : [keys],
      this.screen.width as number,
      this.screen.height as number,
    );
    this.fits = layout !== null;
    if (!layout) {
      const cols = Math.max(1, Math.min(this.screen.width as number, TOO_SMALL.length + 4));
      const text = wrap(TOO_SMALL, Math.max(1, cols - 4));
      this.box.width = cols;
      this.box.height = Math.min(this.screen.height as number, text.length + 2);
      this.box.setContent(text.map((l) => ` ${l}`).join('\n'));
      return;
    }
    const [keyRows = [], hintRows = []] = layout.footer;
    const style = (tag: string) => (l: string) => `{${tag}}${escapeTags(l)}{/${tag}}`;
    // Until it is armed the keys line is held back (same size, so the box does not jump).
    const shown = this.armed ? keyRows.map(style('bold')) : keyRows.map((_, i) => (i === 0 ? style('gray-fg')('…') : ''));
    const footer = [...shown, ...hintRows.map(style('gray-fg'))];
    this.box.width = layout.width;
    this.box.height = layout.body.length + 1 + footer.length + 2;
    this.box.setContent([...layout.body.map(escapeTags), '', ...footer].map((l) => ` ${l}`).join('\n'));
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    const answering = this.armed && this.fits && key.paste === undefined;
    const hit = answering ? this.choices.find((c) => c.key === (ch ?? '').toLowerCase()) : undefined;
    if (hit || (answering && key.full === 'escape')) {
      this.done(hit ? hit.key : null);
      return true;
    }
    switch (this.strays) {
      case 'close':
        this.done(UNANSWERED);
        // Enter closes it and stops there: it never also sends what the input line holds.
        return key.full === 'enter' || key.full === 'return';
      case 'ignore':
        this.arm();
        return true;
      case 'keep':
        return this.armed;
    }
  }
  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.screen.removeListener('resize', this.relayout);
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
  /** The box follows the screen's width: the question is wrapped again, never cut. */
  private readonly relayout = (): void => {
    this.render();
    this.screen.render();
  };
  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly question: string,
    initial: string,
    private readonly done: (answer: string | null) => void,
  ) {
    this.box = dialog(screen, 'hush', 5);
    this.editor.set(initial);
    this.render();
    this.box.setFront();
    screen.on('resize', this.relayout);
  }
  private render(): void {
    this.box.setContent(questionContent(this.box, this.question, this.editor));
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
    this.screen.removeListener('resize', this.relayout);
    this.box.destroy();
  }
}

/**
 * Secrets (passwords) asked one after the other in one dialog, drawn as stars: Enter goes on to the
 * next question, so every key typed ahead, however fast, lands in a question and none reaches the
 * input line. Esc cancels them all.
 */
export class SecretsModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private readonly editor = new LineEditor();
  private readonly answers: string[] = [];
  /** The box follows the screen's width: the question is wrapped again, never cut. */
  private readonly relayout = (): void => {
    this.render();
    this.screen.render();
  };
  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly questions: readonly string[],
    private readonly done: (answers: string[] | null) => void,
  ) {
    this.box = dialog(screen, 'hush', 5);
    this.render();
    this.box.setFront();
    screen.on('resize', this.relayout);
  }
  private render(): void {
    this.box.setContent(questionContent(this.box, this.questions[this.answers.length] ?? '', this.editor, '*'));
  }
  key(ch: string | undefined, key: KeyPress): boolean {
    switch (key.full) {
      case 'enter':
        this.answers.push(this.editor.text);
        this.editor.set('');
        if (this.answers.length === this.questions.length) {
          this.done(this.answers);
          return true;
        }
        break;
      case 'escape':
        this.done(null);
        return true;
      default:
        typeInto(this.editor, ch, key);
    }
    this.render();
    return true;
  }
  destroy(): void {
    this.screen.removeListener('resize', this.relayout);
    this.box.destroy();
  }
}

/**
 * A question's dialog text: the question wrapped to the box (which grows to hold it: a long one names
 * what it is about at its end, a device id), the answer (masked with `mask`), how to answer.
 */
function questionContent(box: blessed.Widgets.BoxElement, question: string, editor: LineEditor, mask?: string): string {
  const inner = Math.max(10, (box.width as number) - 4);
  const rows = wrap(stripControls(question), inner);
  box.height = rows.length + 4;
  const v = editor.view(inner, mask);
  return `${rows.map((r) => escapeTags(r)).join('\n')}\n> ${escapeTags(v.text)}\n{gray-fg}Enter accepts, Esc cancels{/gray-fg}`;
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
    const list = lines.length === 0 ? ['{gray-fg}no match{/gray-fg}'] : lines;
    // The keys at the foot, where the list ends whatever its length.
    const hint = '{gray-fg}↑↓ choose · Enter inserts · Esc closes{/gray-fg}';
    this.box.setContent([`search: ${escapeTags(this.editor.text)}_`, ...list, ...Array(this.rows - list.length).fill(''), hint].join('\n'));
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
  /** Modals open or waiting their turn. */
  private queued = 0;
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
    // blessed gives a typed Enter twice, 'enter' then 'return': a question the Enter opened (/delete) keeps the echo.
    if (key.full === 'return') return true;
    const taken = this.current.key(ch, key);
    this.screen.render();
    return taken;
  }

  /**
   * Queues a modal; `skip`, asked when its turn comes, may answer instead of opening it. `now`: when
   * no other is open or waiting it opens before this returns, so keys read together with the one
   * that asked for it (typed ahead) already reach it, not the input line.
   */
  private open<T>(make: (done: (v: T) => void) => Modal, cancelled: T, skip?: () => T | undefined, now = false): Promise<T> {
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
    const next = now && this.queued === 0 ? run() : this.queue.then(run, run);
    this.queued++;
    this.queue = next.catch(() => undefined).finally(() => this.queued--);
    return next;
  }

  /**
   * A yes/no question that matters (trust, verify, delete): only y or n pressed once it is armed
   * answers, Esc says no. `lines` are plain text. A key that does not answer it either closes it
   * unanswered (null) and goes on to the input line, or, where there is no input line, is ignored.
   */
  async confirm(label: string, lines: readonly string[], strays: 'close' | 'ignore'): Promise<boolean | null> {
    const hint = strays === 'close' ? 'Esc: no · any other key closes this unanswered' : 'Esc: no · other keys do nothing';
    // Open at once: keys typed ahead with the one that asked (the selection's `d`) close it unanswered.
    const answer = await this.open<ChoiceAnswer>(
      (done) => new ChoiceModal(this.screen, label, lines, YES_NO, done, strays, hint),
      null,
      undefined,
      true,
    );
    return answer === 'y' ? true : answer === UNANSWERED ? null : false;
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
        (done) => new ChoiceModal(this.screen, label, lines, choices, done, unasked ? 'close' : 'keep'),
        null,
        unasked ? () => (!unasked.wanted() ? null : this.isIdle(unasked) ? undefined : UNANSWERED) : undefined,
      );
      if (answer !== UNANSWERED) return answer;
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

  /** A line of text. */
  ask(question: string, initial: string): Promise<string | null> {
    return this.open<string | null>((done) => new AskModal(this.screen, question, initial, done), null);
  }

  /** Secrets (passwords), never drawn, in one dialog that opens at once to take what is typed ahead. */
  secrets(questions: readonly string[]): Promise<string[] | null> {
    return this.open<string[] | null>((done) => new SecretsModal(this.screen, questions, done), null, undefined, true);
  }

  /**
   * The emoji picker, open at once so the keys read together with the one that asked for it (a
   * search typed ahead, its Enter) reach its search, not the input line. `picked` runs as the
   * picking key is read, before the keys after it.
   */
  pickEmoji(picked: (emoji: string) => void): void {
    const pick = (done: (emoji: string | null) => void) => (emoji: string | null) => {
      done(emoji);
      if (emoji) picked(emoji);
    };
    void this.open<string | null>((done) => new EmojiPicker(this.screen, pick(done)), null, undefined, true);
  }

  /** Cancel whatever is open, and drop the unasked questions waiting (on quit). */
  cancel(): void {
    this.closed = true;
    this.cancelCurrent?.();
  }
}
