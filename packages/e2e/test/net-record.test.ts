// The record layer under a man in the middle, after a genuine handshake. The proxy
// replays, reorders, drops, truncates or flips a bit in one sealed record. The session must close,
// and what the users see must stay true: nothing twice, nothing forged, and (after the SDK's own
// reconnect and catch-up) nothing missing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, HushClient } from '@hush/client';
import { startTestServer, type TestServer } from '@hush/server';
import { FrameProxy, type Direction, type FrameContext, type FrameVerdict } from './helpers-net/proxy.js';
import { collectMessages, nextEvent, SdkFixture, until } from './helpers-net/sdk.js';

let server: TestServer;
const sdk = new SdkFixture();
const proxies: FrameProxy[] = [];
let caseNo = 0;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  await sdk.cleanup();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

type Attack =
  | 'replay'
  | 'reorder'
  | 'drop'
  | 'truncate'
  | 'truncate-short'
  | 'flip-version'
  | 'flip-timestamp'
  | 'flip-nonce'
  | 'flip-body'
  | 'flip-tag';
const ATTACKS: Attack[] = [
  'replay',
  'reorder',
  'drop',
  'truncate',
  'truncate-short',
  'flip-version',
  'flip-timestamp',
  'flip-nonce',
  'flip-body',
  'flip-tag',
];

function flip(payload: Buffer, at: number): Buffer {
  const out = Buffer.from(payload);
  out[at] = out[at]! ^ 0x04;
  return out;
}

/**
 * A hook that, once armed, tampers with the first sealed record(s) of `dir` on connection 0.
 * Reconnections (connection 1, 2...) pass untouched.
 */
function tamper(attack: Attack, dir: Direction): { hook: (f: FrameContext) => FrameVerdict; arm(): void; readonly fired: boolean } {
  let armed = false;
  let fired = false;
  let held: Buffer | undefined;
  return {
    arm: () => (armed = true),
    get fired() {
      return fired;
    },
    hook: (f) => {
      if (!armed || f.conn !== 0 || f.dir !== dir) return 'forward';
      if (held) {
        // reorder: the held record goes after this one
        const first = held;
        held = undefined;
        return { payloads: [f.payload, first] };
      }
      if (fired) return 'forward';
      fired = true;
      const p = f.payload;
      switch (attack) {
        case 'replay':
          return { payloads: [p, p] };
        case 'reorder':
          held = p;
          return 'drop';
        case 'drop':
          return 'drop';
        case 'truncate':
          return { payloads: [p.subarray(0, p.length - 7)] };
        case 'truncate-short':
          return { payloads: [p.subarray(0, 10)] };
        case 'flip-version':
          return { payloads: [flip(p, 0)] };
        case 'flip-timestamp':
          return { payloads: [flip(p, 6)] };
        case 'flip-nonce':
          return { payloads: [flip(p, 20)] };
        case 'flip-body':
          return { payloads: [flip(p, 21 + Math.floor((p.length - 37) / 2))] };
        case 'flip-tag':
          return { payloads: [flip(p, p.length - 1)] };
      }
    },
  };
}

function assertTruthful(seen: ChatMessage[], sent: string[], from: string): void {
  const ids = seen.map((m) => m.id);
  expect(new Set(ids).size, 'a message was shown twice').toBe(ids.length);
  for (const m of seen) {
    expect(m.from).toBe(from);
    expect(sent, `forged or altered text: ${m.text}`).toContain(m.text);
  }
  const texts = seen.map((m) => m.text);
  expect(new Set(texts).size, 'a text was shown twice').toBe(texts.length);
}

async function pair(
  receiverViaProxy: boolean,
): Promise<{ alice: HushClient; bob: HushClient; proxy: FrameProxy; room: string; tag: string }> {
  const tag = `r${++caseNo}`;
  const proxy = await FrameProxy.start(server);
  proxies.push(proxy);
  const direct = { host: server.host, port: server.port };
  const alice = await sdk.user(receiverViaProxy ? direct : proxy, server.fingerprint, `alice-${tag}`);
  const bob = await sdk.user(receiverViaProxy ? proxy : direct, server.fingerprint, `bob-${tag}`);
  const room = `room-${tag}`;
  // End to end (the default kind): the first record lost may be the DM that hands alice's sender key
  // to bob, her first DM to him and his first DM at all; it must come back with the catch-up too.
  await alice.createRoom(room, '', 'e2e');
  await bob.joinRoom(room);
  return { alice, bob, proxy, room, tag };
}

describe('records tampered on their way to the receiving client (server -> client)', () => {
  for (const attack of ATTACKS) {
    it(`${attack}: the session closes, nothing twice, nothing forged, catch-up fills the gap`, async () => {
      const { alice, bob, proxy, room, tag } = await pair(true);
      const t = tamper(attack, 's2c');
      proxy.hook = t.hook;
      const seen = collectMessages(bob);
      const states: string[] = [];
      bob.on('state', (s) => states.push(s));
      const sent: string[] = [];
      t.arm();
      // Several messages, one at a time, so that a dropped or held record is followed by another.
      for (let i = 0; i < 6; i++) {
        const text = `${tag} message ${i}`;
        sent.push(text);
        await alice.send(room, text);
        await new Promise((r) => setTimeout(r, 15));
      }
      expect(t.fired).toBe(true);
      await until(() => states.includes('reconnecting'), 8000, 'the tampered session to close');
      expect(proxy.connections[0]!.client.destroyed || proxy.connections[0]!.upstream.destroyed).toBe(true);
      // The SDK reconnects (through the proxy, now clean) and catches up.
      await until(() => bob.state === 'ready' && seen.filter((m) => m.room === room).length >= sent.length, 12_000, 'catch-up');
      const inRoom = seen.filter((m) => m.room === room);
      assertTruthful(inRoom, sent, `alice-${tag}`);
      expect(inRoom.map((m) => m.text)).toEqual(sent); // in order, no gap
    });
  }
});

describe('records tampered on their way to the server (client -> server)', () => {
  for (const attack of ATTACKS) {
    it(`${attack}: the server closes the session and stores nothing twice or forged`, async () => {
      const { alice, bob, proxy, room, tag } = await pair(false);
      const t = tamper(attack, 'c2s');
      proxy.hook = t.hook;
      const seenByBob = collectMessages(bob);
      const closed = nextEvent(alice, 'state', (s) => s === 'reconnecting', 8000);
      t.arm();
      const sent = [`${tag} first`, `${tag} second`, `${tag} third`];
      // Not awaited one by one: each send is its own record, so a dropped/held one is followed by another.
      const results = await Promise.allSettled(sent.map((text) => alice.send(room, text)));
      await closed;
      expect(t.fired).toBe(true);
      // Alice reconnects by herself; what she still sends gets through.
      await until(() => alice.state === 'ready', 12_000, 'alice to reconnect');
      const after = `${tag} after reconnect`;
      await alice.send(room, after);
      await until(() => seenByBob.some((m) => m.text === after), 8000, 'the message after reconnect');

      const history = await bob.history({ room }, { limit: 100 });
      const texts = history.messages.map((m) => m.text);
      const acked = sent.filter((_, i) => results[i]!.status === 'fulfilled');
      for (const text of acked)
        expect(
          texts.filter((x) => x === text),
          `acked ${text}`,
        ).toHaveLength(1);
      assertTruthful(history.messages, [...sent, after], `alice-${tag}`);
      assertTruthful(
        seenByBob.filter((m) => m.room === room),
        [...sent, after],
        `alice-${tag}`,
      );
      // What bob saw live is exactly what the server stored.
      expect(seenByBob.filter((m) => m.room === room).map((m) => m.id)).toEqual(history.messages.map((m) => m.id));
    });
  }
});
