// Replies, reactions, edits, deletes, mentions and search from the input line. A message is named
// by its number from the newest (1 = the newest): typing one of these commands numbers the pane's
// messages, so the number to give is on screen, and freezes the numbers while the command is in the
// input line, so the message chosen is the one acted on whatever arrives meanwhile.
import { emojiFor, emojify } from './emoji.js';
import { formatTime } from './format.js';
import { bodyLines, stripControls } from './sanitize.js';
import type { ChatController } from './controller.js';
import type { SearchResult } from './sdk.js';
import {
  activeConversation,
  conversationTarget,
  dmKey,
  findConversation,
  messageNumber,
  numberedMessage,
  numberingOf,
  roomKey,
  type Conversation,
  type MessageLine,
  type Numbering,
} from './state.js';

/** Commands whose first argument is a message number: while one is being typed the pane shows the numbers. */
export const NUMBERED_COMMANDS = ['reply', 're', 'react', 'reactions', 'edit', 'delete', 'del'] as const; // with their aliases
const NUMBERED_INPUT = new RegExp(`^/(${NUMBERED_COMMANDS.join('|')})(\\s|$)`, 'i');

/** Whether the input line is one of the numbered commands (the view numbers the messages then). */
export function wantsNumbers(input: string): boolean {
  return NUMBERED_INPUT.test(input);
}

/**
 * The numbers the input line names messages by. They freeze when a numbered command appears in the
 * input line (typed, recalled, or put there by a selection key) and hold while it stays there, in
 * that conversation: a message arriving meanwhile gets no number and moves none.
 */
export class MessageNumbers {
  private frozen: Numbering | null = null;
  private running: Numbering | null = null;

  /** The input line of `conv` is now `input`: the numbers it names messages by, null while it names none. */
  follow(conv: Conversation, input: string): Numbering | null {
    if (conv.kind === 'status' || !wantsNumbers(input)) this.frozen = null;
    else if (this.frozen?.key !== conv.key) this.frozen = numberingOf(conv);
    return this.frozen;
  }

  /** Keeps `numbers` for the line just put in the input line, which names a message by them. */
  freeze(numbers: Numbering): void {
    this.frozen = numbers;
  }

  /**
   * Runs a command typed against `numbers` (null: the numbers now). A command names its message
   * before it awaits anything, so `of` answers it with these.
   */
  run<T>(numbers: Numbering | null, command: () => T): T {
    this.running = numbers;
    try {
      return command();
    } finally {
      this.running = null;
    }
  }

  /** The numbers of `conv` that the command being run was typed against; null: those of now. */
  of(conv: Conversation): Numbering | null {
    return this.running?.key === conv.key ? this.running : null;
  }
}

/** `2 some text` -> { n: 2, rest: 'some text' }; no leading number -> n undefined. */
export function numberAndRest(rest: string): { n?: number; rest: string } {
  const m = /^(\d{1,4})(?:\s+([\s\S]*))?$/.exec(rest.trim());
  if (!m) return { rest: rest.trim() };
  return { n: Number(m[1]), rest: (m[2] ?? '').trim() };
}

/** `:thumbsup:`, `thumbsup` or an emoji as typed -> the emoji; undefined when it is none of those. */
export function reactionEmoji(arg: string): string | undefined {
  const word = arg.trim();
  if (word === '' || /\s/.test(word)) return undefined;
  const code = /^:?([a-z0-9_+-]+):?$/i.exec(word);
  if (code) return emojiFor(code[1]!);
  const typed = emojify(word);
  return /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(typed) && typed.length <= 32 ? typed : undefined;
}

function here(ctl: ChatController): { conv: Conversation; target: { room: string } | { user: string } } {
  const conv = activeConversation(ctl.state);
  const target = conversationTarget(conv);
  if (!target) throw new Error('this is the status window: switch to a conversation first');
  return { conv, target };
}

/**
 * The message numbered `n` here, by the numbers the command was typed against; without `n`, the
 * newest (from others, or your own with `mine`).
 */
function pick(ctl: ChatController, conv: Conversation, n: number | undefined, who: 'any' | 'others' | 'mine'): MessageLine {
  // A line still on its way has no number yet: "your newest" or "1" would name the one before it.
  if (who === 'mine' && conv.lines.some((l) => l.kind === 'message' && l.pending === true)) throw new Error(STILL_SENDING);
  const numbers = ctl.messageNumbers.of(conv);
  if (n !== undefined) {
    const line = numberedMessage(conv, n, numbers);
    if (!line) throw new Error(`there is no message ${n} here (1 is the newest; /history loads older ones)`);
    return line;
  }
  const me = ctl.state.me;
  for (let i = 1; ; i++) {
    const line = numberedMessage(conv, i, numbers);
    if (!line) throw new Error(who === 'mine' ? 'you have no message here to change' : 'there is no message here to answer');
    if (line.deleted) continue;
    if (who === 'any' || (who === 'mine') === (line.from === me)) return line;
  }
}

/** Why /edit and /delete wait while a line of yours is pending. */
export const STILL_SENDING = 'your newest line here is still being sent: /edit or /delete it once "(sending…)" is gone from it';

/** Why a delete of someone else's message in an end-to-end room is refused (its members apply only the author's). */
export const E2E_DELETE_REFUSED = 'in an end-to-end room only its author can delete a message; moderators can /kick, /mute or /ban';

/** The start of a message, on one line, quoted (cut after a word where one ends): how a notice or a question names it. */
function quoted(line: MessageLine, max = 40): string {
  const flat = [...bodyLines(line.text).join(' ')];
  if (flat.length <= max) return `"${flat.join('')}"`;
  const cut = flat.slice(0, max).join('');
  const space = cut.lastIndexOf(' ');
  return `"${space > max / 2 ? cut.slice(0, space) : cut}…"`;
}

const short = (line: MessageLine): string => `${stripControls(line.from)}: ${quoted(line)}`;

export async function reply(ctl: ChatController, n: number | undefined, text: string): Promise<void> {
  const { conv, target } = here(ctl);
  const line = pick(ctl, conv, n, 'others');
  if (line.deleted) throw new Error('that message was deleted');
  await ctl.client.reply(target, line.id, emojify(text));
}

/** Adds the reaction, or takes it back when it is already yours. */
export async function react(ctl: ChatController, n: number | undefined, arg: string): Promise<void> {
  const emoji = reactionEmoji(arg);
  if (!emoji)
    throw new Error(`"${stripControls(arg)}" is not an emoji: give one, or a shortcode like :thumbsup: (Ctrl+E opens the picker)`);
  const { conv, target } = here(ctl);
  const line = pick(ctl, conv, n, 'any');
  if (line.deleted) throw new Error('that message was deleted');
  const mine = line.reactions?.some((r) => r.emoji === emoji && r.users.includes(ctl.state.me ?? ''));
  await ctl.client.react(target, line.id, emoji, !mine);
}

export function showReactions(ctl: ChatController, n: number | undefined): void {
  const { conv } = here(ctl);
  const line = pick(ctl, conv, n, 'any');
  const reactions = line.reactions ?? [];
  ctl.notice(
    reactions.length === 0
      ? `no reactions to ${short(line)}`
      : [`reactions to ${short(line)}:`, ...reactions.map((r) => `  ${stripControls(r.emoji)} ${r.users.map(stripControls).join(', ')}`)],
  );
}

/** Without text: the input line gets the command back with the old text to change. */
export async function edit(ctl: ChatController, n: number | undefined, text: string): Promise<void> {
  const { conv, target } = here(ctl);
  const line = pick(ctl, conv, n, 'mine');
  if (line.from !== ctl.state.me) throw new Error('you can only edit your own messages');
  if (line.deleted) throw new Error('that message was deleted');
  if (text === '') {
    // The line put back names the message by the numbers it was found by, frozen with it.
    const numbers = ctl.messageNumbers.of(conv) ?? numberingOf(conv);
    ctl.editor.set(`/edit ${messageNumber(conv, line.id, numbers)!} ${line.text}`);
    ctl.messageNumbers.freeze(numbers);
    return;
  }
  await ctl.client.edit(target, line.id, emojify(text));
  // Someone editing out a pasted secret must know the edit does not erase it.
  ctl.hintOnce('edit', EDIT_KEEPS_ORIGINAL, conv.key);
}

/** Said after the first edit of a run: an edit is shown everywhere, but erases nothing. */
export const EDIT_KEEPS_ORIGINAL =
  'edited: the original text stays in the history of everyone who received it (only /delete erases a message)';

/** Why a member's delete of someone else's message in an open room is refused before asking. */
export const MEMBER_DELETE_REFUSED =
  "you can delete only your own messages here: a room's operators and owner, and server admins, delete others'";

/** Whether the server would let me delete others' messages in this open room (unknown: let it judge). */
async function mayDeleteOthers(ctl: ChatController, conv: Conversation): Promise<boolean> {
  const role = conv.members.find((m) => m.user === ctl.state.me)?.role;
  if (role === undefined || role !== 'member') return true;
  const me = (await ctl.client.listUsers()).find((u) => u.user === ctl.state.me);
  return me?.role !== 'user';
}

/** Asks first, naming the message, and deletes that one whatever arrives while the question is open. */
export async function remove(ctl: ChatController, n: number | undefined): Promise<void> {
  const { conv, target } = here(ctl);
  const line = pick(ctl, conv, n, 'mine');
  if (line.deleted) throw new Error('that message is deleted already');
  const mine = line.from === ctl.state.me;
  // In an open room the server lets operators delete anyone's. End to end (a direct conversation, a
  // sealed room) no server can vouch for an operator, so members apply only the author's delete.
  if (!mine && conv.kind === 'dm') throw new Error('you can only delete your own messages');
  if (!mine && conv.sealed) throw new Error(E2E_DELETE_REFUSED);
  if (!mine && !(await mayDeleteOthers(ctl, conv))) throw new Error(MEMBER_DELETE_REFUSED);
  const whose = mine ? 'your' : `${stripControls(line.from)}'s`;
  const yes = await ctl.ui.confirm(`delete ${whose} message of ${formatTime(line.ts)} ${quoted(line, 30)}?`);
  if (yes !== true) return ctl.notice(yes === null ? 'not deleted: answer the question with y or n' : 'not deleted', 'info', conv.key);
  await ctl.client.delete(target, line.id);
  ctl.notice(`deleted ${whose} message of ${formatTime(line.ts)}`, 'info', conv.key);
}

const nameOf = (c: Conversation): string => (c.kind === 'room' ? `#${c.name}` : `@${c.name}`);

/** The newest messages that named you, in every open conversation. */
export function listMentions(ctl: ChatController, limit = 20): void {
  const found = ctl.state.conversations.flatMap((c) => c.lines.flatMap((l) => (l.kind === 'message' && l.mention ? [{ c, l }] : [])));
  found.sort((a, b) => a.l.ts - b.l.ts);
  const recent = found.slice(-limit);
  ctl.notice(
    recent.length === 0
      ? 'no mentions of you in the open conversations'
      : [
          `mentions of you (${recent.length}):`,
          ...recent.map(({ c, l }) => `  ${formatTime(l.ts)} ${stripControls(nameOf(c))} ${short(l)}`),
        ],
  );
}

/** `/search [-a] words`: this conversation, or with -a every conversation, in this device's local history. */
export async function search(ctl: ChatController, rest: string): Promise<void> {
  const all = /^-a(\s|$)/.test(rest);
  const words = all ? rest.slice(2).trim() : rest.trim();
  if (words === '') throw new Error('usage: /search [-a] words');
  const target = all ? undefined : here(ctl).target;
  const results = await ctl.client.search(words, target ? { target } : {});
  const shown = results.slice(0, 20);
  ctl.lastSearch = { words, shown };
  const where = (r: SearchResult): string => ('room' in r.target ? `#${r.target.room}` : `@${r.target.user}`);
  ctl.notice(
    shown.length === 0
      ? `search "${stripControls(words)}": nothing found${all ? '' : ' here (/search -a looks everywhere)'}`
      : [
          `search "${stripControls(words)}": ${results.length} found${results.length > shown.length ? `, the newest ${shown.length} shown` : ''} — /goto N opens one`,
          ...shown.map(
            (r, i) =>
              `  ${i + 1}. ${formatTime(r.message.ts)} ${stripControls(where(r))} ${stripControls(r.message.from)}: ${bodyLines(r.message.text).join(' ').slice(0, 80)}`,
          ),
        ],
  );
}

/** Opens the conversation of search result `n`, loading older history until the message is there. */
export async function goto(ctl: ChatController, n: number): Promise<void> {
  const last = ctl.lastSearch;
  if (!last) throw new Error('no search yet: /search words first');
  const result = last.shown[n - 1];
  if (!result) {
    const count = last.shown.length;
    if (count === 0) throw new Error(`the last search ("${stripControls(last.words)}") found nothing: /search words first`);
    throw new Error(`no search result ${n}: the last search found ${count} (${count === 1 ? '/goto 1' : `/goto 1 to ${count}`})`);
  }
  const key = 'room' in result.target ? roomKey(result.target.room) : dmKey(result.target.user);
  if ('user' in result.target) ctl.openDm(result.target.user);
  else if (findConversation(ctl.state, key)) ctl.dispatch({ type: 'switch', key });
  else await ctl.join(result.target.room);
  for (let page = 0; page < 20; page++) {
    const conv = findConversation(ctl.state, key);
    if (!conv || conv.lines.some((l) => l.kind === 'message' && l.id === result.message.id)) break;
    const before = conv.lines.length;
    await ctl.olderHistory();
    if (findConversation(ctl.state, key)?.lines.length === before) break;
  }
  const conv = findConversation(ctl.state, key);
  const at = conv ? messageNumber(conv, result.message.id) : undefined;
  ctl.notice(
    `found: ${formatTime(result.message.ts)} ${stripControls(result.message.from)}: ${bodyLines(result.message.text).join(' ').slice(0, 80)}` +
      (at === undefined ? '' : ` (message ${at} from the newest: /reply ${at} answers it)`),
    'info',
    key,
  );
  // On screen, selected: r, e, d and + act on it, Esc lets go.
  ctl.ui.reveal?.(key, result.message.id);
}
