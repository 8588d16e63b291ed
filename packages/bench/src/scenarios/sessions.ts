import { performance } from 'node:perf_hooks';
import {
  DeviceIdentity,
  encodeSenderKeyDistribution,
  generateOneTimePrekeys,
  generateSignedPrekey,
  InboundSenderKey,
  OutboundSenderKey,
  publicSignedPrekey,
  RatchetSession,
} from '@hush/crypto';
import type { BenchContext } from '../context.js';

export interface SessionsResult {
  textSize: number;
  /** X3DH session setups per second: start + first message + accept. */
  setupsPerSec: number;
  setups: number;
  /** One way: a run of messages sealed by one side, then opened by the other (one DH step in all). */
  oneWay: { messages: number; sealsPerSec: number; opensPerSec: number };
  /** Alternating: every message answers the last, so every open is a DH ratchet step. */
  alternating: { messages: number; messagesPerSec: number };
  /** Serialised session state after `turns` alternating turns, each side. */
  state: { turns: number; initiatorBytes: number; responderBytes: number };
  room: {
    sealsPerSec: number;
    opensPerSec: number;
    messages: number;
    /** Serialised inbound sender key a receiving device keeps per (room, sending device). */
    inboundStateBytes: number;
    /** A new sender key sent to every other member device over its session. */
    rotation: { devices: number; msEach: number; rotations: number; distributionBytes: number };
  };
}

const now = () => Date.now();

/** Runs `step` until `durationMs` have passed (at least `min` times); returns the count and the time. */
function timed(durationMs: number, min: number, step: (i: number) => void): { count: number; ms: number } {
  const start = performance.now();
  let count = 0;
  while (count < min || performance.now() - start < durationMs) step(count++);
  return { count, ms: performance.now() - start };
}

function timeAll<T>(items: T[], step: (item: T) => void): number {
  const start = performance.now();
  for (const item of items) step(item);
  return performance.now() - start;
}

/** One device's prekeys, as its owner keeps them, with a lookup for `accept`. */
function prekeysOf(device: DeviceIdentity, count: number) {
  const spk = generateSignedPrekey(device, { id: 1, now: now() });
  const oneTime = new Map(generateOneTimePrekeys({ firstId: 1, count }).map((k) => [k.id, k]));
  return {
    spk,
    oneTime,
    lookup: { signedPrekey: (id: number) => (id === spk.id ? spk : undefined), oneTimePrekey: (id: number) => oneTime.get(id) },
  };
}

/** A session set up and answered once, so neither side carries the X3DH header any more. */
function establish(alice: DeviceIdentity, bob: DeviceIdentity, text: Uint8Array) {
  const keys = prekeysOf(bob, 1);
  const [otp] = keys.oneTime.values();
  const a = RatchetSession.start(alice, {
    identity: bob.bundle(),
    signedPrekey: publicSignedPrekey(keys.spk),
    oneTimePrekey: { id: otp!.id, publicKey: otp!.publicKey },
  });
  const { session: b } = RatchetSession.accept(bob, a.encrypt(text), keys.lookup, { now: now() });
  a.decrypt(b.encrypt(text), { now: now() });
  return { a, b };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * In-process cost of the end-to-end layer on one core: device sessions (X3DH + Double Ratchet) and
 * room sender keys, with the crypto package's defaults (native X25519/Ed25519 where Node has them).
 */
export async function runSessions(ctx: BenchContext): Promise<SessionsResult> {
  const p = ctx.profile.sessions;
  const text = new Uint8Array(p.textSize).fill(0x61);
  const check = (opened: Uint8Array) => {
    if (!same(opened, text)) throw new Error('sessions: a message opened to other bytes than were sealed');
  };
  const alice = DeviceIdentity.generate();
  const bob = DeviceIdentity.generate();

  ctx.log('sessions: X3DH setups');
  // Each setup uses a one-time prekey, as a first contact does; generating them is the owner's cost, not the setup's.
  const keys = prekeysOf(bob, 1000);
  const bundle = { identity: bob.bundle(), signedPrekey: publicSignedPrekey(keys.spk) };
  const otps = [...keys.oneTime.values()];
  const setup = timed(p.durationMs, 1, (i) => {
    const otp = otps[i % otps.length]!;
    const a = RatchetSession.start(alice, { ...bundle, oneTimePrekey: { id: otp.id, publicKey: otp.publicKey } });
    check(RatchetSession.accept(bob, a.encrypt(text), keys.lookup, { now: now() }).plaintext);
  });

  ctx.log('sessions: ratchet seals and opens');
  const one = establish(alice, bob, text);
  const sealed: Uint8Array[] = [];
  const seal = timed(p.durationMs, 1, () => sealed.push(one.a.encrypt(text)));
  const openMs = timeAll(sealed, (m) => check(one.b.decrypt(m, { now: now() })));

  // Turn i: the sides take turns, so each message answers the last one.
  const turn = (pair: { a: RatchetSession; b: RatchetSession }, i: number) => {
    const [from, to] = i % 2 === 0 ? [pair.a, pair.b] : [pair.b, pair.a];
    check(to.decrypt(from.encrypt(text), { now: now() }));
  };
  const alt = establish(alice, bob, text);
  const turns = timed(p.durationMs, p.turns, (i) => turn(alt, i));
  const kept = establish(alice, bob, text);
  for (let i = 0; i < p.turns; i++) turn(kept, i);

  ctx.log('sessions: sender keys');
  const room = 'lobby';
  const outbound = OutboundSenderKey.create(room, alice.id());
  const inbound = InboundSenderKey.fromDistribution(outbound.distribution(), alice.id(), room);
  const roomSealed: Uint8Array[] = [];
  const roomSeal = timed(p.durationMs, 1, () => roomSealed.push(outbound.encrypt(text)));
  const roomOpenMs = timeAll(roomSealed, (m) => check(inbound.decrypt(m).plaintext));

  ctx.log(`sessions: sender-key rotation, ${p.roomDevices} member devices`);
  const members = Array.from({ length: p.roomDevices - 1 }, () => establish(alice, DeviceIdentity.generate(), text).a);
  let distributionBytes = 0;
  const rotation = timed(p.durationMs, 1, () => {
    const key = OutboundSenderKey.create(room, alice.id());
    const distribution = encodeSenderKeyDistribution(key.distribution());
    distributionBytes = distribution.length;
    for (const session of members) session.encrypt(distribution);
  });

  return {
    textSize: p.textSize,
    setupsPerSec: (setup.count * 1000) / setup.ms,
    setups: setup.count,
    oneWay: { messages: seal.count, sealsPerSec: (seal.count * 1000) / seal.ms, opensPerSec: (sealed.length * 1000) / openMs },
    alternating: { messages: turns.count, messagesPerSec: (turns.count * 1000) / turns.ms },
    state: { turns: p.turns, initiatorBytes: kept.a.toBytes().length, responderBytes: kept.b.toBytes().length },
    room: {
      sealsPerSec: (roomSeal.count * 1000) / roomSeal.ms,
      opensPerSec: (roomSealed.length * 1000) / roomOpenMs,
      messages: roomSeal.count,
      inboundStateBytes: inbound.toBytes().length,
      rotation: { devices: p.roomDevices, msEach: rotation.ms / rotation.count, rotations: rotation.count, distributionBytes },
    },
  };
}
