import { decodeSenderKeyMessage, deviceId } from '@hush/crypto';
import { fromBase64Url, parseDirectEnvelope } from '@hush/protocol';
import { e2eRoom, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeRoomEnvelope } from '../src/room-keys.js';
import { unb64 } from '../src/wire.js';
import { Fixture, nextEvent } from './helpers.js';

// A device removed from its account (`hushd user remove-device`, a lost laptop) held the room keys
// the other members handed it. Once the server says so (key_change), each member's next message in
// an end-to-end room goes under a fresh key (a holder of the old one is gone: RoomKeyStore
// rotates), handed to the devices that remain and not to it.

describe('end-to-end rooms: a device removed from its account', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it("the members' next messages go under fresh keys handed to the remaining devices only; listDevices follows", async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    await e2eRoom('vault', alice, bob);
    const laptop = await fx.connect(s);
    await laptop.login('bob', passwordOf('bob'));
    const [phoneKey, laptopKey] = s.store.listDevices('bob').map((d) => d.signKey);
    // Each device lists the account's devices by the ids `hushd user devices` prints, and knows itself.
    const ids = [phoneKey, laptopKey].map((k) => deviceId(fromBase64Url(k!)));
    // With when each was added and last logged in, for one's own account only.
    const [phoneRow, laptopRow] = s.store.listDevices('bob');
    expect(await laptop.listDevices()).toEqual([
      { id: ids[0], thisDevice: false, added: phoneRow!.createdAt, lastLogin: phoneRow!.lastSeen },
      { id: ids[1], thisDevice: true, added: laptopRow!.createdAt, lastLogin: laptopRow!.lastSeen },
    ]);
    expect((await bob.listDevices()).filter((d) => d.thisDevice).map((d) => d.id)).toEqual([ids[0]]);
    expect(await alice.listDevices('bob')).toEqual(ids.map((id) => ({ id, thisDevice: false })));
    // alice's key reaches the laptop with her message.
    const onLaptop = nextEvent(laptop, 'message', (m) => m.text === 'to every device');
    await alice.send('vault', 'to every device');
    await onLaptop;

    // What `hushd user remove-device bob <laptop>` does beside the running server.
    const laptopClosed = nextEvent(laptop, 'closed');
    const told = nextEvent(alice, 'keyChange', (c) => c.user === 'bob');
    const last = s.store.lastMessageId();
    expect(s.store.deleteDevice('bob', laptopKey!)).toBe(true);
    s.store.queueAdminRequest({ action: 'devices', user: 'bob', address: null, reason: null });
    // Closed for good with the server's words (no reconnect: the device can no longer log in).
    expect((await laptopClosed)[0]).toEqual({ code: 'DEVICE_UNKNOWN', reason: 'this device was removed from the account' });
    await told;
    expect(await bob.listDevices()).toEqual([{ id: ids[0], thisDevice: true, added: phoneRow!.createdAt, lastLogin: phoneRow!.lastSeen }]);

    const atPhone = nextEvent(bob, 'message', (m) => m.text === 'after the removal');
    await alice.send('vault', 'after the removal');
    await atPhone;
    // Under a new key: the removed laptop's copy of alice's old one opens nothing said now.
    const keyIds = s.store
      .history({ room: 'vault' }, { limit: 100 })
      .messages.filter((m) => m.from === 'alice')
      .slice(-2)
      .map((m) => decodeSenderKeyMessage(decodeRoomEnvelope(unb64(m.envelope!)).message).keyId);
    expect(keyIds).toHaveLength(2);
    expect(keyIds[1]).not.toBe(keyIds[0]);
    // alice handed a fresh key to bob's remaining device: a DM to bob after the removal, not for the laptop.
    const handed = s.store
      .messagesAfter(last, 100)
      .filter((m) => m.kind === 'dm' && m.from === 'alice' && m.to === 'bob')
      .map((m) => parseDirectEnvelope(m.kind === 'dm' ? m.envelope : ''));
    expect(handed.length).toBeGreaterThan(0);
    for (const envelope of handed) {
      if (typeof envelope === 'string') throw new Error(envelope);
      expect([...envelope.entries.keys()]).toContain(phoneKey);
      expect([...envelope.entries.keys()]).not.toContain(laptopKey);
    }
  });
});
