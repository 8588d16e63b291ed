// Issue 8 item 5: fuzzing a live hushd over real sockets with more than 100,000 random and mutated
// frames and messages, before and after the handshake (sealed with real session keys), including
// prototype-pollution keys, deep nesting, huge strings and wrong types. Meanwhile an honest client
// pings and an honest pair chats: the server must not crash, hang or stop serving them, and every
// error it sends must carry a code. Set HUSH_FUZZ_SEED to replay a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@hush/server';
import { totalInputs, type FuzzPlan } from './helpers-net/fuzz-run.js';
import { FUZZ_LIMITS, fuzzWithHonestTraffic } from './helpers-net/fuzz-session.js';
import { SdkFixture, until } from './helpers-net/sdk.js';

const seed = Number(process.env.HUSH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
let server: TestServer;
const sdk = new SdkFixture();

beforeAll(async () => {
  server = await startTestServer({ limits: FUZZ_LIMITS });
});
afterAll(async () => {
  await sdk.cleanup();
  await server.stop();
});

describe(`fuzzing a live server (seed ${seed})`, () => {
  it('≥100,000 hostile inputs: no crash, no hang, honest clients served throughout, every error coded', async () => {
    const plan: FuzzPlan = {
      seed, preHandshake: 2000, garbage: 40, linesPerGarbage: 2000, hostile: 12, requestsPerHostile: 2500,
      badRecord: 300, concurrency: 16, connectionTimeoutMs: 5000, victim: 'fuzz-victim', maxFrameSize: server.config.limits.maxFrameSize,
    };
    const { stats, latency, chat, protoBefore } = await fuzzWithHonestTraffic(server, sdk, plan, 8000);

    expect(totalInputs(stats)).toBeGreaterThanOrEqual(100_000);
    expect(stats.hangs).toEqual([]);
    expect(stats.undecodable).toBe(0); // everything the server sent was a valid message
    expect(stats.internal).toBe(0); // no handler blew up
    // The hostile requests really reached the handlers: nearly all got their reply.
    expect(stats.hostileReplies).toBeGreaterThan(0.9 * plan.hostile * plan.requestsPerHostile * 0.9);
    // Errors carry codes: schema violations and unknown types among them; bad records end with BAD_RECORD.
    expect(stats.codes.SCHEMA_VIOLATION ?? 0).toBeGreaterThan(0);
    expect(stats.codes.UNKNOWN_TYPE ?? 0).toBeGreaterThan(0);
    expect(stats.codes.MALFORMED_JSON ?? 0).toBeGreaterThan(0);
    expect(stats.codes.BAD_RECORD ?? 0).toBeGreaterThanOrEqual(plan.badRecord);
    expect(Object.keys(stats.codes).filter((c) => c.startsWith('pre:')).length).toBeGreaterThan(0);

    // Liveness throughout: the honest pinger never missed and was answered quickly.
    expect(latency.failures).toBe(0);
    expect(latency.count).toBeGreaterThan(20);
    // Attackers and server share this process (the generators run on its event loop too): a looser bound.
    expect(latency.p99).toBeLessThan(1000);
    expect(chat.sendErrors).toEqual([]);
    expect(chat.received).toEqual(chat.sent);

    // No prototype pollution in the (in-process) server.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect((({}) as Record<string, unknown>).polluted).toBeUndefined();
    expect((({}) as Record<string, unknown>).isAdmin).toBeUndefined();

    // Still serving: a fresh client registers and talks; the hostile connections are all gone.
    const late = await sdk.user(server, server.fingerprint, 'fuzz-late');
    await late.joinRoom('fuzz-honest');
    const sentLate = await late.send('fuzz-honest', 'still here');
    expect(sentLate.id).toMatch(/^\d+$/);
    await until(() => server.server.connectionCount === 3, 5000, 'hostile connections to close').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${server.server.connectionCount} connections still open`);
    });
  }, 120_000);
});
