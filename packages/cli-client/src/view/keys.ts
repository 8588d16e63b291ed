// Keys -> intents for the chat screen. Pure, so the bindings are tested without a terminal.
import type { LineEditor } from '../line-editor.js';

/** `full` is 'paste' for a bracketed paste, whose text is `paste` (see view/screen.ts). */
export interface KeyPress {
  full: string;
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  paste?: string;
}

/** The line-editing keys, the same in every text field. */
export type EditOp = 'backspace' | 'delete' | 'left' | 'right' | 'home' | 'end' | 'killWord' | 'killToStart' | 'killToEnd';

export type Intent =
  | { kind: 'quit' }
  | { kind: 'submit' }
  | { kind: 'complete' }
  | { kind: 'historyPrev' }
  | { kind: 'historyNext' }
  | { kind: 'pageUp' }
  | { kind: 'pageDown' }
  | { kind: 'switchIndex'; index: number }
  | { kind: 'switchRelative'; delta: number }
  | { kind: 'emojiPicker' }
  | { kind: 'focusMembers' }
  | { kind: 'edit'; op: EditOp }
  | { kind: 'insert'; text: string }
  | { kind: 'paste'; text: string }
  | { kind: 'escape' }
  | { kind: 'none' };

const BINDINGS: Record<string, Intent> = {
  'C-c': { kind: 'quit' },
  'C-d': { kind: 'quit' },
  enter: { kind: 'submit' },
  tab: { kind: 'complete' },
  up: { kind: 'historyPrev' },
  down: { kind: 'historyNext' },
  pageup: { kind: 'pageUp' },
  pagedown: { kind: 'pageDown' },
  'C-n': { kind: 'switchRelative', delta: 1 },
  'C-p': { kind: 'switchRelative', delta: -1 },
  'C-e': { kind: 'emojiPicker' },
  'C-o': { kind: 'focusMembers' },
  backspace: { kind: 'edit', op: 'backspace' },
  delete: { kind: 'edit', op: 'delete' },
  left: { kind: 'edit', op: 'left' },
  right: { kind: 'edit', op: 'right' },
  home: { kind: 'edit', op: 'home' },
  'C-a': { kind: 'edit', op: 'home' },
  end: { kind: 'edit', op: 'end' },
  'C-w': { kind: 'edit', op: 'killWord' },
  'M-backspace': { kind: 'edit', op: 'killWord' },
  'C-u': { kind: 'edit', op: 'killToStart' },
  'C-k': { kind: 'edit', op: 'killToEnd' },
  escape: { kind: 'escape' },
};

/** Printable input: no control characters (those arrive as named keys); a paste as one line. */
export function printable(ch: string | undefined, key: KeyPress): string | null {
  if (key.paste !== undefined) return key.paste.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ');
  if (!ch || key.ctrl || key.meta) return null;
  if (/[\x00-\x1f\x7f-\x9f]/.test(ch)) return null;
  return ch;
}

export function applyEdit(editor: LineEditor, op: EditOp): void {
  editor[op === 'delete' ? 'del' : op]();
}

/** A key typed into a one-line text field (a dialog's or the login form's): an editing key or text. */
export function typeInto(editor: LineEditor, ch: string | undefined, key: KeyPress): void {
  const bound = BINDINGS[key.full];
  if (bound?.kind === 'edit') return applyEdit(editor, bound.op);
  // A line copied with its line break (a password from a note) must not end in a space.
  const text = printable(ch, key.paste === undefined ? key : { ...key, paste: key.paste.replace(/[\r\n]+$/, '') });
  if (text !== null) editor.insert(text);
}

/** `lineEmpty`: the input line holds no text. Ctrl+D quits only then, as in a shell; on a draft it deletes (a stray Ctrl+D lost it). */
export function chatIntent(ch: string | undefined, key: KeyPress, lineEmpty = true): Intent {
  if (key.paste !== undefined) return { kind: 'paste', text: key.paste };
  if (key.full === 'C-d' && !lineEmpty) return { kind: 'edit', op: 'delete' };
  const bound = BINDINGS[key.full];
  if (bound) return bound;
  const alt = /^M-([0-9])$/.exec(key.full);
  if (alt) return { kind: 'switchIndex', index: alt[1] === '0' ? 9 : Number(alt[1]) - 1 };
  const text = printable(ch, key);
  return text === null ? { kind: 'none' } : { kind: 'insert', text };
}
