// A malicious server and an end-to-end room. Bob hands alice his sender key over their device
// session; the server then lies with room messages. What must hold: a tampered or forged message
// (a signature that does not verify) is not shown and is said; a message played again under a new
// server id is not shown twice and is said (after a restart too, while the messages opened before it
// that its catch-up fetches again pass silently); messages of a sender's chain delivered out of order
// each show once, and the gap and the late one are said; bob's envelope relayed as someone else's
// never shows as bob's; a room turned open by the server is refused, never used in clear; a member
// who holds bob's key cannot sign as bob; a message under a key bob never handed out stays closed, and is said.
import { randomBytes } from 'node:crypto';
import { DeviceIdentity, deviceId, encodeSenderKeyDistribution, OutboundSenderKey } from '@hush/crypto';
import type { HushClient } from '@hush/client';
import type { ServerMessageOf } from '@hush/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prekeyBundleOf, sealerOf } from './helpers-app/direct.js';
import { EvilServer } from './helpers-app/evil-server.js';
import { AppFixture, collect, nextEvent } from './helpers-app/fixture.js';
import { bundleWire } from './helpers-app/raw-client.js';

let evil: EvilServer;
let fx: AppFixture;
let alice: HushClient;
let alicePaths: Awaited<ReturnType<AppFixture['paths']>>;
let bob: DeviceIdentity;
let bobKey: OutboundSenderKey;
let bobSeq = 0;

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');

/** The SDK's room envelope: u8 version 1 | u16 length + sender device id | sender-key message. */
function roomEnvelope(device: string, message: Uint8Array): string {
  const id = Buffer.from(device, 'utf8');
  const head = Buffer.alloc(3);
  head[0] = 1;
  head.writeUInt16BE(id.length, 1);
  return b64(Buffer.concat([head, id, message]));
}

/** Bob seals `text` in #vault as the SDK does. */
function bobSays(text: string): Uint8Array {
  return bobKey.encrypt(Buffer.from(JSON.stringify({ text, action: false })));
}

/**
 * What another member, handed bob's key as every member is, can make of it: bob's chain and key id
 * at bob's next iteration, signed with a signing key of its own (bob's stays with bob).
 */
function forgedAsBob(): OutboundSenderKey {
  const d = bobKey.distribution();
  const s16 = (text: string): Buffer => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const u32 = (n: number): Buffer => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(n);
    return out;
  };
  // The versioned state of an outbound key: 0x01 | 'O' | room | device | key id | iteration | chain key | signing seed.
  const state = Buffer.concat([
    Buffer.from([1, 0x4f]),
    s16(d.room),
    s16(deviceId(bob.signPublicKey)),
    u32(d.keyId),
    u32(d.iteration),
    Buffer.from(d.chainKey),
    randomBytes(32),
  ]);
  return OutboundSenderKey.fromBytes(new Uint8Array(state));
}

/** Bob's sealed `message` as the server hands it out, in #vault. */
function roomWire(message: Uint8Array, o: { from?: string; msgId?: string } = {}): ServerMessageOf<'message'> {
  const envelope = roomEnvelope(deviceId(bob.signPublicKey), message);
  return {
    type: 'message',
    room: 'vault',
    msgId: o.msgId ?? evil.msgId(),
    ts: Date.now(),
    from: o.from ?? 'bob',
    text: '',
    action: false,
    envelope,
  };
}

function relay(message: Uint8Array, o: { from?: string; msgId?: string } = {}): string {
  const m = roomWire(message, o);
  evil.connectionOf('alice').send(m);
  return m.msgId;
}

/** Relays bob's `sealed` (by default `text` sealed now) and waits until alice shows `text`. */
async function relayShown(text: string, sealed = bobSays(text)): Promise<void> {
  const shown = nextEvent(alice, 'message', (m) => m.text === text);
  relay(sealed);
  await shown;
}

/** Alice's messages and notices from now on. */
function aliceSees() {
  return { messages: collect(alice, 'message'), notices: collect(alice, 'notice') };
}

/** Bob hands alice `key` in a DM over their session. */
function handKey(key: OutboundSenderKey): void {
  const body = { roomKey: b64(encodeSenderKeyDistribution(key.distribution())) };
  const envelope = sealerOf(bob).seal(evil.prekeyBundles('alice'), { from: 'bob', to: 'alice', seq: ++bobSeq, body });
  evil.deliver('alice', { msgId: evil.msgId(), ts: Date.now(), from: 'bob', to: 'alice', envelope });
}

/** Bob hands alice his key, and alice shows a first message. */
async function handOutKey(): Promise<void> {
  handKey(bobKey);
  await relayShown('first');
}

beforeEach(async () => {
  fx = new AppFixture();
  evil = await EvilServer.start();
  bob = DeviceIdentity.generate();
  bobSeq = 0;
  evil.directory.set('bob', [bundleWire(bob)]);
  evil.prekeys.set(bundleWire(bob).signKey, { signedPrekey: prekeyBundleOf(bob).signedPrekey, oneTime: [] });
  evil.rooms.push({ room: 'vault', topic: '', kind: 'e2e', members: 2, joined: true, role: 'member' });
  bobKey = OutboundSenderKey.create('vault', deviceId(bob.signPublicKey));
  alicePaths = await fx.paths();
  alice = await fx.user(evil, 'alice', { paths: alicePaths });
  await handOutKey();
});

afterEach(async () => {
  await fx.cleanup();
  await evil.close();
});

describe('malicious server: end-to-end room', () => {
  it('a tampered message (its signature fails) is not shown, and is said', async () => {
    const { messages, notices } = aliceSees();
    const forged = bobSays('pay mallory');
    const at = forged.length - 70; // inside the signed ciphertext
    forged[at] = forged[at]! ^ 1;
    relay(forged);
    await relayShown('honest');
    expect(messages.map((m) => m.text)).toEqual(['honest']);
    // The refused message's place in bob's chain stays empty: the next one is said to come after a gap.
    expect(notices.map((n) => n.text)).toEqual([
      expect.stringContaining('did not open (forged or damaged)'),
      expect.stringContaining('missing before this one'),
    ]);
  });

  it('a message played again under a new server id is shown once, and the replay is said', async () => {
    const { messages, notices } = aliceSees();
    const once = bobSays('transfer 10 coins');
    relay(once);
    relay(once);
    await relayShown('after');
    expect(messages.map((m) => m.text)).toEqual(['transfer 10 coins', 'after']);
    expect(notices.map((n) => n.text)).toEqual([expect.stringContaining('played again by the server')]);
  });

  it("messages of bob's chain reordered by the server each show once; the gap and the late one are said", async () => {
    const { messages, notices } = aliceSees();
    const two = bobSays('two');
    const three = bobSays('three');
    await relayShown('three', three);
    await relayShown('two', two);
    expect(messages.map((m) => m.text)).toEqual(['three', 'two']);
    expect(notices.map((n) => n.text)).toEqual([
      expect.stringContaining('missing before this one'),
      expect.stringContaining('arrived out of its order'),
    ]);
  });

  it('a room seen end to end that the server later calls open: said, nothing sent in clear, nothing shown in clear', async () => {
    const { messages, notices } = aliceSees();
    evil.rooms[0] = { ...evil.rooms[0]!, kind: 'open' };
    await alice.joinRoom('vault'); // the room list comes again, now saying open
    expect(notices.map((n) => n.code)).toEqual(['E2E_ROOM_DOWNGRADE']);
    await expect(alice.send('vault', 'in clear?')).rejects.toMatchObject({ code: 'E2E_ROOM_DOWNGRADE' });
    expect(evil.connectionOf('alice').received.filter((m) => m.type === 'send')).toEqual([]);
    evil
      .connectionOf('alice')
      .send({ type: 'message', room: 'vault', msgId: evil.msgId(), ts: Date.now(), from: 'bob', text: 'injected in clear', action: false });
    await relayShown('still sealed');
    expect(messages.map((m) => m.text)).toEqual(['still sealed']);
    expect(notices.map((n) => n.code)).toEqual(['E2E_ROOM_DOWNGRADE', 'E2E_ROOM_MESSAGE']);
  });

  it("bob's envelope relayed under another sender never shows as bob's (nor as theirs)", async () => {
    const messages = collect(alice, 'message');
    relay(bobSays('from bob, relabelled'), { from: 'mallory' });
    await relayShown('control');
    expect(messages.map((m) => [m.from, m.text])).toEqual([['bob', 'control']]);
  });

  it("a member holding bob's key cannot sign as bob: refused and said, and bob's own message of that place still opens", async () => {
    const { messages, notices } = aliceSees();
    const forged = forgedAsBob().encrypt(Buffer.from(JSON.stringify({ text: 'pay mallory', action: false })));
    relay(forged);
    await relayShown('bob, for real');
    expect(messages.map((m) => [m.from, m.text])).toEqual([['bob', 'bob, for real']]);
    expect(notices.map((n) => n.text)).toEqual([expect.stringContaining('did not open (forged or damaged)')]);
  });

  it('a message the server makes up under a key bob never handed out is not shown, and is said', async () => {
    const { messages, notices } = aliceSees();
    const made = OutboundSenderKey.create('vault', deviceId(bob.signPublicKey));
    relay(made.encrypt(Buffer.from(JSON.stringify({ text: 'made up', action: false }))));
    await relayShown('real');
    const said = await nextEvent(alice, 'notice', (n) => n.code === 'E2E_ROOM_MESSAGE', 30_000);
    expect(said[0].text).toMatch(/^#vault, from bob: a message could not be opened yet: the sender's key has not reached this device/);
    expect(messages.map((m) => m.text)).toEqual(['real']);
    expect(notices).toHaveLength(1);
  }, 60_000);

  it('a message played again after alice restarts is not shown again, and the replay is said', async () => {
    const once = bobSays('transfer 10 coins');
    await relayShown('transfer 10 coins', once);
    await alice.close();
    alice = await fx.connect(evil, { paths: alicePaths });
    await alice.login('alice');
    const { messages, notices } = aliceSees();
    relay(once);
    await relayShown('after the restart');
    expect(messages.map((m) => m.text)).toEqual(['after the restart']);
    expect(notices.map((n) => n.text)).toEqual([expect.stringContaining('played again by the server')]);
  });

  it('after a restart, messages opened before that the catch-up fetches again pass silently; under other ids, or pushed again, they are replays, said', async () => {
    const one = roomWire(bobSays('one'));
    const two = roomWire(bobSays('two'));
    for (const [m, text] of [
      [one, 'one'],
      [two, 'two'],
    ] as const) {
      const shown = nextEvent(alice, 'message', (x) => x.text === text);
      evil.connectionOf('alice').send(m);
      await shown;
    }
    await alice.close();
    // The catch-up (in id order): one, two's envelope under one's id, two, one's envelope under a
    // new id, then three (new). One and two were shown before the restart: they pass silently.
    evil.roomHistory.set('vault', [one, { ...two, msgId: one.msgId }, two, { ...one, msgId: evil.msgId() }, roomWire(bobSays('three'))]);
    alice = await fx.connect(evil, { paths: alicePaths });
    const { messages, notices } = aliceSees();
    await alice.login('alice');
    const replayed = expect.stringContaining('played again by the server');
    expect(messages.map((m) => m.text)).toEqual(['three']);
    expect(notices.map((n) => n.text)).toEqual([replayed, replayed]);

    // Pushed live, a message the earlier run opened is played again: nothing asked for it.
    evil.connectionOf('alice').send(one);
    await relayShown('four');
    expect(messages.map((m) => m.text)).toEqual(['three', 'four']);
    expect(notices.map((n) => n.text)).toEqual([replayed, replayed, replayed]);
  });

  it("a message whose sender's key is late is said after waiting, and opens once the key comes", async () => {
    const later = OutboundSenderKey.create('vault', deviceId(bob.signPublicKey));
    const atFirst = OutboundSenderKey.fromBytes(later.toBytes()); // handed as it stood before its first message
    const said = nextEvent(alice, 'notice', (n) => n.code === 'E2E_ROOM_MESSAGE', 30_000);
    relay(later.encrypt(Buffer.from(JSON.stringify({ text: 'under a late key', action: false }))));
    expect((await said)[0].text).toMatch(/^#vault, from bob: a message could not be opened/);
    const shown = nextEvent(alice, 'message', (m) => m.text === 'under a late key');
    handKey(atFirst);
    expect((await shown)[0]).toMatchObject({ from: 'bob', text: 'under a late key' });
  }, 60_000);
});
