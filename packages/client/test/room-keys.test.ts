// The SDK's sender-key store for end-to-end rooms, without a server: what the server holds is the
// list of envelopes (key hand-outs travel over the device sessions, which it cannot open), so each
// test plays "the server" as that list and feeds it to the members.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoError, type CryptoErrorCode } from '@hush/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RoomKeyStore, decodeRoomEnvelope, encodeRoomEnvelope, type RoomDevice } from '../src/room-keys.js';

const ROOM = 'general';
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
});

async function device(user: string, dir?: string): Promise<RoomKeyStore> {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'hush-roomkeys-')));
  if (!dir) dirs.push(dataDir);
  return RoomKeyStore.load(join(dataDir, 'state'), { user, device: `${user}-device` });
}

const dataDirOf = (s: RoomKeyStore): string => s.file.split('/state/')[0]!;
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `sender` hands its key to whichever of `members` lack it (as over the device sessions), then seals. */
async function send(sender: RoomKeyStore, members: RoomKeyStore[], body: string): Promise<Uint8Array> {
  const { distribution, devices } = sender.recipientsLacking(
    ROOM,
    members.map((m) => m.self),
  );
  for (const d of devices) await members.find((m) => m.self.device === d.device)!.acceptDistribution(sender.self, distribution);
  await sender.markHolders(ROOM, devices);
  return sender.seal(ROOM, utf8(body));
}

async function expectRefused(p: Promise<unknown>, code: CryptoErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(CryptoError);
  expect((err as CryptoError).code).toBe(code);
}

describe('room sender keys in the SDK', () => {
  it('after a removal, the removed member opens nothing sent afterwards, even given every stored envelope', async () => {
    const [alice, bob, carol] = [await device('alice'), await device('bob'), await device('carol')];
    const server: { from: string; envelope: Uint8Array }[] = [];
    for (const [who, others] of [
      [alice, [bob, carol]],
      [bob, [alice, carol]],
    ] as const) {
      server.push({ from: who.self.user, envelope: await send(who, [...others], `${who.self.user} before`) });
    }
    for (const m of server) expect(text((await carol.open(ROOM, m.from, m.envelope)).plaintext)).toMatch(/before$/);
    // Every remaining device learns of the removal (a kick, ban or part) and rotates.
    await alice.memberRemoved(ROOM);
    await bob.memberRemoved(ROOM);
    const after: { from: string; envelope: Uint8Array }[] = [];
    for (const [who, others] of [
      [alice, [bob]],
      [bob, [alice]],
      [alice, [bob]],
    ] as const) {
      const envelope = await send(who, [...others], `${who.self.user} after removal`);
      after.push({ from: who.self.user, envelope });
      const reader = others[0]!;
      expect(text((await reader.open(ROOM, who.self.user, envelope)).plaintext)).toBe(`${who.self.user} after removal`);
    }
    for (const m of [...server, ...after]) await carol.open(ROOM, m.from, m.envelope).catch(() => undefined);
    for (const m of after) await expectRefused(carol.open(ROOM, m.from, m.envelope), 'SENDER_KEY_UNKNOWN');
    // The new keys went to bob and alice only.
    expect(alice.recipientsLacking(ROOM, [bob.self, carol.self]).devices.map((d) => d.user)).toEqual(['carol']);
  });

  it('a holder missing from the member list (its removal never heard of) gets nothing sent afterwards', async () => {
    const [alice, bob, carol] = [await device('alice'), await device('bob'), await device('carol')];
    await send(alice, [bob, carol], 'both hold this key');
    const after = await send(alice, [bob], 'carol is gone');
    expect(text((await bob.open(ROOM, 'alice', after)).plaintext)).toBe('carol is gone');
    await expectRefused(carol.open(ROOM, 'alice', after), 'SENDER_KEY_UNKNOWN');
  });

  it('a joiner reads from the moment it got the keys; earlier messages stay closed', async () => {
    const [alice, bob, dave] = [await device('alice'), await device('bob'), await device('dave')];
    const early = [await send(alice, [bob], 'one'), await send(alice, [bob], 'two')];
    const late = await send(alice, [bob, dave], 'three');
    for (const e of early) await expectRefused(dave.open(ROOM, 'alice', e), 'SENDER_KEY_UNKNOWN');
    expect(text((await dave.open(ROOM, 'alice', late)).plaintext)).toBe('three');
    expect(text((await bob.open(ROOM, 'alice', early[1]!)).plaintext)).toBe('two');
  });

  it("a member cannot forge another member's message, nor pass its own off as theirs", async () => {
    const [alice, bob, mallory] = [await device('alice'), await device('bob'), await device('mallory')];
    await send(alice, [bob, mallory], 'hello');
    const own = await send(mallory, [alice, bob], 'mine');
    // Mallory's own envelope relabelled as Alice's device (the server could do the same with `from`).
    const relabelled = encodeRoomEnvelope(alice.self.device, decodeRoomEnvelope(own).message);
    await expectRefused(bob.open(ROOM, 'alice', relabelled), 'SENDER_KEY_UNKNOWN');
    await expectRefused(bob.open(ROOM, 'alice', own), 'SENDER_KEY_UNKNOWN');
    // Mallory holds Alice's chain key; a message built with it under Mallory's signing key fails.
    const forged = await forgeWithChainOf(alice, [bob.self, mallory.self], 'pay mallory');
    await expectRefused(bob.open(ROOM, 'alice', forged), 'SENDER_SIGNATURE_INVALID');
    expect(text((await bob.open(ROOM, 'alice', await alice.seal(ROOM, utf8('real')))).plaintext)).toBe('real');
  });

  it("a server replaying or reordering within a sender's chain is noticed", async () => {
    const [alice, bob] = [await device('alice'), await device('bob')];
    const ms = [await send(alice, [bob], 'a'), await send(alice, [bob], 'b'), await send(alice, [bob], 'c')];
    expect((await bob.open(ROOM, 'alice', ms[0]!)).order).toBe('next');
    await expectRefused(bob.open(ROOM, 'alice', ms[0]!), 'MESSAGE_REPLAYED');
    expect((await bob.open(ROOM, 'alice', ms[2]!)).order).toBe('ahead');
    expect((await bob.open(ROOM, 'alice', ms[1]!)).order).toBe('late');
    await expectRefused(bob.open(ROOM, 'alice', ms[1]!), 'MESSAGE_REPLAYED');
  });

  it('state survives a restart: a private file, the chain continues, replays still refused', async () => {
    const [alice, bob] = [await device('alice'), await device('bob')];
    const first = await send(alice, [bob], 'before restart');
    await bob.open(ROOM, 'alice', first);
    expect((await stat(alice.file)).mode & 0o777).toBe(0o600);
    expect(await import('node:fs/promises').then((fs) => fs.readFile(alice.file, 'utf8'))).not.toContain('before restart');
    // seal resolved, so the advanced chain is on disk: a restarted sender never reuses an iteration
    const [alice2, bob2] = [await device('alice', dataDirOf(alice)), await device('bob', dataDirOf(bob))];
    expect(alice2.recipientsLacking(ROOM, [bob.self]).devices).toEqual([]);
    const second = await alice2.seal(ROOM, utf8('after restart'));
    expect(text((await bob2.open(ROOM, 'alice', second)).plaintext)).toBe('after restart');
    await expectRefused(bob2.open(ROOM, 'alice', first), 'MESSAGE_REPLAYED');
    // a rotation pending at the crash is still pending after it
    await alice2.memberRemoved(ROOM);
    const alice3 = await device('alice', dataDirOf(alice));
    expect(alice3.recipientsLacking(ROOM, [bob.self]).devices.map((d) => d.user)).toEqual(['bob']);
  });

  it('a room seen end-to-end never silently becomes open', async () => {
    const alice = await device('alice');
    expect(alice.noteKind('lobby', 'open')).toBe('ok');
    expect(alice.noteKind('lobby', 'e2e')).toBe('ok');
    expect(alice.noteKind(ROOM, 'e2e')).toBe('ok');
    await alice.save();
    const again = await device('alice', dataDirOf(alice));
    expect(again.noteKind(ROOM, 'open')).toBe('downgrade');
    expect(again.kindOf(ROOM)).toBe('e2e');
  });
});

/** A state for Alice's current chain (every one of `members` holds it) with Mallory's signing seed. */
async function forgeWithChainOf(alice: RoomKeyStore, members: readonly RoomDevice[], body: string): Promise<Uint8Array> {
  const { OutboundSenderKey, decodeSenderKeyDistribution } = await import('@hush/crypto');
  const d = decodeSenderKeyDistribution(alice.recipientsLacking(ROOM, members).distribution);
  const seed = new Uint8Array(32).fill(7);
  const str16 = (s: string) => {
    const b = Buffer.from(s);
    return [b.length >>> 8, b.length & 0xff, ...b];
  };
  const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const state = Uint8Array.from([
    1,
    0x4f,
    ...str16(ROOM),
    ...str16(alice.self.device),
    ...u32(d.keyId),
    ...u32(d.iteration),
    ...d.chainKey,
    ...seed,
  ]);
  return encodeRoomEnvelope(alice.self.device, OutboundSenderKey.fromBytes(state).encrypt(utf8(body)));
}
