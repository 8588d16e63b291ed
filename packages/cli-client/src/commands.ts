// Slash commands: each is declared once here, with its usage, help, what Tab completes in its
// arguments, how its arguments parse and what it does (as WeeChat and ssh-chat register commands).
// /help, completion and the controller all read this one table.
import type { ChatController } from './controller.js';
import { emojify } from './emoji.js';
import { devicesText } from './format.js';
import { edit, goto, listMentions, numberAndRest, react, remove, reply, search, showReactions } from './message-commands.js';
import { away, back, setStatus } from './presence-commands.js';
import { activeConversation } from './state.js';
import { FIELD_MAX, MAX_MUTE_SECONDS, ROOM_PATTERN, ROOM_RULE, USERNAME_PATTERN, USERNAME_RULE } from './rules.js';
import { nearest } from './near-miss.js';

/** What Tab completes at an argument position. */
export type ArgKind = 'nick' | 'room' | 'command' | 'device';

/** The words after the command name, and everything after it as typed. */
export interface Args {
  words: string[];
  rest: string /** what follows the first word, as typed */;
  afterFirst: string;
}

export interface CommandDef<A = unknown> {
  name: string;
  aliases?: readonly string[];
  usage: string;
  help: string;
  complete?: readonly ArgKind[];
  /** The arguments, or undefined to show the usage. */
  parse(args: Args): A | undefined;
  run(ctl: ChatController, args: A): Promise<void> | void;
}

function command<A>(def: CommandDef<A>): CommandDef<unknown> {
  return def as CommandDef<unknown>;
}

/** An argument the server would refuse: the message states the rule (never SCHEMA_VIOLATION). */
export class ArgumentError extends Error {}

/** `#lobby`, `#Lobby` and `lobby` all name the room `lobby`. */
export function roomName(arg: string): string {
  const name = (arg.startsWith('#') ? arg.slice(1) : arg).toLowerCase();
  if (!ROOM_PATTERN.test(name)) throw new ArgumentError(`"${arg}" cannot be a room: ${ROOM_RULE}`);
  return name;
}

/** `@Bob` and `bob` both name bob. */
function nick(arg: string): string {
  const name = (arg.startsWith('@') ? arg.slice(1) : arg).toLowerCase();
  if (!USERNAME_PATTERN.test(name)) throw new ArgumentError(`no user is called "${arg}": ${USERNAME_RULE}`);
  return name;
}

/** Optional text of a field with a length limit. */
function limited(text: string, field: keyof typeof FIELD_MAX): string | undefined {
  const max = FIELD_MAX[field];
  if (text.length > max) throw new ArgumentError(`the ${field} is ${text.length} characters long; at most ${max} fit`);
  return text === '' ? undefined : text;
}

/** A message or result number (1..9999). */
const positive = (rest: string): { n: number } | undefined =>
  /^\d{1,4}$/.test(rest) && Number(rest) > 0 ? { n: Number(rest) } : undefined;
const numberOnly = (rest: string): { n?: number } | undefined => (rest === '' ? {} : positive(rest));
const opt = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);
const none = (): Record<string, never> => ({});
const textArg = (a: Args): { text: string } | undefined => (a.rest === '' ? undefined : { text: a.rest });
const nickArg = (a: Args): { user: string } | undefined => (a.words.length === 1 ? { user: nick(a.words[0]!) } : undefined);
const nickReason = (a: Args): { user: string; reason?: string } | undefined =>
  a.words[0] ? { user: nick(a.words[0]), reason: limited(a.afterFirst, 'reason') } : undefined;
const optionalRoom = (a: Args): { room?: string } | undefined =>
  a.words.length <= 1 ? { room: a.words[0] ? roomName(a.words[0]) : undefined } : undefined;
const fileArg = (a: Args): { file?: string } => ({ file: opt(a.rest) });
/** An optional message number, then text that must not be empty. */
const numberAndText = (a: Args): { n?: number; rest: string } | undefined => {
  const r = numberAndRest(a.rest);
  return r.rest === '' ? undefined : r;
};

/** IRC users try /nick: say plainly why there is none. */
export const NICK_UNSUPPORTED =
  '/nick is not supported: a username is fixed when the account is created (register another account for another name)';
/** Nor is there /invite: no room is closed to a user of the server. */
export const INVITE_UNSUPPORTED =
  "/invite is not needed: every user of the server can see and join every room, so tell them its name (/join #room). An invite code to register an account comes from the server's admin";
/** The commands that only say why they are not there, by name. */
const UNSUPPORTED: Readonly<Record<string, string>> = { nick: NICK_UNSUPPORTED, invite: INVITE_UNSUPPORTED };

export const COMMANDS: readonly CommandDef[] = [
  command({
    name: 'help',
    usage: '/help [command]',
    help: 'show commands and keys',
    complete: ['command'],
    parse: (a) => ({ topic: opt(a.words[0]?.replace(/^\//, '')) }),
    run: (ctl, a) => ctl.showHelp(a.topic),
  }),
  command({
    name: 'say',
    usage: '/say text',
    help: 'send text as it is (also: //text sends "/text")',
    parse: textArg,
    run: (ctl, a) => ctl.say(a.text, false),
  }),
  command({
    name: 'me',
    usage: '/me text',
    help: 'send an action ("* you text")',
    parse: textArg,
    run: (ctl, a) => ctl.say(a.text, true),
  }),
  command({
    name: 'join',
    aliases: ['j'],
    usage: '/join #room',
    help: 'join a room; creates it when it does not exist',
    complete: ['room'],
    parse: (a) => (a.words.length === 1 ? { room: roomName(a.words[0]!) } : undefined),
    run: (ctl, a) => ctl.join(a.room),
  }),
  command({
    name: 'create',
    usage: '/create #room [topic]',
    help: 'create an end-to-end encrypted room (with a topic)',
    parse: (a) => (a.words[0] ? { room: roomName(a.words[0]), topic: limited(a.afterFirst, 'topic') } : undefined),
    run: (ctl, a) => ctl.create(a.room, a.topic),
  }),
  command({
    name: 'part',
    aliases: ['leave'],
    usage: '/part [#room]',
    help: 'leave a room (one you own asks first: its owner role is given up), or close a direct conversation (default: this one)',
    complete: ['room'],
    parse: optionalRoom,
    run: (ctl, a) => ctl.part(a.room),
  }),
  command({
    name: 'rooms',
    aliases: ['list'],
    usage: '/rooms',
    help: 'list the rooms on the server',
    parse: none,
    run: (ctl) => ctl.listRooms(),
  }),
  command({
    name: 'names',
    usage: '/names [#room]',
    help: 'list the people in a room (default: this one)',
    complete: ['room'],
    parse: optionalRoom,
    run: (ctl, a) => ctl.names(a.room),
  }),
  command({
    name: 'topic',
    usage: '/topic [text]',
    help: 'show or set the room topic',
    parse: (a) => ({ text: limited(a.rest, 'topic') }),
    run: (ctl, a) => ctl.topic(a.text === undefined ? undefined : emojify(a.text)),
  }),
  command({
    name: 'msg',
    aliases: ['dm'],
    usage: '/msg nick text',
    help: 'send an end-to-end encrypted direct message',
    complete: ['nick'],
    parse: (a) => (a.words[0] && a.afterFirst !== '' ? { user: nick(a.words[0]), text: a.afterFirst } : undefined),
    run: (ctl, a) => ctl.msg(a.user, a.text),
  }),
  command({
    name: 'query',
    aliases: ['q'],
    usage: '/query nick',
    help: 'open a direct conversation (with yourself: notes that reach only your own devices)',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.openDm(a.user),
  }),
  command({
    name: 'away',
    usage: '/away [text]',
    help: 'mark yourself away; a text stands in for your status text until /back (one shows at a time)',
    parse: (a) => ({ text: limited(a.rest, 'status') }),
    run: (ctl, a) => away(ctl, a.text),
  }),
  command({
    name: 'back',
    usage: '/back',
    help: 'mark yourself online (the text /away set goes; the status text it stood in for comes back)',
    parse: none,
    run: (ctl) => back(ctl),
  }),
  command({
    name: 'status',
    usage: '/status [text|-]',
    help: 'your status text: set it (while away it replaces the away text; you stay away), - clears it, alone says it',
    parse: (a) => ({ text: a.rest === '' ? undefined : limited(a.rest, 'status') }),
    run: (ctl, a) => setStatus(ctl, a.text),
  }),
  command({
    name: 'users',
    aliases: ['who', 'w'],
    usage: '/users',
    help: 'list users and their presence',
    parse: none,
    run: (ctl) => ctl.listUsers(),
  }),
  command({
    name: 'whois',
    usage: '/whois nick',
    help: 'presence, status and safety-number state of a user',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.whois(a.user),
  }),
  command({
    name: 'devices',
    usage: '/devices [nick|remove id]',
    help: "your account's devices (or a user's), by id; /devices remove id logs a lost one of yours out for good (asks your password)",
    complete: ['nick', 'device'],
    parse: (a) => {
      if (a.words[0] === 'remove') return a.words.length === 2 ? { remove: a.words[1]! } : undefined;
      return a.words.length <= 1 ? { user: a.words[0] ? nick(a.words[0]) : undefined } : undefined;
    },
    run: async (ctl, a) => {
      if (a.remove !== undefined) return ctl.removeDevice(a.remove);
      const me = ctl.state.me ?? '';
      const own = a.user === undefined || a.user === me;
      ctl.notice(devicesText(a.user ?? me, own, await (own ? ctl.ownDevices() : ctl.client.listDevices(a.user)), ctl.now()));
    },
  }),
  command({
    name: 'passwd',
    usage: '/passwd',
    help: "change your account's password (asks the current one, then the new one twice; nothing is shown)",
    parse: none,
    run: (ctl) => ctl.changePassword(),
  }),
  command({
    name: 'history',
    usage: '/history [n]',
    help: 'load n older messages (1 to 1000, default 50)',
    parse: (a) => {
      if (a.words.length === 0) return { count: undefined };
      const n = Number(a.words[0]);
      return a.words.length === 1 && Number.isInteger(n) && n > 0 && n <= 1000 ? { count: n } : undefined;
    },
    run: (ctl, a) => ctl.olderHistory(a.count),
  }),
  command({
    name: 'search',
    usage: '/search [-a] words',
    help: 'search this conversation (-a: every conversation) in the history kept on this device',
    parse: textArg,
    run: (ctl, a) => search(ctl, a.text),
  }),
  command({
    name: 'goto',
    usage: '/goto N',
    help: 'open search result N',
    parse: (a) => positive(a.rest),
    run: (ctl, a) => goto(ctl, a.n),
  }),
  command({
    name: 'reply',
    aliases: ['re'],
    usage: '/reply [N] text',
    help: 'answer message N (1 = the newest; typing /reply numbers them); without N the newest from others',
    parse: numberAndText,
    run: (ctl, a) => reply(ctl, a.n, a.rest),
  }),
  command({
    name: 'react',
    usage: '/react [N] emoji',
    help: 'add or take back a reaction (:thumbsup: or an emoji; Ctrl+E picks one) on message N, else the newest',
    parse: numberAndText,
    run: (ctl, a) => react(ctl, a.n, a.rest),
  }),
  command({
    name: 'reactions',
    usage: '/reactions [N]',
    help: 'who reacted to message N (else the newest), with what',
    parse: (a) => numberOnly(a.rest),
    run: (ctl, a) => showReactions(ctl, a.n),
  }),
  command({
    name: 'edit',
    usage: '/edit [N] [text]',
    help: 'change your message N (else your newest); without text, puts its text in the input line to change. The original stays in the history of everyone who received it: /delete erases',
    parse: (a) => numberAndRest(a.rest),
    run: (ctl, a) => edit(ctl, a.n, a.rest),
  }),
  command({
    name: 'delete',
    aliases: ['del'],
    usage: '/delete [N]',
    help: "take back your message N (else your newest); in an open room, room operators may delete anyone's (end to end, only its author)",
    parse: (a) => numberOnly(a.rest),
    run: (ctl, a) => remove(ctl, a.n),
  }),
  command({
    name: 'mentions',
    usage: '/mentions',
    help: 'the recent messages that named you',
    parse: none,
    run: (ctl) => listMentions(ctl),
  }),
  command({
    name: 'bell',
    usage: '/bell [on|off]',
    help: 'ring the terminal bell on mentions and direct messages (kept for the next launch); alone: say which',
    parse: (a) => (a.rest === '' ? { on: undefined } : a.rest === 'on' || a.rest === 'off' ? { on: a.rest === 'on' } : undefined),
    run: (ctl, a) => ctl.setBell(a.on),
  }),
  command({
    name: 'retry',
    usage: '/retry',
    help: 'send again the lines the server refused',
    parse: none,
    run: (ctl) => ctl.retry(),
  }),
  command({
    name: 'ignore',
    usage: '/ignore [nick]',
    help: "hide a user's messages (without a nick: list who is ignored)",
    complete: ['nick'],
    parse: (a) => (a.words.length <= 1 ? { user: a.words[0] ? nick(a.words[0]).toLowerCase() : undefined } : undefined),
    run: (ctl, a) => ctl.ignore(a.user),
  }),
  command({
    name: 'unignore',
    usage: '/unignore nick',
    help: "show a user's messages again",
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.unignore(a.user.toLowerCase()),
  }),
  command({
    name: 'file',
    usage: '/file path',
    help: 'send a file here',
    aliases: ['upload', 'sendfile'],
    parse: textArg,
    run: (ctl, a) => ctl.sendFile(a.text),
  }),
  command({
    name: 'accept',
    usage: '/accept [name|id] [folder]',
    help: 'accept a file offer (default: the newest; asks where to save)',
    parse: (a) => ({ file: opt(a.words[0]), dir: opt(a.afterFirst) }),
    run: (ctl, a) => ctl.acceptOffer(a.file, a.dir),
  }),
  command({
    name: 'decline',
    usage: '/decline [name|id]',
    help: 'decline a file offer (default: the newest)',
    parse: fileArg,
    run: (ctl, a) => ctl.declineOffer(a.file),
  }),
  command({
    name: 'cancel',
    usage: '/cancel [name|id]',
    help: 'stop a file transfer, or withdraw a file you sent (default: the newest running)',
    parse: fileArg,
    run: (ctl, a) => ctl.cancelTransfer(a.file),
  }),
  command({
    name: 'verify',
    usage: '/verify nick',
    help: 'show the safety number and, if you answer y, mark the contact verified',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.verify(a.user),
  }),
  command({
    name: 'kick',
    usage: '/kick nick [reason]',
    help: 'remove a user from the room (they may join it again)',
    complete: ['nick'],
    parse: nickReason,
    run: (ctl, a) => ctl.client.kick(ctl.activeRoom(), a.user, a.reason),
  }),
  command({
    name: 'ban',
    usage: '/ban nick [reason]',
    help: 'ban a user from the server',
    complete: ['nick'],
    parse: nickReason,
    run: async (ctl, a) => {
      // The rooms the user was in say the ban; a pane that is not one of them says it here.
      const shown = activeConversation(ctl.state).members.some((m) => m.user === a.user);
      await ctl.client.ban({ user: a.user, ...(a.reason ? { reason: a.reason } : {}) });
      if (!shown) ctl.notice(`banned ${a.user} from the server${a.reason ? ` (${a.reason})` : ''}`);
    },
  }),
  command({
    name: 'unban',
    usage: '/unban nick | --address ADDR',
    help: 'lift a ban on a user or an address',
    complete: ['nick'],
    parse: (a) => {
      if (a.words[0] === '--address') return a.words.length === 2 ? { address: a.words[1]! } : undefined;
      return a.words.length === 1 && !a.words[0]!.startsWith('-') ? { user: nick(a.words[0]!) } : undefined;
    },
    run: async (ctl, a) => {
      await ctl.client.unban('address' in a ? { address: a.address } : { user: a.user });
      ctl.notice(`unbanned ${'address' in a ? a.address : a.user}`);
    },
  }),
  command({
    name: 'mute',
    usage: '/mute nick [seconds]',
    help: 'mute a user in the room',
    complete: ['nick'],
    parse: (a) => {
      if (!a.words[0] || a.words.length > 2) return undefined;
      if (a.words.length === 1) return { user: nick(a.words[0]), seconds: undefined };
      const s = Number(a.words[1]);
      if (Number.isInteger(s) && s > MAX_MUTE_SECONDS) {
        throw new ArgumentError(`a mute lasts at most ${MAX_MUTE_SECONDS} seconds (10 years); /mute nick alone lasts until /unmute`);
      }
      return Number.isInteger(s) && s > 0 ? { user: nick(a.words[0]), seconds: s } : undefined;
    },
    run: (ctl, a) => ctl.client.mute(ctl.activeRoom(), a.user, a.seconds),
  }),
  command({
    name: 'unmute',
    usage: '/unmute nick',
    help: 'unmute a user in the room',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.client.unmute(ctl.activeRoom(), a.user),
  }),
  command({
    name: 'op',
    usage: '/op nick',
    help: 'make a user a room operator',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.client.setRole(ctl.activeRoom(), a.user, 'op'),
  }),
  command({
    name: 'deop',
    usage: '/deop nick',
    help: 'remove the operator role',
    complete: ['nick'],
    parse: nickArg,
    run: (ctl, a) => ctl.client.setRole(ctl.activeRoom(), a.user, 'member'),
  }),
  command({
    name: 'nick',
    usage: '/nick',
    help: NICK_UNSUPPORTED.slice('/nick '.length),
    parse: none,
    run: () => {
      throw new Error(NICK_UNSUPPORTED);
    },
  }),
  command({
    name: 'invite',
    usage: '/invite',
    help: INVITE_UNSUPPORTED.slice('/invite '.length),
    parse: none,
    run: () => {
      throw new Error(INVITE_UNSUPPORTED);
    },
  }),
  command({
    name: 'clear',
    usage: '/clear',
    help: 'clear the message pane',
    parse: none,
    run: (ctl) => ctl.dispatch({ type: 'clear' }),
  }),
  command({
    name: 'quit',
    aliases: ['exit'],
    usage: '/quit',
    help: 'leave hush',
    parse: none,
    run: (ctl) => ctl.quit(),
  }),
];

const BY_NAME: ReadonlyMap<string, CommandDef> = new Map(
  COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])].map((n) => [n, c] as const)),
);

/** The command a name or alias (any case, with or without the slash) stands for. */
export function findCommand(name: string): CommandDef | undefined {
  return BY_NAME.get(name.replace(/^\//, '').toLowerCase());
}

/** The names Tab completes after a slash (aliases are typed as they are). */
export function commandNames(): string[] {
  return COMMANDS.map((c) => c.name);
}

/** The command or alias `name` was likely meant to be (a prefix, else one or two edits away). */
export function suggestCommand(name: string): string | undefined {
  if (name === '') return undefined;
  const names = [...BY_NAME.keys()];
  return COMMANDS.find((c) => c.name.startsWith(name))?.name ?? names.find((n) => n.startsWith(name)) ?? nearest(name, names);
}

export type ParseResult = { ok: true; command: CommandDef; args: unknown } | { ok: false; error: string };

const SAY = findCommand('say')!;

export function splitArgs(rest: string): Args {
  const trimmed = rest.trim();
  const words = trimmed === '' ? [] : trimmed.split(/\s+/);
  const m = /^\S+\s*([\s\S]*)$/.exec(trimmed);
  return { words, rest: trimmed, afterFirst: m ? m[1]!.trim() : '' };
}

/** The input line as a command and its arguments; plain text is /say. */
export function parseInput(line: string): ParseResult {
  if (line.startsWith('//')) return { ok: true, command: SAY, args: { text: line.slice(1) } };
  if (!line.startsWith('/')) {
    if (line.trim() === '') return { ok: false, error: '' };
    return { ok: true, command: SAY, args: { text: line } };
  }
  const m = /^\/(\S*)\s*([\s\S]*)$/.exec(line)!;
  const rawName = m[1]!;
  if (rawName === '')
    return { ok: false, error: 'a / alone is no command: type its name after it (/help lists them; // sends a literal /)' };
  const def = findCommand(rawName);
  if (!def) {
    const hint = suggestCommand(rawName.toLowerCase());
    const shown = rawName.length > 32 ? `${rawName.slice(0, 32)}…` : rawName;
    return {
      ok: false,
      error: `unknown command /${shown}${hint ? ` — did you mean /${hint}?` : ''} (/help lists commands; // sends a literal /)`,
    };
  }
  const unsupported = UNSUPPORTED[def.name];
  if (unsupported !== undefined) return { ok: false, error: unsupported };
  let args: unknown;
  try {
    args = def.parse(splitArgs(m[2]!));
  } catch (err) {
    if (err instanceof ArgumentError) return { ok: false, error: err.message };
    throw err;
  }
  return args === undefined ? { ok: false, error: `usage: ${def.usage} — ${def.help}` } : { ok: true, command: def, args };
}
