import { MAX_DISTINCT_REACTIONS, type MessageRef } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import { ConversationLedger, type IncomingMessage } from '../src/conversation-ledger.js';

// The ledger alone: every client must reach the same state whatever order changes arrive in.

const msg = (id: number, from: string, text: string, ref?: MessageRef, kind: 'room' | 'dm' = 'room'): IncomingMessage => ({
  kind,
  id: String(id),
  ts: id,
  from,
  text,
  action: false,
  mine: false,
  ...(kind === 'room' ? { room: 'r' } : { peer: 'bob' }),
  ...(ref ? { ref } : {}),
});
const edit = (id: number, from: string, of: number, text: string) => msg(id, from, text, { kind: 'edit', msgId: String(of) });
const del = (id: number, from: string, of: number, kind: 'room' | 'dm' = 'room') =>
  msg(id, from, '', { kind: 'delete', msgId: String(of) }, kind);
const react = (id: number, from: string, of: number, emoji: string, on: boolean) =>
  msg(id, from, '', { kind: 'react', msgId: String(of), emoji, on });

function fold(items: IncomingMessage[]): ConversationLedger {
  const ledger = new ConversationLedger();
  for (const m of items) {
    if (m.ref && m.ref.kind !== 'reply') ledger.change(m);
    else ledger.message(m);
  }
  return ledger;
}

/** A deterministic shuffle (LCG), so a failure names its seed. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('ConversationLedger', () => {
  const original = msg(1, 'alice', 'v0');
  const changes = [
    edit(2, 'alice', 1, 'v1'),
    react(3, 'bob', 1, '👍', true),
    react(4, 'bob', 1, '👍', false),
    react(5, 'carol', 1, '👍', true),
    edit(6, 'mallory', 1, 'forged'),
    edit(7, 'alice', 1, 'v2'),
    react(8, 'bob', 1, '🎉', true),
    react(9, 'bob', 1, '🎉', true),
  ];

  it('ends in the same state in any order: newest edit by the author, one reaction per person and emoji', () => {
    const expected = fold([original, ...changes]).get('1');
    expect(expected).toMatchObject({
      text: 'v2',
      edited: true,
      reactions: [
        { emoji: '👍', users: ['carol'] },
        { emoji: '🎉', users: ['bob'] },
      ],
    });
    for (let seed = 1; seed <= 200; seed++) {
      const got = fold(shuffled([original, ...changes], seed)).get('1')!;
      expect({ seed, text: got.text, edited: got.edited }).toEqual({ seed, text: 'v2', edited: true });
      const reactions = Object.fromEntries((got.reactions ?? []).map((r) => [r.emoji, [...r.users].sort()]));
      expect({ seed, reactions }).toEqual({ seed, reactions: { '👍': ['carol'], '🎉': ['bob'] } });
    }
  });

  it('a delete is final in any order; in a direct conversation only the author deletes', () => {
    const items = [original, ...changes, del(10, 'alice', 1), edit(11, 'alice', 1, 'v3'), react(12, 'dan', 1, '👀', true)];
    for (let seed = 1; seed <= 100; seed++) {
      expect(fold(shuffled(items, seed)).get('1')).toMatchObject({ text: '', deleted: true });
      expect(fold(shuffled(items, seed)).get('1')?.reactions).toBeUndefined();
    }
    const dm = msg(1, 'alice', 'hello', undefined, 'dm');
    expect(fold([dm, del(2, 'bob', 1, 'dm')]).get('1')).toMatchObject({ text: 'hello' });
    expect(fold([dm, del(2, 'alice', 1, 'dm')]).get('1')).toMatchObject({ deleted: true });
  });

  it('keeps at most MAX_DISTINCT_REACTIONS emoji, the first ones by id, however many people react', () => {
    const items: IncomingMessage[] = [original];
    let id = 2;
    for (let u = 0; u < 50; u++)
      for (let e = 0; e < MAX_DISTINCT_REACTIONS + 5; e++) items.push(react(id++, `u${u}`, 1, String.fromCodePoint(0x1f600 + e), true));
    const forward = fold(items).reactions('1');
    expect(forward).toHaveLength(MAX_DISTINCT_REACTIONS);
    expect(forward.every((r) => r.users.length === 50)).toBe(true);
    // Changes before their message (history paged back) land the same way.
    const backward = fold([...items.slice(1).reverse(), original]).reactions('1');
    expect(backward.map((r) => r.emoji)).toEqual(forward.map((r) => r.emoji));
  });

  it('reports changes that change something, and nothing for unknown or refused ones', () => {
    const ledger = new ConversationLedger();
    expect(ledger.change(edit(2, 'alice', 1, 'early'))).toBeUndefined(); // kept for later
    expect(ledger.message(original)).toMatchObject({ text: 'early', edited: true });
    expect(ledger.change(edit(3, 'bob', 1, 'forged'))).toBeUndefined();
    expect(ledger.change(react(4, 'bob', 1, '👍', false))).toBeUndefined();
    expect(ledger.change(react(5, 'bob', 1, '👍', true))).toMatchObject({ by: 'bob', change: { kind: 'react', emoji: '👍', on: true } });
    expect(ledger.change(react(6, 'bob', 1, '👍', true))).toBeUndefined();
    expect(ledger.change(react(4, 'bob', 1, '👍', false))).toBeUndefined(); // older than the one applied
    expect(ledger.message(msg(9, 'bob', 'answer', { kind: 'reply', msgId: '1' }))).toMatchObject({ replyTo: '1', text: 'answer' });
  });
});
