// The input line as a typed command. Pure: no client, no view.

export type Command =
  | { kind: 'say'; text: string }
  | { kind: 'help'; topic?: string }
  | { kind: 'join'; room: string }
  | { kind: 'part'; room?: string }
  | { kind: 'rooms' }
  | { kind: 'topic'; text?: string }
  | { kind: 'msg'; user: string; text: string }
  | { kind: 'query'; user: string }
  | { kind: 'me'; text: string }
  | { kind: 'away'; text?: string }
  | { kind: 'back' }
  | { kind: 'status'; text: string }
  | { kind: 'users' }
  | { kind: 'history'; count?: number }
  | { kind: 'search'; text: string }
  | { kind: 'file'; path: string }
  | { kind: 'accept'; fileId?: string; dir?: string }
  | { kind: 'decline'; fileId?: string }
  | { kind: 'cancel'; fileId?: string }
  | { kind: 'whois'; user: string }
  | { kind: 'unban'; user?: string; address?: string }
  | { kind: 'verify'; user: string }
  | { kind: 'kick'; user: string; reason?: string }
  | { kind: 'ban'; user: string; reason?: string }
  | { kind: 'mute'; user: string; seconds?: number }
  | { kind: 'unmute'; user: string }
  | { kind: 'op'; user: string }
  | { kind: 'deop'; user: string }
  | { kind: 'create'; room: string; topic?: string }
  | { kind: 'clear' }
  | { kind: 'quit' };

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

export interface CommandSpec { name: string; usage: string; help: string }

/** One table drives parsing, /help and completion. */
export const COMMANDS: readonly CommandSpec[] = [
  { name: 'help', usage: '/help [command]', help: 'show commands and keys' },
  { name: 'join', usage: '/join #room', help: 'join a room' },
  { name: 'part', usage: '/part [#room]', help: 'leave a room (default: the current one)' },
  { name: 'rooms', usage: '/rooms', help: 'list rooms on the server' },
  { name: 'topic', usage: '/topic [text]', help: 'show or set the room topic' },
  { name: 'msg', usage: '/msg nick text', help: 'send an end-to-end encrypted direct message' },
  { name: 'query', usage: '/query nick', help: 'open a direct conversation' },
  { name: 'me', usage: '/me text', help: 'send an action ("* you text")' },
  { name: 'away', usage: '/away [text]', help: 'mark yourself away' },
  { name: 'back', usage: '/back', help: 'mark yourself online' },
  { name: 'status', usage: '/status text', help: 'set your status text' },
  { name: 'users', usage: '/users', help: 'list users and their presence' },
  { name: 'history', usage: '/history [n]', help: 'load older messages' },
  { name: 'search', usage: '/search text', help: 'search loaded messages of this conversation' },
  { name: 'file', usage: '/file path', help: 'send a file here' },
  { name: 'accept', usage: '/accept [fileId] [dir]', help: 'accept a file offer (asks where to save)' },
  { name: 'decline', usage: '/decline [fileId]', help: 'decline a file offer' },
  { name: 'cancel', usage: '/cancel [fileId]', help: 'stop a file transfer, sending or receiving (default: the newest running)' },
  { name: 'whois', usage: '/whois nick', help: 'presence, status and safety-number state of a user' },
  { name: 'verify', usage: '/verify nick', help: 'show the safety number and mark the contact verified' },
  { name: 'kick', usage: '/kick nick [reason]', help: 'remove a user from the room' },
  { name: 'ban', usage: '/ban nick [reason]', help: 'ban a user from the server' },
  { name: 'unban', usage: '/unban nick | --address ADDR', help: 'lift a ban on a user or an address' },
  { name: 'mute', usage: '/mute nick [seconds]', help: 'mute a user in the room' },
  { name: 'unmute', usage: '/unmute nick', help: 'unmute a user in the room' },
  { name: 'op', usage: '/op nick', help: 'make a user a room operator' },
  { name: 'deop', usage: '/deop nick', help: 'remove operator role' },
  { name: 'create', usage: '/create #room [topic]', help: 'create a room' },
  { name: 'clear', usage: '/clear', help: 'clear the message pane' },
  { name: 'quit', usage: '/quit', help: 'leave hush' },
];

/** IRC users try /nick: say plainly why there is none. */
export const NICK_UNSUPPORTED = '/nick is not supported: a username is fixed when the account is created (register another account for another name)';

const ALIASES: Record<string, string> = { j: 'join', leave: 'part', q: 'query', exit: 'quit', w: 'users', who: 'users', dm: 'msg' };

function usage(name: string): ParseResult {
  const spec = COMMANDS.find((c) => c.name === name);
  return { ok: false, error: `usage: ${spec ? spec.usage : '/' + name}` };
}

/** `#lobby` and `lobby` both name the room `lobby`. */
export function roomName(arg: string): string {
  return arg.startsWith('#') ? arg.slice(1) : arg;
}

function nick(arg: string): string {
  return arg.startsWith('@') ? arg.slice(1) : arg;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

export function suggestCommand(name: string): string | undefined {
  const prefixed = COMMANDS.find((c) => c.name.startsWith(name));
  if (prefixed && name.length > 0) return prefixed.name;
  let best: { name: string; d: number } | undefined;
  for (const c of COMMANDS) {
    const d = distance(name, c.name);
    if (!best || d < best.d) best = { name: c.name, d };
  }
  return best && best.d <= 2 ? best.name : undefined;
}

/** Split off the first whitespace-separated word. */
function head(s: string): [string, string] {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(s.trim());
  return m ? [m[1]!, m[2]!.trim()] : ['', ''];
}

export function parseInput(line: string): ParseResult {
  if (line.startsWith('//')) return { ok: true, command: { kind: 'say', text: line.slice(1) } };
  if (!line.startsWith('/')) {
    if (line.trim() === '') return { ok: false, error: '' };
    return { ok: true, command: { kind: 'say', text: line } };
  }
  const [rawName, rest] = head(line.slice(1));
  const lower = rawName.toLowerCase();
  const name = ALIASES[lower] ?? lower;
  const [a1, afterA1] = head(rest);
  const [a2, afterA2] = head(afterA1);
  const opt = (s: string): string | undefined => (s === '' ? undefined : s);
  const need = (ok: boolean, command: Command): ParseResult => (ok ? { ok: true, command } : usage(name));
  switch (name) {
    case 'help': return { ok: true, command: { kind: 'help', topic: opt(a1.replace(/^\//, '')) } };
    case 'join': return need(a1 !== '', { kind: 'join', room: roomName(a1) });
    case 'part': return { ok: true, command: { kind: 'part', room: a1 === '' ? undefined : roomName(a1) } };
    case 'rooms': return { ok: true, command: { kind: 'rooms' } };
    case 'topic': return { ok: true, command: { kind: 'topic', text: opt(rest) } };
    case 'msg': return need(a1 !== '' && afterA1 !== '', { kind: 'msg', user: nick(a1), text: afterA1 });
    case 'query': return need(a1 !== '', { kind: 'query', user: nick(a1) });
    case 'me': return need(rest !== '', { kind: 'me', text: rest });
    case 'away': return { ok: true, command: { kind: 'away', text: opt(rest) } };
    case 'back': return { ok: true, command: { kind: 'back' } };
    case 'status': return need(rest !== '', { kind: 'status', text: rest });
    case 'users': return { ok: true, command: { kind: 'users' } };
    case 'history': {
      if (a1 === '') return { ok: true, command: { kind: 'history' } };
      const n = Number(a1);
      return need(Number.isInteger(n) && n > 0 && n <= 1000, { kind: 'history', count: n });
    }
    case 'search': return need(rest !== '', { kind: 'search', text: rest });
    case 'file': return need(rest !== '', { kind: 'file', path: rest });
    case 'accept': return { ok: true, command: { kind: 'accept', fileId: opt(a1), dir: opt(afterA1) } };
    case 'decline': return { ok: true, command: { kind: 'decline', fileId: opt(a1) } };
    case 'cancel': return need(afterA1 === '', { kind: 'cancel', fileId: opt(a1) });
    case 'whois': return need(a1 !== '' && afterA1 === '', { kind: 'whois', user: nick(a1) });
    case 'unban': {
      if (a1 === '--address') return need(a2 !== '' && afterA2 === '', { kind: 'unban', address: a2 });
      return need(a1 !== '' && !a1.startsWith('-') && afterA1 === '', { kind: 'unban', user: nick(a1) });
    }
    case 'nick': return { ok: false, error: NICK_UNSUPPORTED };
    case 'verify': return need(a1 !== '', { kind: 'verify', user: nick(a1) });
    case 'kick': return need(a1 !== '', { kind: 'kick', user: nick(a1), reason: opt(afterA1) });
    case 'ban': return need(a1 !== '', { kind: 'ban', user: nick(a1), reason: opt(afterA1) });
    case 'mute': {
      if (a1 === '') return usage(name);
      if (a2 === '') return { ok: true, command: { kind: 'mute', user: nick(a1) } };
      const s = Number(a2);
      return need(Number.isInteger(s) && s > 0 && afterA2 === '', { kind: 'mute', user: nick(a1), seconds: s });
    }
    case 'unmute': return need(a1 !== '', { kind: 'unmute', user: nick(a1) });
    case 'op': return need(a1 !== '', { kind: 'op', user: nick(a1) });
    case 'deop': return need(a1 !== '', { kind: 'deop', user: nick(a1) });
    case 'create': return need(a1 !== '', { kind: 'create', room: roomName(a1), topic: opt(afterA1) });
    case 'clear': return { ok: true, command: { kind: 'clear' } };
    case 'quit': return { ok: true, command: { kind: 'quit' } };
    default: {
      const hint = suggestCommand(lower);
      const shown = rawName.length > 32 ? rawName.slice(0, 32) + '…' : rawName;
      return {
        ok: false,
        error: `unknown command /${shown}` + (hint ? ` — did you mean /${hint}? (/help lists commands; // sends a literal /)` : ' (/help lists commands; // sends a literal /)'),
      };
    }
  }
}
