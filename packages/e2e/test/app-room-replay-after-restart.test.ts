// After a restart, a catch-up may fetch again messages this device opened before it (its room cursor
// is saved a moment after the sender keys moved on): those are known and pass silently. What a
// server makes of them is still a replay, and said: an opened message pushed again, another
// message's envelope under an opened message's id, an opened envelope under a new id.
import { DeviceIdentity, deviceId, encodeSenderKeyDistribution, OutboundSenderKey } from '@hush/crypto';
import type { HushClient } from '@hush/client';
import type { ServerMessageOf } from '@hush/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prekeyBundleOf, sealerOf } from './helpers-app/direct.js';
import { EvilServer } from './helpers-app/evil-server.js';
import { AppFixture, collect, nextEvent } from './helpers-app/fixture.js';
import { bundleWire } from './helpers-app/raw-client.js';

type RoomWire = ServerMessageOf<'message'>;

const REPLAYED = '#vault, from bob: a message was played again by the server: ignored';

let evil: EvilServer;
let fx: AppFixture;
let alice: HushClient;
let alicePaths: Awaited<ReturnType<AppFixture['paths']>>;
let bob: DeviceIdentity;
let bobKey: OutboundSenderKey;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** Bob's room message `text` as the SDK seals it (envelope: u8 version 1 | u16 length + device id | sender-key message). */
function bobSays(text: string, msgId = evil.msgId()): RoomWire {
  const sealed = bobKey.encrypt(Buffer.from(JSON.stringify({ text, action: false })));
  const id = Buffer.from(deviceId(bob.signPublicKey), 'utf8');
  const head = Buffer.from([1, 0, 0]);
  head.writeUInt16BE(id.length, 1);
  const envelope = b64(Buffer.concat([head, id, sealed]));
  return { type: 'message', room: 'vault', msgId, ts: Date.now(), from: 'bob', text: '', action: false, envelope };
}

/** The server pushes `m` to alice and she shows `text` (the wait starts first). */
async function pushedAndShown(m: RoomWire, text: string): Promise<void> {
  const shown = nextEvent(alice, 'message', (x) => x.text === text);
  evil.connectionOf('alice').send(m);
  await shown;
}

beforeEach(async () => {
  fx = new AppFixture();
  evil = await EvilServer.start();
  bob = DeviceIdentity.generate();
  evil.directory.set('bob', [bundleWire(bob)]);
  evil.prekeys.set(bundleWire(bob).signKey, { signedPrekey: prekeyBundleOf(bob).signedPrekey, oneTime: [] });
  evil.rooms.push({ room: 'vault', topic: '', kind: 'e2e', members: 2, joined: true, role: 'member' });
  bobKey = OutboundSenderKey.create('vault', deviceId(bob.signPublicKey));
  alicePaths = await fx.paths();
  alice = await fx.user(evil, 'alice', { paths: alicePaths });
  const body = { roomKey: b64(encodeSenderKeyDistribution(bobKey.distribution())) };
  const envelope = sealerOf(bob).seal(evil.prekeyBundles('alice'), { from: 'bob', to: 'alice', seq: 1, body });
  evil.deliver('alice', { msgId: evil.msgId(), ts: Date.now(), from: 'bob', to: 'alice', envelope });
});

afterEach(async () => {
  await fx.cleanup();
  await evil.close();
});

/** Alice's device restarts; the catch-up of #vault is answered with `page`. Her notices and messages from the login on. */
async function restartWithCatchUp(page: RoomWire[]) {
  await alice.close();
  evil.roomHistory.set('vault', page);
  alice = await fx.connect(evil, { paths: alicePaths });
  const seen = { notices: collect(alice, 'notice'), messages: collect(alice, 'message') };
  await alice.login('alice');
  return seen;
}

describe('a restart and messages opened before it', () => {
  it('fetched again by the catch-up they pass silently; under another id, with another envelope, or pushed again, they are replays, said', async () => {
    const one = bobSays('one');
    const two = bobSays('two');
    await pushedAndShown(one, 'one');
    await pushedAndShown(two, 'two');

    // The catch-up (in id order): one, then two's envelope under one's id, two, one's envelope under
    // a new id, then three (new).
    const { notices, messages } = await restartWithCatchUp([
      one,
      { ...two, msgId: one.msgId },
      two,
      { ...one, msgId: evil.msgId() },
      bobSays('three'),
    ]);
    expect(messages.map((m) => m.text)).toEqual(['three']);
    expect(notices.map((n) => n.text)).toEqual([REPLAYED, REPLAYED]);

    // Pushed live, a message opened by the earlier run is played again: nothing asked for it.
    evil.connectionOf('alice').send(one);
    await pushedAndShown(bobSays('four'), 'four');
    expect(messages.map((m) => m.text)).toEqual(['three', 'four']);
    expect(notices.map((n) => n.text)).toEqual([REPLAYED, REPLAYED, REPLAYED]);
  });
});
