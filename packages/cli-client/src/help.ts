// /help text: commands from the command table, keys listed once here (the README repeats them).
import { COMMANDS, NICK_UNSUPPORTED } from './commands.js';

export const KEYS: ReadonlyArray<[string, string]> = [
  ['PageUp / PageDown', 'scroll the message pane'],
  ['Alt+1..9', 'switch to conversation 1..9'],
  ['Ctrl+N / Ctrl+P', 'next / previous conversation'],
  ['Up / Down', 'input history'],
  ['Tab', 'complete commands, nicks, #rooms, :emoji: (repeat to cycle)'],
  ['Ctrl+E', 'emoji picker (type to search, Enter inserts, Esc closes)'],
  ['Ctrl+O', 'focus the people list (Up/Down, Enter opens a direct message, Esc returns); or click a person'],
  ['Ctrl+W / Ctrl+U / Ctrl+K', 'delete word / to start / to end of the input'],
  ['Ctrl+C / Ctrl+D', 'quit'],
];

export function helpLines(topic?: string): string[] {
  if (topic) {
    if (topic.toLowerCase() === 'nick') return [NICK_UNSUPPORTED];
    const c = COMMANDS.find((x) => x.name === topic.toLowerCase());
    return c ? [`${c.usage} — ${c.help}`] : [`no such command: /${topic}`];
  }
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  const keyWidth = Math.max(...KEYS.map(([k]) => k.length));
  return [
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.help}`),
    '  //text  sends "/text" literally',
    `  ${NICK_UNSUPPORTED}`,
    'keys:',
    ...KEYS.map(([k, v]) => `  ${k.padEnd(keyWidth)}  ${v}`),
  ];
}
