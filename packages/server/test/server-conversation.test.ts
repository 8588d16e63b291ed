// Replies, edits, deletes and reactions in rooms, as raw protocol: what the server refuses that the
// SDK never sends, and what it keeps. (SDK-level tests: packages/client/test/conversation-features.test.ts.)
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { selfEnvelope as envelope, type RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const user = (name: string): Promise<RawClient> => fixture.user(name);

const idOf = (m: ServerMessage): string => {
  if (m.type !== 'ack') throw new Error(`expected an ack, got ${JSON.stringify(m)}`);
  return m.msgId;
};
const codeOf = (m: ServerMessage): string => (m.type === 'error' ? m.code : `no error: ${JSON.stringify(m)}`);

describe('message references in rooms', () => {
  it('refuses text on a delete or reaction, a missing text elsewhere, and references to references', async () => {
    const amy = await user('conv-amy');
    const target = idOf(await amy.request({ type: 'send', room: 'lobby', text: 'hello' }));
    expect(
      codeOf(await amy.request({ type: 'send', room: 'lobby', text: 'x', ref: { kind: 'react', msgId: target, emoji: '👍', on: true } })),
    ).toBe('BAD_REQUEST');
    expect(codeOf(await amy.request({ type: 'send', room: 'lobby', text: 'x', ref: { kind: 'delete', msgId: target } }))).toBe(
      'BAD_REQUEST',
    );
    expect(codeOf(await amy.request({ type: 'send', room: 'lobby' }))).toBe('BAD_REQUEST');
    expect(codeOf(await amy.request({ type: 'send', room: 'lobby', ref: { kind: 'reply', msgId: target } }))).toBe('BAD_REQUEST');
    const reaction = idOf(await amy.request({ type: 'send', room: 'lobby', ref: { kind: 'react', msgId: target, emoji: '👍', on: true } }));
    expect(
      codeOf(await amy.request({ type: 'send', room: 'lobby', text: 'edit a reaction', ref: { kind: 'edit', msgId: reaction } })),
    ).toBe('NOT_FOUND');
    // A control character in a reaction fails the schema (answered without `re`: the request did not parse).
    amy.sendRaw({ type: 'send', id: 'bad-emoji', room: 'lobby', ref: { kind: 'react', msgId: target, emoji: 'a\u0007', on: true } });
    expect(await amy.next((m) => m.type === 'error')).toMatchObject({ code: 'SCHEMA_VIOLATION', path: expect.stringContaining('emoji') });
    // A direct message's id is no room message either.
    const dm = idOf(await amy.request({ type: 'dm_send', to: 'conv-amy', envelope: envelope(amy, 4) }));
    expect(codeOf(await amy.request({ type: 'send', room: 'lobby', text: 'hi', ref: { kind: 'reply', msgId: dm } }))).toBe('NOT_FOUND');
  });

  it('a delete is relayed without text, redacts the store, is idempotent by key, and ends edits and reactions', async () => {
    const bea = await user('conv-bea');
    const cal = await user('conv-cal');
    const id = idOf(await bea.request({ type: 'send', room: 'lobby', text: 'secret plans' }));
    idOf(await bea.request({ type: 'send', room: 'lobby', text: 'secret plans v2', ref: { kind: 'edit', msgId: id } }));
    const del = idOf(await bea.request({ type: 'send', room: 'lobby', key: 'delete-key-0001', ref: { kind: 'delete', msgId: id } }));
    const relayed = await cal.next((m) => m.type === 'message' && m.msgId === del);
    expect(relayed).toMatchObject({ from: 'conv-bea', text: '', ref: { kind: 'delete', msgId: id } });
    expect(idOf(await bea.request({ type: 'send', room: 'lobby', key: 'delete-key-0001', ref: { kind: 'delete', msgId: id } }))).toBe(del);
    expect(codeOf(await bea.request({ type: 'send', room: 'lobby', ref: { kind: 'delete', msgId: id } }))).toBe('NOT_FOUND');
    expect(codeOf(await bea.request({ type: 'send', room: 'lobby', text: 'back', ref: { kind: 'edit', msgId: id } }))).toBe('NOT_FOUND');
    expect(codeOf(await cal.request({ type: 'send', room: 'lobby', ref: { kind: 'react', msgId: id, emoji: '👀', on: true } }))).toBe(
      'NOT_FOUND',
    );
    const page = await cal.request({ type: 'history', target: { room: 'lobby' }, limit: 50 });
    expect(page.type).toBe('history_page');
    const text = JSON.stringify(page);
    expect(text).not.toContain('secret plans');
    expect(page.type === 'history_page' && page.messages.find((m) => m.type === 'message' && m.msgId === id)).toMatchObject({
      text: '',
      deleted: true,
    });
  });

  it("a server admin deletes anyone's room message; a plain member does not", async () => {
    const dan = await user('conv-dan');
    const eve = await user('conv-eve');
    const id = idOf(await dan.request({ type: 'send', room: 'lobby', text: 'from dan' }));
    expect(codeOf(await eve.request({ type: 'send', room: 'lobby', ref: { kind: 'delete', msgId: id } }))).toBe('FORBIDDEN');
    await fixture.server.db.setServerRole('conv-eve', 'admin');
    const boss = await fixture.connect();
    boss.device = eve.device;
    expect(await boss.request(boss.deviceLoginRequest('conv-eve'))).toMatchObject({ type: 'welcome', role: 'admin' });
    idOf(await boss.request({ type: 'send', room: 'lobby', ref: { kind: 'delete', msgId: id } }));
    expect(await fixture.server.db.roomMessage('lobby', id)).toMatchObject({ text: '', deleted: true });
  });
});
