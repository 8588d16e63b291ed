import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { compareIds } from '../src/message-ids.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

// A restart catches up on a room before the direct-message backlog is read: the messages of a
// sender whose key is in that backlog (her first words in the room came while this device was away)
// wait for it, and open after later ones were shown. They come as `late`: the app puts them at their
// place in the server's order, not at the end.

describe('room messages opened once a late key comes', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('come after later ones, marked late (all that waited); by id they are in the server order', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bobPaths = await fx.paths();
    const bob = await fx.user(s, 'bob', { paths: bobPaths });
    const carol = await fx.user(s, 'carol');
    await e2eRoom('den', alice, bob, carol);
    await sentAndShown(alice, bob, 'before', 'den');
    await bob.close();

    // carol's first line in the room: her key goes to bob's device in a direct message, kept for it.
    for (const [who, text] of [
      [alice, 'alice 1'],
      [carol, 'carol 1'],
      [alice, 'alice 2'],
      [carol, 'carol 2'],
    ] as const)
      await who.send('den', text);
    const serverOrder = s.store.history({ room: 'den' }, { limit: 4 }).messages.map((m) => m.id);

    const again = await fx.connect(s, { paths: bobPaths });
    const messages = collect(again, 'message');
    const last = nextEvent(again, 'message', (m) => m.text === 'carol 2', 20_000);
    await again.login('bob');
    await last;
    expect(messages.map((m) => [m.text, m.late === true])).toEqual([
      ['alice 1', false],
      ['alice 2', false],
      ['carol 1', true],
      ['carol 2', true],
    ]);
    expect(messages.map((m) => m.id).sort(compareIds)).toEqual(serverOrder);
    expect(serverOrder.map((id) => messages.find((m) => m.id === id)?.text)).toEqual(['alice 1', 'carol 1', 'alice 2', 'carol 2']);
  });
});
