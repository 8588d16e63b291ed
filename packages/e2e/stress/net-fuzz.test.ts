// Stress variant of test/net-fuzz.test.ts: about 600,000 hostile inputs against one live server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@hush/server';
import { runFuzz, totalInputs, type FuzzPlan } from '../test/helpers-net/fuzz-run.js';
import { ChatProbe, PingProbe } from '../test/helpers-net/honest.js';
import { RawClient } from '../test/helpers-net/raw-client.js';
import { SdkFixture, until } from '../test/helpers-net/sdk.js';

const seed = Number(process.env.HUSH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
let server: TestServer;
const sdk = new SdkFixture();

beforeAll(async () => {
  server = await startTestServer({
    limits: {
      messagesPerSecond: 1_000_000, messageBurst: 1_000_000, bytesPerSecond: 1024 ** 3, byteBurst: 1024 ** 3,
      handshakeTimeoutMs: 2000, maxConnectionsPerAddress: 100_000, maxConnections: 100_000,
    },
  });
});
afterAll(async () => {
  await sdk.cleanup();
  await server.stop();
});

describe(`stress fuzzing (seed ${seed})`, () => {
  it('≥500,000 hostile inputs: no crash, no hang, honest clients served, every error coded', async () => {
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const victim = await RawClient.connect(server.port);
    await victim.register('fuzz-victim');
    await victim.close();
    const alice = await sdk.user(server, server.fingerprint, 'fuzz-alice');
    const bob = await sdk.user(server, server.fingerprint, 'fuzz-bob');
    await alice.createRoom('fuzz-honest');
    await bob.joinRoom('fuzz-honest');
    const ping = await PingProbe.start(server.port, 'fuzz-pinger', { intervalMs: 20, boundMs: 3000 });
    const chat = new ChatProbe(alice, bob, 'fuzz-honest', 'honest').start(100);

    const plan: FuzzPlan = {
      seed, preHandshake: 10_000, garbage: 200, linesPerGarbage: 2000, hostile: 50, requestsPerHostile: 4000,
      badRecord: 2000, concurrency: 24, connectionTimeoutMs: 8000, victim: 'fuzz-victim', maxFrameSize: server.config.limits.maxFrameSize,
    };
    const stats = await runFuzz(server.port, plan);
    await chat.stop();
    await until(() => chat.received.length === chat.sent.length, 10_000, 'the honest messages');
    await ping.stop();
    const latency = ping.summary();
    console.log(JSON.stringify({ seed, total: totalInputs(stats), ...stats, ping: latency, chat: chat.sent.length }));

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
