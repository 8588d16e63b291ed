// Picking a message with the keyboard: Alt+Up (or Ctrl+Up) selects the newest, Up/Down move, and a
// key acts on the selected one through the numbered commands (/reply N, /edit N, /delete N, /react N),
// N by the numbers the pane shows (`numbers`: frozen ones, or null for those of now), which the view
// runs the command with: the selected message is the one acted on, whatever arrives meanwhile.
// Pure: the view keeps the selected message's id and asks here what each key means.
import type { KeyPress } from './view/keys.js';
import { messageNumber, numberedMessage, type Conversation, type Numbering } from './state.js';

/** The keys that enter selection (blessed names them so for xterm's and tmux's Alt/Ctrl+Up). */
export const SELECT_KEYS: readonly string[] = ['M-up', 'C-up'];

/** What the status bar says while a message is selected. */
export const SELECTION_HINT = 'Enter/r reply, e edit, d delete, + react, Esc leaves';
/** The same where the status bar is narrow (80 columns): the keys alone. */
export const SELECTION_HINT_SHORT = 'r e d + Esc';

export type SelectionStep =
  /** Select this message instead. */
  | { kind: 'move'; id: string }
  /** Leave selection with this text in the input line, to finish and send. */
  | { kind: 'input'; text: string }
  /** Leave selection and run `command` (/delete N asks first). */
  | { kind: 'run'; command: string }
  /** Leave selection, pick an emoji, and run `/react N emoji`. */
  | { kind: 'react'; n: number }
  | { kind: 'refuse'; reason: string }
  | { kind: 'leave' }
  /** Leave selection; the key then does what it does on the input line. */
  | { kind: 'pass' }
  | { kind: 'stay' };

/** The message Alt+Up selects: the newest one that a number names. */
export function firstSelection(conv: Conversation, numbers: Numbering | null = null): string | undefined {
  return numberedMessage(conv, 1, numbers)?.id;
}

/** What `key` does to the selection `id` in `conv`, numbered by `numbers`; `me` is our user name. */
export function selectionKey(conv: Conversation, numbers: Numbering | null, id: string, key: KeyPress, me: string | null): SelectionStep {
  const n = messageNumber(conv, id, numbers);
  const line = n === undefined ? undefined : numberedMessage(conv, n, numbers);
  if (n === undefined || !line) return { kind: 'leave' }; // gone (cleared, or history trimmed)
  switch (key.full) {
    case 'up':
    case 'M-up':
    case 'C-up': {
      const older = numberedMessage(conv, n + 1, numbers);
      return older ? { kind: 'move', id: older.id } : { kind: 'stay' };
    }
    case 'down':
    case 'M-down':
    case 'C-down':
      return n === 1 ? { kind: 'leave' } : { kind: 'move', id: numberedMessage(conv, n - 1, numbers)!.id };
    case 'escape':
      return { kind: 'leave' };
  }
  const act = key.full === 'enter' ? 'r' : key.full;
  if (!['r', 'e', 'd', '+'].includes(act)) return { kind: 'pass' };
  if (line.deleted) return { kind: 'refuse', reason: 'that message was deleted' };
  const mine = line.from === me;
  switch (act) {
    case 'r':
      return { kind: 'input', text: `/reply ${n} ` };
    case 'e':
      return mine ? { kind: 'input', text: `/edit ${n} ${line.text}` } : { kind: 'refuse', reason: 'you can only edit your own messages' };
    case 'd':
      // Whether another's message may be deleted here, /delete says in words before asking.
      return { kind: 'run', command: `/delete ${n}` };
    default:
      return { kind: 'react', n };
  }
}
