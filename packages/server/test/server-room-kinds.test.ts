// Room kinds over the raw protocol: an e2e room stores and relays sealed envelopes only and refuses
// readable fields; an open room refuses envelopes; only a server admin creates an open room.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import type { RawClient } from '../src/raw-client.js';
import { rawServer } from './helpers/raw-server.js';

const fixture = rawServer();
const user = (name: string): Promise<RawClient> => fixture.user(name);

const codeOf = (m: ServerMessage): string => (m.type === 'error' ? m.code : `no error: ${JSON.stringify(m)}`);
const SEALED = '4gABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f';

/** `first`'s device logged in on a new connection (a server role set meanwhile applies). */
async function again(first: RawClient, name: string): Promise<{ client: RawClient; welcome: ServerMessage }> {
  const client = await fixture.connect();
  client.device = first.device;
  return { client, welcome: await client.request(client.deviceLoginRequest(name)) };
}

describe('room kinds', () => {
  it('an e2e room relays, stores and pages back the envelope alone, and refuses text, action and ref', async () => {
    const kim = await user('kind-kim');
    const lev = await user('kind-lev');
    await kim.expect({ type: 'room_create', room: 'sealed', kind: 'e2e' }, 'ok');
    await lev.expect({ type: 'room_join', room: 'sealed' }, 'ok');
    const ack = await kim.request({ type: 'send', room: 'sealed', envelope: SEALED, key: 'kind-key-00001' });
    expect(ack.type).toBe('ack');
    const msgId = ack.type === 'ack' ? ack.msgId : '';
    expect(await lev.next((m) => m.type === 'message' && m.room === 'sealed')).toEqual({
      type: 'message',
      room: 'sealed',
      msgId,
      ts: expect.any(Number),
      from: 'kind-kim',
      text: '',
      action: false,
      envelope: SEALED,
    });
    // A resend with the same key is the same message.
    expect(await kim.request({ type: 'send', room: 'sealed', envelope: SEALED, key: 'kind-key-00001' })).toMatchObject({
      type: 'ack',
      msgId,
    });
    for (const readable of [
      { text: 'in the clear' },
      { envelope: SEALED, text: 'both' },
      { envelope: SEALED, action: true },
      { envelope: SEALED, ref: { kind: 'reply', msgId } },
      { ref: { kind: 'delete', msgId } },
    ] as const) {
      const refused = await kim.request({ type: 'send', room: 'sealed', ...readable });
      expect(codeOf(refused)).toBe('BAD_REQUEST');
      expect(refused).toMatchObject({ message: expect.stringContaining('end-to-end encrypted') });
    }
    const page = await lev.request({ type: 'history', target: { room: 'sealed' }, limit: 10 });
    expect(page).toMatchObject({ type: 'history_page', messages: [{ msgId, text: '', action: false, envelope: SEALED }] });
    expect(JSON.stringify(page)).not.toContain('in the clear');
    // The store never held the refused text either.
    expect((await fixture.server.db.history({ room: 'sealed' }, { limit: 10 })).messages).toEqual([
      { kind: 'room', id: msgId, ts: expect.any(Number), from: 'kind-kim', room: 'sealed', text: '', action: false, envelope: SEALED },
    ]);
  });

  it("an open room refuses an envelope; room lists and the welcome say each room's kind", async () => {
    const max = await user('kind-max');
    const refused = await max.request({ type: 'send', room: 'lobby', envelope: SEALED });
    expect(codeOf(refused)).toBe('BAD_REQUEST');
    expect(refused).toMatchObject({ message: expect.stringContaining('open room') });
    await max.expect({ type: 'room_create', room: 'default-kind' }, 'ok');
    const list = await max.request({ type: 'room_list' });
    expect(list.type === 'rooms' && list.rooms.map((r) => [r.room, r.kind])).toEqual(
      expect.arrayContaining([
        ['lobby', (await fixture.server.db.getRoom('lobby'))!.kind],
        ['default-kind', (await fixture.server.db.getRoom('default-kind'))!.kind],
        ['sealed', 'e2e'],
      ]),
    );
    const { welcome } = await again(max, 'kind-max');
    const kinds =
      welcome.type === 'welcome'
        ? await Promise.all(welcome.rooms.map(async (r) => [r.kind, (await fixture.server.db.getRoom(r.room))?.kind]))
        : [];
    expect(kinds.length).toBeGreaterThan(0);
    for (const [announced, stored] of kinds) expect(announced).toBe(stored);
  });

  it('only a server admin creates an open room', async () => {
    const ned = await user('kind-ned');
    const refused = await ned.request({ type: 'room_create', room: 'town', kind: 'open' });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(await fixture.server.db.getRoom('town')).toBeUndefined();
    await fixture.server.db.setServerRole('kind-ned', 'admin');
    const { client: boss, welcome } = await again(ned, 'kind-ned');
    expect(welcome).toMatchObject({ type: 'welcome', role: 'admin' });
    await boss.expect({ type: 'room_create', room: 'town', kind: 'open' }, 'ok');
    expect((await fixture.server.db.getRoom('town'))!.kind).toBe('open');
    expect(await boss.request({ type: 'send', room: 'town', text: 'readable by design' })).toMatchObject({ type: 'ack' });
  });
});
