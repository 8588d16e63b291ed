// A malicious server. The SDK talks to a server that pins fine and speaks the protocol but
// lies about keys and direct messages (which travel on Double Ratchet sessions between devices). What must hold: a replayed DM is never shown twice (a new
// server id on an old envelope is a `replay` warning), a dropped one is a `gap` warning, a DM sealed
// for someone else or under another sender is `undecryptable` and not shown, a swapped or added
// device key is a `keyChange`, and sending to a verified contact whose keys changed is refused
// with E2E_KEY_CHANGED before anything leaves the client.
import { DeviceIdentity } from '@hush/crypto';
import { isHushError, type ChatMessage, type HushClient } from '@hush/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectSealer, prekeyBundleOf } from './helpers-app/direct.js';
import { EvilServer } from './helpers-app/evil-server.js';
import { AppFixture, collect, nextEvent, passwordOf } from './helpers-app/fixture.js';
import { bundleWire } from './helpers-app/raw-client.js';

let evil: EvilServer;
let fx: AppFixture;
let alice: HushClient;
let bob: DeviceIdentity;
let attacker: DeviceIdentity;
/** A third, honest peer whose DMs serve as ordering barriers. */
let dave: DeviceIdentity;
let daveSeq = 0;
/** Each test device's sessions with alice's devices. */
let sealers: Map<DeviceIdentity, DirectSealer>;

/** The device's prekeys on the evil server, so alice can start sessions with it. */
function publish(device: DeviceIdentity): void {
  evil.prekeys.set(bundleWire(device).signKey, { signedPrekey: prekeyBundleOf(device).signedPrekey, oneTime: [] });
}

beforeEach(async () => {
  fx = new AppFixture();
  evil = await EvilServer.start();
  bob = DeviceIdentity.generate();
  attacker = DeviceIdentity.generate();
  dave = DeviceIdentity.generate();
  daveSeq = 0;
  sealers = new Map();
  evil.directory.set('bob', [bundleWire(bob)]);
  evil.directory.set('dave', [bundleWire(dave)]);
  evil.directory.set('carol', [bundleWire(DeviceIdentity.generate())]);
  for (const device of [bob, attacker, dave]) publish(device);
  alice = await fx.user(evil, 'alice');
});

afterEach(async () => {
  await fx.cleanup();
  await evil.close();
});

/** Bob (or whoever `sender` is) seals a DM for alice's devices; the server may stamp other routing. */
function sealed(seq: number, text: string, o: { sender?: DeviceIdentity; from?: string; to?: string } = {}): string {
  const sender = o.sender ?? bob;
  const sealer = sealers.get(sender) ?? new DirectSealer(sender);
  sealers.set(sender, sealer);
  return sealer.seal(evil.prekeyBundles('alice'), { from: o.from ?? 'bob', to: o.to ?? 'alice', seq, text });
}

function deliver(envelope: string, o: { msgId?: string; from?: string; to?: string } = {}): string {
  const msgId = o.msgId ?? evil.msgId();
  evil.deliver('alice', { msgId, ts: Date.now(), from: o.from ?? 'bob', to: o.to ?? 'alice', envelope });
  return msgId;
}

/** Dave sends a marker DM and alice shows it: everything delivered before it has been processed. */
async function settle(): Promise<void> {
  const seq = ++daveSeq;
  const text = `marker-${seq}`;
  const shown = nextEvent(alice, 'message', (m) => m.text === text);
  deliver(sealed(seq, text, { sender: dave, from: 'dave' }), { from: 'dave' });
  await shown;
}

const fromBob = (messages: ChatMessage[]): string[] => messages.filter((m) => m.from === 'bob').map((m) => m.text);

describe('malicious server: direct messages', () => {
  it('shows an honest DM from bob (control)', async () => {
    const got = nextEvent(alice, 'message', (m) => m.kind === 'dm');
    deliver(sealed(1, 'hello alice'));
    const [m] = await got;
    expect(m).toMatchObject({ kind: 'dm', from: 'bob', peer: 'bob', text: 'hello alice', mine: false });
  });

  it('the same dm delivered twice (same server id) is shown once', async () => {
    const messages = collect(alice, 'message');
    const env = sealed(1, 'once');
    const id = deliver(env);
    deliver(env, { msgId: id });
    deliver(env, { msgId: id });
    await settle();
    expect(messages.filter((m) => m.text === 'once')).toHaveLength(1);
  });

  it('an old envelope replayed later under a new server id is a replay warning and is not shown', async () => {
    const messages = collect(alice, 'message');
    const warnings = collect(alice, 'dmWarning');
    const first = sealed(1, 'transfer 10 coins');
    deliver(first);
    deliver(sealed(2, 'second'));
    deliver(sealed(3, 'third'));
    deliver(first); // fresh msgId, old envelope
    deliver(first);
    await settle();
    expect(messages.filter((m) => m.text === 'transfer 10 coins')).toHaveLength(1);
    expect(warnings.filter((w) => w.kind === 'replay')).toEqual([
      { user: 'bob', kind: 'replay' },
      { user: 'bob', kind: 'replay' },
    ]);
  });

  it('a replay is still caught after the client restarts (sequence state is persisted)', async () => {
    const env = sealed(1, 'persisted');
    const shown = nextEvent(alice, 'message', (m) => m.text === 'persisted');
    deliver(env);
    await shown;
    const paths = alice.paths;
    await alice.close();
    alice = await fx.connect(evil, { paths });
    await alice.login('alice'); // device login
    const messages = collect(alice, 'message');
    const warned = nextEvent(alice, 'dmWarning', (w) => w.kind === 'replay');
    deliver(env);
    expect((await warned)[0]).toEqual({ user: 'bob', kind: 'replay' });
    await settle();
    expect(fromBob(messages)).toEqual([]);
  });

  it('a dropped DM is a gap warning; the later one is still shown, the late one fills the gap', async () => {
    const warnings = collect(alice, 'dmWarning');
    const messages = collect(alice, 'message');
    deliver(sealed(1, 'one'));
    const two = sealed(2, 'two'); // the server withholds it
    deliver(sealed(5, 'five'));
    await settle();
    expect(warnings).toEqual([{ user: 'bob', kind: 'gap', missing: 3 }]);
    expect(fromBob(messages)).toEqual(['one', 'five']);
    deliver(two);
    deliver(two);
    await settle();
    expect(fromBob(messages)).toEqual(['one', 'five', 'two']);
    expect(warnings.slice(1)).toEqual([{ user: 'bob', kind: 'replay' }]);
  });

  it("alice's own sent DM replayed back to her under a new server id is not shown again", async () => {
    const messages = collect(alice, 'message');
    const warnings = collect(alice, 'dmWarning');
    await alice.sendDirect('bob', 'I owe you 10 coins');
    const mine = evil.sentDms[0]!;
    // A real server echoes a sent DM to the sender's other sessions with the same id; this one
    // invents new ids for the old envelope, now and later.
    deliver(mine.envelope, { from: 'alice', to: 'bob' });
    await settle();
    deliver(mine.envelope, { from: 'alice', to: 'bob' });
    await settle();
    expect(messages.filter((m) => m.text === 'I owe you 10 coins')).toHaveLength(1);
    expect(warnings.filter((w) => w.kind === 'replay').length).toBeGreaterThan(0);
  });

  it('a DM sealed for someone else, or under another sender, is undecryptable and never shown', async () => {
    const messages = collect(alice, 'message');
    const warnings = collect(alice, 'dmWarning');
    // Bob sealed it "to carol" (alice's device among the recipients); the server routes it to alice.
    deliver(sealed(1, 'meant for carol', { to: 'carol' }));
    // Bob's envelope, but the server says carol sent it.
    deliver(sealed(2, 'bob wrote this'), { from: 'carol' });
    // The server gives carol bob's device key too, and re-stamps bob's DM as carol's.
    evil.directory.set('carol', [bundleWire(bob)]);
    deliver(sealed(3, 'bob wrote this too'), { from: 'carol' });
    // An envelope that names alice but is delivered as a DM between bob and carol.
    deliver(sealed(4, 'side channel'), { to: 'carol' });
    // Garbage and a truncated envelope.
    deliver('AAAA');
    deliver(sealed(5, 'truncated').slice(0, 120));
    await settle();
    expect(messages.map((m) => m.text)).toEqual(['marker-1']);
    expect(warnings.map((w) => w.kind)).toEqual(Array(6).fill('undecryptable'));
  });

  it('a DM forged by the server under a fresh key for bob announces a key change before it is shown', async () => {
    // alice has seen bob's real key (she wrote to him)
    await alice.sendDirect('bob', 'hi bob');
    const events: string[] = [];
    alice.on('keyChange', (k) => events.push(`keyChange:${k.user}:${k.verified}`));
    alice.on('message', (m) => events.push(`message:${m.text}`));
    evil.directory.set('bob', [bundleWire(attacker)]);
    deliver(sealed(1, 'I am bob, really', { sender: attacker }));
    await nextEvent(alice, 'message', (m) => m.text === 'I am bob, really');
    expect(events).toEqual(['keyChange:bob:false', 'message:I am bob, really']);
  });
});

describe('malicious server: prekeys and sessions', () => {
  it("a prekey bundle of a device that is not bob's, or with a forged signed prekey, is refused: nothing leaves", async () => {
    // The attacker's prekey handed out for bob's device.
    evil.prekeys.set(bundleWire(bob).signKey, { signedPrekey: prekeyBundleOf(attacker).signedPrekey, oneTime: [] });
    const notices = collect(alice, 'notice');
    const error = await alice.sendDirect('bob', 'to the attacker?').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHushError(error, 'E2E_NO_PREKEYS')).toBe(true);
    // A signed prekey of bob's whose signature was altered.
    const forged = prekeyBundleOf(bob).signedPrekey;
    forged.signature = `${forged.signature.slice(0, -2)}${forged.signature.endsWith('AA') ? 'AQ' : 'AA'}`;
    evil.prekeys.set(bundleWire(bob).signKey, { signedPrekey: forged, oneTime: [] });
    const again = await alice.sendDirect('bob', 'forged').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHushError(again, 'E2E_NO_PREKEYS')).toBe(true);
    expect(notices.filter((n) => n.code === 'E2E_BAD_KEYS')).toHaveLength(2);
    expect(evil.sentDms).toHaveLength(0);
  });

  it("a session started by a device that is not in the sender's key directory is refused, never shown", async () => {
    const messages = collect(alice, 'message');
    const warnings = collect(alice, 'dmWarning');
    deliver(sealed(1, 'I am bob, trust me', { sender: attacker })); // the directory lists only bob's real device
    await settle();
    expect(fromBob(messages)).toEqual([]);
    expect(warnings).toEqual([{ user: 'bob', kind: 'undecryptable' }]);
  });

  it('a tampered session message is undecryptable and never shown; the session goes on', async () => {
    const messages = collect(alice, 'message');
    const warnings = collect(alice, 'dmWarning');
    deliver(sealed(1, 'one'));
    const bytes = Buffer.from(sealed(2, 'tampered'), 'base64url');
    bytes[bytes.length - 20]! ^= 1;
    deliver(bytes.toString('base64url'));
    deliver(sealed(3, 'three'));
    await settle();
    expect(fromBob(messages)).toEqual(['one', 'three']);
    expect(warnings).toEqual([
      { user: 'bob', kind: 'undecryptable' },
      { user: 'bob', kind: 'gap', missing: 1 },
    ]);
  });
});

describe('malicious server: key bundles', () => {
  async function verifiedBob(): Promise<void> {
    await alice.verifyContact('bob');
    expect(alice.isVerified('bob')).toBe(true);
  }

  async function expectSendRefused(): Promise<void> {
    const before = evil.sentDms.length;
    const error = await alice.sendDirect('bob', 'secret for bob').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isHushError(error, 'E2E_KEY_CHANGED')).toBe(true);
    expect(evil.sentDms.length).toBe(before); // nothing sealed to the attacker left the client
  }

  it('key_change pushing an attacker bundle: keyChange (unverified), and the warning is not repeated for the same keys', async () => {
    await alice.sendDirect('bob', 'first');
    const changes = collect(alice, 'keyChange');
    const got = nextEvent(alice, 'keyChange');
    evil.connectionOf('alice').send({ type: 'key_change', user: 'bob', devices: [bundleWire(attacker)] });
    expect((await got)[0]).toEqual({ user: 'bob', verified: false });
    evil.connectionOf('alice').send({ type: 'key_change', user: 'bob', devices: [bundleWire(attacker)] });
    await settle();
    expect(changes).toHaveLength(1);
  });

  it('verified contact, key_change to an attacker bundle: keyChange verified, and sending is refused', async () => {
    await verifiedBob();
    const got = nextEvent(alice, 'keyChange');
    evil.connectionOf('alice').send({ type: 'key_change', user: 'bob', devices: [bundleWire(attacker)] });
    expect((await got)[0]).toEqual({ user: 'bob', verified: true });
    expect(alice.isVerified('bob')).toBe(false);
    await expectSendRefused();
  });

  it('verified contact, the keys reply swapped (no push): a refetch shows the change and sending is refused', async () => {
    await verifiedBob();
    const safety = await alice.safetyNumber('bob');
    evil.directory.set('bob', [bundleWire(attacker)]);
    const got = nextEvent(alice, 'keyChange');
    const changed = await alice.safetyNumber('bob'); // forces a keys_get
    expect(changed).not.toBe(safety);
    expect((await got)[0]).toEqual({ user: 'bob', verified: true });
    await expectSendRefused();
  });

  it("verified contact, the server adds a device of its own next to bob's: refused too", async () => {
    await verifiedBob();
    evil.directory.set('bob', [bundleWire(bob), bundleWire(attacker)]);
    evil.connectionOf('alice').send({ type: 'key_change', user: 'bob', devices: [bundleWire(bob), bundleWire(attacker)] });
    await nextEvent(alice, 'keyChange', (k) => k.verified);
    await expectSendRefused();
  });

  it('verification survives a restart: the swapped keys are refused after reconnecting', async () => {
    await verifiedBob();
    const paths = alice.paths;
    await alice.close();
    evil.directory.set('bob', [bundleWire(attacker)]);
    alice = await fx.connect(evil, { paths });
    const got = nextEvent(alice, 'keyChange');
    await alice.login('alice', passwordOf('alice'));
    await expectSendRefused();
    expect((await got)[0]).toEqual({ user: 'bob', verified: true });
  });

  it('a bundle whose signature does not verify is ignored with a notice, never used', async () => {
    const forged = bundleWire(attacker);
    forged.boxKey = bundleWire(DeviceIdentity.generate()).boxKey; // a box key its sign key never signed
    evil.directory.set('bob', [forged]);
    const notice = nextEvent(alice, 'notice', (n) => n.code === 'E2E_BAD_KEYS');
    const error = await alice.sendDirect('bob', 'x').then(
      () => undefined,
      (e: unknown) => e,
    );
    await notice;
    expect(isHushError(error, 'E2E_NO_DEVICES')).toBe(true);
    expect(evil.sentDms).toHaveLength(0);
  });

  it('re-verifying after comparing the new safety number lets alice send again (control)', async () => {
    await verifiedBob();
    evil.connectionOf('alice').send({ type: 'key_change', user: 'bob', devices: [bundleWire(attacker)] });
    await nextEvent(alice, 'keyChange');
    await expectSendRefused();
    await alice.verifyContact('bob');
    const sent: ChatMessage[] = collect(alice, 'message');
    await alice.sendDirect('bob', 'after re-verify');
    expect(sent.map((m) => m.text)).toEqual(['after re-verify']);
    expect(evil.sentDms).toHaveLength(1);
  });
});
