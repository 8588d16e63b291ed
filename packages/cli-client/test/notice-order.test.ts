// Where a notice lands among our lines still on their way: an event of the connection goes above
// them, like a message from the server, so a burst typed during an outage reads "connection lost,
// reconnected, then the lines"; an answer to what the person did goes under them, where they look.
import { afterEach, describe, expect, it } from 'vitest';
import { ChatController } from '../src/controller.js';
import {
  activeConversation,
  findConversation,
  initialState,
  reduce,
  roomKey,
  STATUS_KEY,
  type Action,
  type AppState,
} from '../src/state.js';
import { FakeClient, quietUi } from './helpers/fake-client.js';

const lobby = roomKey('lobby');
const run = (...actions: Action[]): AppState => actions.reduce(reduce, initialState());
const typed = (n: number): Action => ({
  type: 'outgoing',
  key: lobby,
  localId: `local:${n}`,
  from: 'bob',
  text: `line ${n}`,
  action: false,
  now: n,
});
const acked = (n: number): Action => ({ type: 'sent', key: lobby, localId: `local:${n}`, id: `m${n}`, ts: 100 + n });
const notice = (text: string): Action => ({ type: 'notice', level: 'warn', text, now: 50, event: true });
const answer = (text: string): Action => ({ type: 'notice', level: 'info', text, now: 50 });
/** The lobby as it reads, top to bottom. */
const shown = (s: AppState): string[] =>
  findConversation(s, lobby)!.lines.map((l) =>
    l.kind === 'notice' ? `-!- ${l.text}` : l.kind === 'message' ? `${l.text}${l.pending ? ' (sending…)' : ''}` : l.kind,
  );

describe('notices and lines still sending', () => {
  it('a burst of ten with the connection lost after line 4: the notices stay above the lines sent after them', () => {
    const burst: Action[] = [
      { type: 'me', user: 'bob' },
      { type: 'joined', room: 'lobby', activate: true },
    ];
    for (let n = 1; n <= 4; n++) burst.push(typed(n), acked(n));
    burst.push(typed(5), notice('connection lost'), typed(6), typed(7));
    let s = run(...burst);
    const stored = ['line 1', 'line 2', 'line 3', 'line 4', '-!- connection lost'];
    expect(shown(s)).toEqual([...stored, 'line 5 (sending…)', 'line 6 (sending…)', 'line 7 (sending…)']);
    s = [typed(8), typed(9), typed(10), notice('reconnected'), ...[5, 6, 7, 8, 9, 10].map(acked)].reduce(reduce, s);
    expect(shown(s)).toEqual([...stored, '-!- reconnected', ...[5, 6, 7, 8, 9, 10].map((n) => `line ${n}`)]);
  });

  it('an answer to what the person did (long text split, a command) goes under the lines they just sent', () => {
    const s = run({ type: 'joined', room: 'lobby', activate: true }, typed(1), typed(2), answer('long text: sent as 2 messages'));
    expect(shown(s)).toEqual(['line 1 (sending…)', 'line 2 (sending…)', '-!- long text: sent as 2 messages']);
  });

  it('with nothing on its way a notice goes at the bottom', () => {
    const s = run({ type: 'joined', room: 'lobby', activate: true }, typed(1), acked(1), notice('hello'));
    expect(shown(s)).toEqual(['line 1', '-!- hello']);
  });
});

describe('why the connection dropped', () => {
  const running: ChatController[] = [];
  afterEach(() => {
    for (const ctl of running.splice(0)) ctl.stop();
  });
  const started = async () => {
    const client = new FakeClient();
    const ui = quietUi();
    const ctl = new ChatController({ client, ui, downloadsDir: '/home/me/Downloads', now: () => 1_700_000_000_000, readMarkDelayMs: 1 });
    running.push(ctl);
    await ctl.start();
    return { client, ctl };
  };
  const said = (ctl: ChatController, key?: string): string[] =>
    (key ? findConversation(ctl.state, key)! : activeConversation(ctl.state)).lines.flatMap((l) => (l.kind === 'notice' ? [l.text] : []));

  it('after the server said goodbye SERVER_SHUTDOWN, the pane in front says it is shutting down, once, not that the connection was lost', async () => {
    const { client, ctl } = await started();
    client.emit('notice', { level: 'warn', code: 'SERVER_SHUTDOWN', text: 'the server is shutting down' });
    client.emit('state', 'reconnecting');
    client.emit('state', 'ready');
    expect(said(ctl).slice(-2)).toEqual([
      'the server is shutting down (most often to restart); reconnecting… (what you type is kept and sent once back)',
      'reconnected',
    ]);
    expect(said(ctl, STATUS_KEY).join('\n')).not.toContain('shutting down');
    // The next drop without a goodbye is a lost connection again.
    client.emit('state', 'reconnecting');
    expect(said(ctl).at(-1)).toBe('connection lost; reconnecting… (what you type is kept and sent once back)');
  });
});
