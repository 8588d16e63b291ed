// /help text: the commands from the command table, the keys listed once here (the README repeats them).
import { COMMANDS, findCommand, suggestCommand, type CommandDef } from './commands.js';

export const KEYS: ReadonlyArray<[string, string]> = [
  ['Enter', 'send the input line (a pasted multi-line text goes as one message)'],
  ['PageUp / PageDown', 'scroll the message pane'],
  ['Alt+1..9, Alt+0', 'switch to conversation 1..9, 10'],
  ['Ctrl+N / Ctrl+P', 'next / previous conversation'],
  ['Up / Down', 'input history'],
  ['Tab', 'complete commands, nicks, #rooms, :emoji:, device ids (repeat to cycle)'],
  ['Ctrl+E', 'emoji picker (type to search, Enter inserts, Esc closes)'],
  ['Ctrl+O', 'focus the people list (Up/Down, Enter opens a direct message, Esc returns); or click a person'],
  ['Alt+Up / Ctrl+Up', 'select a message (Up/Down move): Enter or r reply, e edit, d delete, + react, Esc leaves'],
  ['Ctrl+W / Ctrl+U / Ctrl+K', 'delete word / to start / to end of the input'],
  ['paste', `more than 5 lines ask: y sends as one message, e edits, n drops`],
  ['file offer', 'a accepts (then Enter saves into the folder shown), d declines, l decides later'],
  ['Ctrl+C / Ctrl+D', 'quit (Ctrl+D on a line with text deletes the character under the cursor)'],
];

/**
 * What end-to-end encryption leaves the server, and who reads a room (SECURITY.md, "What is protected").
 * One entry per paragraph: the pane wraps it to its width (a line cut here would become a notice of its own).
 */
export const SERVER_SEES: readonly string[] = [
  'what the server sees:',
  '  of direct messages and rooms marked 🔒 (every room, unless a server admin made it open), and of their files: not the text (nor replies, edits, reactions) nor file names or contents, but room names, topics, members, who sends when and to whom, message and file sizes, devices (when each was added and last logged in), presence, how far you have read each conversation, IP addresses',
  '  of open rooms and their files: everything',
  'who reads a room: any user of the server may join any room and reads it from then on (🔒 keeps the server out, not other users; a kicked user may join again): keep what only some may read in direct messages',
];

const aliasText = (c: CommandDef): string => (c.aliases?.length ? ` (also ${c.aliases.map((a) => `/${a}`).join(', ')})` : '');

/** A command as /help says it: usage, what it does, its aliases. */
const commandText = (c: CommandDef): string => `${c.usage} — ${c.help}${aliasText(c)}`;

/**
 * /help: one line per command, key and paragraph, never cut by hand: the pane wraps each to its
 * width, so a line that does not fit continues under the gutter instead of leaving columns to pad.
 */
export function helpLines(topic?: string): string[] {
  if (topic) {
    const c = findCommand(topic);
    if (!c) {
      const near = suggestCommand(topic.replace(/^\//, '').toLowerCase());
      throw new Error(`no such command: /${topic}${near ? ` — did you mean /${near}?` : ''} (/help lists commands)`);
    }
    return [commandText(c)];
  }
  return ['commands:', ...COMMANDS.map((c) => `  ${commandText(c)}`), 'keys:', ...KEYS.map(([k, v]) => `  ${k} — ${v}`), ...SERVER_SEES];
}
