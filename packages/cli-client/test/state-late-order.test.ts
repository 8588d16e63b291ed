import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../src/sdk.js';
import { findConversation, initialState, numberedMessage, reduce, roomKey, type Action, type AppState } from '../src/state.js';

// A room message opened late (its sender's key came after later messages, e.g. read from the
// direct-message backlog after a restart's catch-up) takes its place in the server's order, as every
// other screen shows it; /reply N then names the same message everywhere.

const T = 1_000_000;

function msg(id: string, from: string, text: string, ts: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return { kind: 'room', id, ts, from, room: 'lobby', text, action: false, mine: from === 'bob', ...extra };
}

const shown = (m: ChatMessage, now = m.ts): Action => ({ type: 'message', message: m, now });

function lobby(...actions: Action[]): string[] {
  const s: AppState = [
    { type: 'me', user: 'bob' } as Action,
    { type: 'joined', room: 'lobby', activate: true } as Action,
    ...actions,
  ].reduce(reduce, initialState());
  return findConversation(s, roomKey('lobby'))!.lines.map((l) =>
    l.kind === 'message' ? `${l.from}: ${l.text}${l.pending ? ' (pending)' : ''}` : l.kind === 'notice' ? `-!- ${l.text}` : l.kind,
  );
}

describe('a message opened late', () => {
  it('takes its place by server id among the messages, above the lines this client added after it', () => {
    const lines = lobby(
      shown(msg('10', 'alice', 'lobby line while bob away', T)),
      shown(msg('14', 'alice', 'typed during outage 1', T + 2)),
      shown(msg('15', 'alice', 'typed during outage 2', T + 3)),
      { type: 'notice', level: 'info', text: 'Type /help for commands', now: T + 60_000 },
      shown(msg('13', 'carol', 'carol says hi in lobby', T + 1, { late: true }), T + 61_000),
      shown(msg('17', 'carol', 'carol during outage A', T + 4, { late: true }), T + 61_000),
    );
    expect(lines).toEqual([
      'alice: lobby line while bob away',
      'carol: carol says hi in lobby',
      'alice: typed during outage 1',
      'alice: typed during outage 2',
      'carol: carol during outage A',
      '-!- Type /help for commands',
    ]);
  });

  it('stays above our lines still pending; a live message still goes at the end', () => {
    const lines = lobby(
      shown(msg('10', 'alice', 'one', T)),
      shown(msg('12', 'alice', 'three', T + 2)),
      { type: 'outgoing', key: roomKey('lobby'), localId: 'local-1', from: 'bob', text: 'mine', action: false, now: T + 3 },
      shown(msg('11', 'carol', 'two', T + 1, { late: true }), T + 4),
      shown(msg('13', 'alice', 'four', T + 5)),
    );
    expect(lines).toEqual(['alice: one', 'carol: two', 'alice: three', 'alice: four', 'bob: mine (pending)']);
  });

  it('/reply N counts it where the server put it', () => {
    const s = [
      { type: 'me', user: 'bob' } as Action,
      { type: 'joined', room: 'lobby', activate: true } as Action,
      shown(msg('10', 'alice', 'one', T)),
      shown(msg('12', 'alice', 'three', T + 2)),
      shown(msg('11', 'carol', 'two', T + 1, { late: true })),
    ].reduce(reduce, initialState());
    const c = findConversation(s, roomKey('lobby'))!;
    expect([1, 2, 3].map((n) => numberedMessage(c, n)?.text)).toEqual(['three', 'two', 'one']);
  });
});
