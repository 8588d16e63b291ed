import { describe, expect, it } from 'vitest';
import { formatLines } from '../src/format.js';
import { firstSelection, selectionKey } from '../src/selection.js';
import type { Conversation, Line } from '../src/state.js';

const msg = (id: string, from: string, text: string, extra: Partial<Extract<Line, { kind: 'message' }>> = {}): Line => ({
  kind: 'message',
  id,
  ts: Date.UTC(2026, 0, 5, 12, 0),
  from,
  text,
  action: false,
  mine: from === 'alice',
  mention: false,
  ...extra,
});

function room(lines: Line[], role: 'member' | 'op' = 'member'): Conversation {
  return {
    key: '#lobby',
    kind: 'room',
    name: 'lobby',
    topic: '',
    sealed: false,
    lines,
    unread: 0,
    mentions: 0,
    members: [{ user: 'alice', role, state: 'online', status: '' }] as Conversation['members'],
    scroll: 0,
    marker: null,
    typing: {},
  };
}

const lines = [
  msg('m1', 'bob', 'first'),
  msg('m2', 'alice', 'mine'),
  { kind: 'notice', ts: 0, level: 'info', text: 'bob joined' } as Line,
  msg('m3', 'bob', 'newest'),
  msg('local', 'alice', 'on its way', { pending: true }),
];
const key = (full: string) => ({ full });

describe('keyboard selection', () => {
  it('starts on the newest numbered message and moves over messages only', () => {
    const c = room(lines);
    expect(firstSelection(c)).toBe('m3');
    expect(firstSelection(room([]))).toBeUndefined();
    expect(selectionKey(c, null, 'm3', key('up'), 'alice')).toEqual({ kind: 'move', id: 'm2' });
    expect(selectionKey(c, null, 'm2', key('up'), 'alice')).toEqual({ kind: 'move', id: 'm1' });
    expect(selectionKey(c, null, 'm1', key('up'), 'alice')).toEqual({ kind: 'stay' });
    expect(selectionKey(c, null, 'm1', key('down'), 'alice')).toEqual({ kind: 'move', id: 'm2' });
    expect(selectionKey(c, null, 'm3', key('down'), 'alice')).toEqual({ kind: 'leave' });
    expect(selectionKey(c, null, 'm3', key('escape'), 'alice')).toEqual({ kind: 'leave' });
    expect(selectionKey(c, null, 'gone', key('up'), 'alice')).toEqual({ kind: 'leave' });
    expect(selectionKey(c, null, 'm3', key('x'), 'alice')).toEqual({ kind: 'pass' });
  });

  it('acts through the numbered commands, refusing what the server would', () => {
    const c = room(lines);
    expect(selectionKey(c, null, 'm1', key('r'), 'alice')).toEqual({ kind: 'input', text: '/reply 3 ' });
    expect(selectionKey(c, null, 'm1', key('enter'), 'alice')).toEqual({ kind: 'input', text: '/reply 3 ' });
    expect(selectionKey(c, null, 'm2', key('e'), 'alice')).toEqual({ kind: 'input', text: '/edit 2 mine' });
    expect(selectionKey(c, null, 'm1', key('e'), 'alice')).toMatchObject({ kind: 'refuse' });
    // /delete asks first, naming the message, or says in words why it may not (one home for that rule).
    expect(selectionKey(c, null, 'm2', key('d'), 'alice')).toEqual({ kind: 'run', command: '/delete 2' });
    expect(selectionKey(c, null, 'm1', key('d'), 'alice')).toEqual({ kind: 'run', command: '/delete 3' });
    expect(selectionKey(room(lines, 'op'), null, 'm1', key('d'), 'alice')).toEqual({ kind: 'run', command: '/delete 3' });
    expect(selectionKey(c, null, 'm3', key('+'), 'alice')).toEqual({ kind: 'react', n: 1 });
    const deleted = room([msg('d1', 'bob', 'x', { deleted: true })]);
    expect(selectionKey(deleted, null, 'd1', key('r'), 'alice')).toEqual({ kind: 'refuse', reason: 'that message was deleted' });
  });

  it('draws the selected message inverse, with its quote, and only it', () => {
    const rows = formatLines([msg('a', 'bob', 'hello'), msg('b', 'alice', 'hi', { replyTo: 'a' })], {
      width: 60,
      selected: 'b',
      numbered: true,
    });
    expect(rows[0]).not.toContain('{inverse}');
    expect(rows.slice(1)).toHaveLength(2);
    for (const r of rows.slice(1)) expect(r).toMatch(/^\{inverse\}.*\{\/inverse\}$/);
    expect(rows.join('\n')).toContain('[1]');
  });
});
