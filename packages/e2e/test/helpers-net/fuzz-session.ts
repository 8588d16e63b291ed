// One fuzz run against a live server while honest clients keep using it: the shared body of the
// normal and the stress fuzz tests (they differ in counts and in what they assert afterwards).
import type { TestServer } from '@hush/server';
import { runFuzz, totalInputs, type FuzzPlan, type FuzzStats } from './fuzz-run.js';
import { ChatProbe, PingProbe } from './honest.js';
import { RawClient } from './raw-client.js';
import { type SdkFixture, until } from './sdk.js';

/** Rate limits are item 6's subject: here they are opened so the parser and handlers see everything. */
export const FUZZ_LIMITS = {
  messagesPerSecond: 1_000_000,
  messageBurst: 1_000_000,
  signalsPerSecond: 1_000_000,
  signalBurst: 1_000_000,
  bytesPerSecond: 1024 * 1024 * 1024,
  byteBurst: 1024 * 1024 * 1024,
  handshakeTimeoutMs: 2000,
  maxConnectionsPerAddress: 100_000,
  maxConnections: 100_000,
};

export interface FuzzSession {
  stats: FuzzStats;
  latency: ReturnType<PingProbe['summary']>;
  chat: ChatProbe;
  /** Object.prototype's own names before the run, to check nothing was polluted. */
  protoBefore: string[];
}

export async function fuzzWithHonestTraffic(server: TestServer, sdk: SdkFixture, plan: FuzzPlan, drainMs: number): Promise<FuzzSession> {
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const victim = await RawClient.connect(server.port);
  await victim.register(plan.victim);
  await victim.close();
  const alice = await sdk.user(server, server.fingerprint, 'fuzz-alice');
  const bob = await sdk.user(server, server.fingerprint, 'fuzz-bob');
  await alice.createRoom('fuzz-honest');
  await bob.joinRoom('fuzz-honest');
  const ping = await PingProbe.start(server.port, 'fuzz-pinger', { intervalMs: 20, boundMs: 3000 });
  const chat = new ChatProbe(alice, bob, 'fuzz-honest', 'honest').start(100);

  const started = performance.now();
  const stats = await runFuzz(server.port, plan);
  const elapsedMs = Math.round(performance.now() - started);
  await chat.stop();
  await until(() => chat.received.length === chat.sent.length, drainMs, 'the honest messages');
  await ping.stop();
  const latency = ping.summary();
  console.log(JSON.stringify({ seed: plan.seed, elapsedMs, total: totalInputs(stats), ...stats, ping: latency, chat: chat.sent.length }));
  return { stats, latency, chat, protoBefore };
}
