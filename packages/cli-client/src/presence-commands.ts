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

/** /away [text]: a text replaces the status text; without one, the status text stays. */
export async function away(ctl: ChatController, text: string | undefined): Promise<void> {
  const before = await setPresence(ctl, 'away', text);
  const kept = text ?? before.status;
  const replaced =
    text !== undefined && before.status !== '' && before.status !== text
      ? `; it replaces your status text ${quoted(before.status)} (one status text shows at a time)`
      : '';
  ctl.notice(`you are marked away${kept ? `: ${kept}` : ''} (/back when you return)${replaced}`);
}

/** /back: online again; the status text, an away text as a rule, is cleared. */
export async function back(ctl: ChatController): Promise<void> {
  const before = await setPresence(ctl, 'online', '');
  ctl.notice(`you are marked online${before.status ? ` (status text ${quoted(before.status)} cleared)` : ''}`);
}

/** /status text: the one status text; while away it replaces the away text, and she stays away. */
export async function setStatus(ctl: ChatController, text: string): Promise<void> {
  const state = ownPresence(ctl).state === 'away' ? 'away' : 'online';
  const before = await setPresence(ctl, state, text);
  if (state === 'online') return ctl.notice(`status set: ${text}`);
  const replaced = before.status !== '' && before.status !== text ? `; it replaces your away text ${quoted(before.status)}` : '';
  ctl.notice(`status set: ${text}${replaced} (one status text shows at a time). You are still away: /back when you return`);
}
