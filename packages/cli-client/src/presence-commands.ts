// /away, /back and /status. The server keeps one presence per user: a state (online or away) and
// one status text (presence_set). /away's text and /status's text are that one text, so a command
// that replaces a different text says so, rather than letting it vanish unseen.
import type { ChatController } from './controller.js';
import type { PresenceState } from './sdk.js';

interface Presence {
  state: PresenceState;
  status: string;
}

/** This user's presence as last heard (their own presence events, else a room's member list). */
function ownPresence(ctl: ChatController): Presence {
  const me = ctl.state.me ?? '';
  const heard = ctl.state.presence[me] ?? ctl.state.conversations.flatMap((c) => c.members).find((m) => m.user === me);
  return { state: heard?.state ?? 'online', status: heard?.status ?? '' };
}

/** Sets the presence and keeps it in the state at once (the server's own event, batched, follows). */
async function setPresence(ctl: ChatController, state: 'online' | 'away', status: string | undefined): Promise<Presence> {
  const before = ownPresence(ctl);
  await ctl.client.setPresence(state, status);
  if (ctl.state.me) ctl.dispatch({ type: 'presence', user: ctl.state.me, state, status: status ?? before.status });
  return before;
}

/** `"lunch"` in quotes, for a status text named inside a sentence. */
const quoted = (text: string): string => `"${text}"`;

/**
 * What /away put in place, so that /back puts back the status text it replaced (per controller);
 * `awayText` null: the text was set with /status while away, and stays.
 */
const awayTexts = new WeakMap<ChatController, { awayText: string | null; replaced: string }>();

/** /away [text]: a text replaces the status text (for the time away); without one, the status text stays. */
export async function away(ctl: ChatController, text: string | undefined): Promise<void> {
  const before = await setPresence(ctl, 'away', text);
  const kept = text ?? before.status;
  const replacing = text !== undefined && before.status !== '' && before.status !== text;
  if (text !== undefined) awayTexts.set(ctl, { awayText: text, replaced: awayTexts.get(ctl)?.replaced ?? before.status });
  const replaced = replacing ? `; it stands in for your status text ${quoted(before.status)} until /back` : '';
  ctl.notice(`you are marked away${kept ? `: ${kept}` : ''} (/back when you return)${replaced}`);
}

/**
 * /back: online again. The text /away set goes, and the status text it stood in for comes back; a
 * text set with /status stays. Away set elsewhere (another device, an earlier run): its text goes.
 */
export async function back(ctl: ChatController): Promise<void> {
  const current = ownPresence(ctl).status;
  const memory = awayTexts.get(ctl);
  awayTexts.delete(ctl);
  if (memory && current !== '' && current !== memory.awayText) {
    await setPresence(ctl, 'online', undefined);
    return ctl.notice(`you are marked online; your status text stays: ${quoted(current)} (/status - clears it)`);
  }
  const restored = memory?.replaced ?? '';
  await setPresence(ctl, 'online', restored);
  const cleared = current
    ? ` (away text ${quoted(current)} cleared${restored ? `; your status text ${quoted(restored)} is back` : ''})`
    : '';
  ctl.notice(`you are marked online${cleared}`);
}

/**
 * /status text: the one status text; while away it replaces the away text, and she stays away.
 * /status alone says the current one; /status - clears it.
 */
export async function setStatus(ctl: ChatController, text: string | undefined): Promise<void> {
  const now = ownPresence(ctl);
  if (text === undefined) {
    const what = now.status
      ? `your status text is ${quoted(now.status)} (/status - clears it)`
      : 'you have no status text (/status text sets one)';
    return ctl.notice(`you are ${now.state === 'away' ? 'away' : 'online'}; ${what}`);
  }
  const state = now.state === 'away' ? 'away' : 'online';
  if (state === 'away') awayTexts.set(ctl, { awayText: null, replaced: '' });
  else awayTexts.delete(ctl);
  const next = text === '-' ? '' : text;
  const before = await setPresence(ctl, state, next);
  const said = next === '' ? `status text cleared${before.status ? ` (it was ${quoted(before.status)})` : ''}` : `status set: ${next}`;
  if (state === 'online') return ctl.notice(said);
  const replaced =
    next !== '' && before.status !== '' && before.status !== next ? `; it replaces your away text ${quoted(before.status)}` : '';
  ctl.notice(`${said}${replaced} (one status text shows at a time). You are still away: /back when you return`);
}
