// The blessed screen over injected streams (process stdio in the CLI, fakes in tests). Bracketed
// paste is on: pasted text is cut out of the input before blessed's key parser sees it and
// arrives as one 'paste' keypress (KeyPress.paste), so a paste never becomes a flood of keys.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import blessed from 'blessed';
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON, BracketedPasteParser, type InputPiece } from '../paste.js';
import type { KeyPress } from './keys.js';
import { patchBlessedUnicode } from './unicode-patch.js';

export interface ScreenOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal?: string;
}

/** How long input may sit inside an unfinished paste before it is let through. */
const UNFINISHED_PASTE_MS = 1000;
/**
 * How long a trailing ESC (or ESC[, ESC[2...) waits for the rest of a paste marker: a terminal
 * sends a marker in one write, so the Escape key is held back no longer than this.
 */
const MARKER_WAIT_MS = 30;

/** A TERM that says 256 colours or more, and a COLORTERM that says 24-bit colour. */
const MANY_COLOURS_TERM = /-(256color|direct)$/i;
const TRUE_COLOUR = /^(truecolor|24bit)$/i;

/**
 * The terminal blessed is told to drive. blessed reads few terminfo entries (none for
 * tmux-256color, none it can compile for screen-256color) and falls back to 8-colour xterm: a
 * terminal that says it has 256 colours or more is driven as xterm-256color, whose entry blessed
 * ships. Any other TERM is kept; no TERM leaves the choice to blessed (windows-ansi on Windows).
 */
export function terminalFor(env: { TERM?: string | undefined; COLORTERM?: string | undefined }): string | undefined {
  if (!env.TERM) return undefined;
  return MANY_COLOURS_TERM.test(env.TERM) || TRUE_COLOUR.test(env.COLORTERM ?? '') ? 'xterm-256color' : env.TERM;
}

/** blessed's index for `gray` (bright black). */
const GREY = 8;

interface BlessedColours {
  reduce(colour: number, total: number): number;
  __hushPatched?: boolean;
}

/**
 * With 8 colours blessed draws each bright colour as its dark one, so grey (timestamps, gutters,
 * quotes, borders, hints) came out black, invisible on a dark background. Grey stays bright black
 * (ESC[90m): a terminal without the bright colours ignores it and draws the default colour.
 */
export function patchBlessedGrey(): void {
  const colours = createRequire(import.meta.url)('blessed/lib/colors') as BlessedColours;
  if (colours.__hushPatched) return;
  const reduce = colours.reduce.bind(colours);
  colours.reduce = (colour, total) => (colour === GREY && total > 2 ? GREY : reduce(colour, total));
  colours.__hushPatched = true;
}

type TtyInput = NodeJS.ReadableStream & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (mode: boolean) => unknown };

/**
 * What blessed reads: the terminal input minus pastes. Typed keys are re-emitted as 'data' in
 * order, synchronously, so a paste lands exactly between the keys typed before and after it.
 */
class PasteFilterInput extends EventEmitter {
  private readonly parser = new BracketedPasteParser();
  private readonly decoder = new StringDecoder('utf8');
  private stale: NodeJS.Timeout | null = null;
  private readonly onData = (chunk: Buffer | string): void => {
    this.deliver(this.parser.feed(typeof chunk === 'string' ? chunk : this.decoder.write(chunk)));
    if (this.stale) clearTimeout(this.stale);
    this.stale = null;
    // A paste (or an escape sequence) left open by a lost end marker must not swallow what follows.
    if (this.parser.open) {
      this.stale = setTimeout(() => this.deliver(this.parser.flush()), this.parser.inPaste ? UNFINISHED_PASTE_MS : MARKER_WAIT_MS);
      this.stale.unref?.();
    }
  };

  constructor(
    private readonly source: TtyInput,
    private readonly onPaste: (text: string) => void,
  ) {
    super();
    source.on('data', this.onData);
  }

  get isTTY(): boolean {
    return this.source.isTTY === true;
  }
  get isRaw(): boolean {
    return this.source.isRaw === true;
  }
  setRawMode(mode: boolean): this {
    this.source.setRawMode?.(mode);
    return this;
  }
  resume(): this {
    this.source.resume();
    return this;
  }
  pause(): this {
    this.source.pause();
    return this;
  }
  detach(): void {
    if (this.stale) clearTimeout(this.stale);
    this.source.removeListener('data', this.onData);
  }

  private deliver(pieces: InputPiece[]): void {
    for (const piece of pieces) {
      if (piece.kind === 'keys') this.emit('data', Buffer.from(piece.data, 'utf8'));
      else this.onPaste(piece.text);
    }
  }
}

export function createScreen(opts: ScreenOptions): blessed.Widgets.Screen {
  patchBlessedUnicode();
  patchBlessedGrey();
  let screen: blessed.Widgets.Screen | null = null;
  const input = new PasteFilterInput(opts.input as TtyInput, (text) => {
    const key: KeyPress = { full: 'paste', name: 'paste', paste: text };
    screen?.emit('keypress', undefined, key);
  });
  screen = blessed.screen({
    // @types/blessed declares input and output the wrong way round.
    input: input as unknown as blessed.Widgets.IScreenOptions['input'],
    output: opts.output as unknown as blessed.Widgets.IScreenOptions['output'],
    terminal: opts.terminal,
    smartCSR: true,
    fullUnicode: true,
    forceUnicode: true,
    autoPadding: false,
    warnings: false,
    title: 'hush',
    sendFocus: false,
  });
  opts.output.write(BRACKETED_PASTE_ON);
  screen.on('destroy', () => {
    opts.output.write(BRACKETED_PASTE_OFF);
    input.detach();
  });
  return screen;
}
