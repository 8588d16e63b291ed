// Stress variant of test/net-fuzz.test.ts: about 600,000 hostile inputs against one live server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@hush/server';
import { totalInputs, type FuzzPlan } from '../test/helpers-net/fuzz-run.js';
import { FUZZ_LIMITS, fuzzWithHonestTraffic } from '../test/helpers-net/fuzz-session.js';
import { SdkFixture, until } from '../test/helpers-net/sdk.js';

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

describe(`stress fuzzing (seed ${seed})`, () => {
  it('≥500,000 hostile inputs: no crash, no hang, honest clients served, every error coded', async () => {
    const plan: FuzzPlan = {
      seed, preHandshake: 10_000, garbage: 200, linesPerGarbage: 2000, hostile: 50, requestsPerHostile: 4000,
      badRecord: 2000, concurrency: 24, connectionTimeoutMs: 8000, victim: 'fuzz-victim', maxFrameSize: server.config.limits.maxFrameSize,
    };
    const { stats, latency, chat, protoBefore } = await fuzzWithHonestTraffic(server, sdk, plan, 10_000);

    expect(totalInputs(stats)).toBeGreaterThanOrEqual(500_000);
    expect(stats.hangs).toEqual([]);
    expect(stats.undecodable).toBe(0);
    expect(stats.internal).toBe(0);
    expect(stats.codes.BAD_RECORD ?? 0).toBeGreaterThanOrEqual(plan.badRecord);
    expect(latency.failures).toBe(0);
    expect(latency.p99).toBeLessThan(1000);
    expect(chat.sendErrors).toEqual([]);
    expect(chat.received).toEqual(chat.sent);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect((({}) as Record<string, unknown>).polluted).toBeUndefined();
    // alice and bob stay; the pinger and every hostile connection are gone.
    await until(() => server.server.connectionCount === 2, 10_000, 'hostile connections to close').catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${server.server.connectionCount} connections still open`);
    });
  }, 600_000);
});
