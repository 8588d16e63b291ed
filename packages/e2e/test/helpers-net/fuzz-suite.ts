// The fuzzing suite against a live server, sized by its caller: test/net-fuzz.test.ts runs it at
// the everyday size, stress/net-fuzz.test.ts at stress size. Set HUSH_FUZZ_SEED to replay a run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '@hush/server';
import { totalInputs, type FuzzPlan } from './fuzz-run.js';
import { FUZZ_LIMITS, fuzzWithHonestTraffic } from './fuzz-session.js';
import { SdkFixture, until } from './sdk.js';

export interface FuzzSuiteRun {
  /** At least this many hostile inputs must be sent. */
  minInputs: number;
  /** How long the honest pair chats meanwhile (ms). */
  chatMs: number;
  timeoutMs: number;
}

/** The plan's counts; the seed, the victim and the frame limit are filled in here. */
export type FuzzSuiteSize = Omit<FuzzPlan, 'seed' | 'victim' | 'maxFrameSize'>;

export function fuzzSuite(name: string, run: FuzzSuiteRun, size: FuzzSuiteSize): void {
  const seed = Number(process.env.HUSH_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
  let server: TestServer;
  const sdk = new SdkFixture();

  beforeAll(async () => {
    // lobby open: the hostile clients' text goes there (their own rooms are end to end).
    server = await startTestServer({ limits: FUZZ_LIMITS, openRooms: ['lobby'] });
  });
  afterAll(async () => {
    await sdk.cleanup();
    await server.stop();
  });

  describe(`${name} (seed ${seed})`, () => {
    const title = `≥${run.minInputs.toLocaleString('en')} hostile inputs: no crash, no hang, honest clients served throughout, every error coded`;
    it(
      title,
      async () => {
        const plan: FuzzPlan = { ...size, seed, victim: 'fuzz-victim', maxFrameSize: server.config.limits.maxFrameSize };
        const { stats, latency, chat, protoBefore } = await fuzzWithHonestTraffic(server, sdk, plan, run.chatMs);

        expect(totalInputs(stats)).toBeGreaterThanOrEqual(run.minInputs);
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
        // Answered, not starved: attackers and server share this process, and the machine may be loaded.
        expect(latency.p99).toBeLessThan(3000);
        expect(chat.sendErrors).toEqual([]);
        expect(chat.received).toEqual(chat.sent);

        // No prototype pollution in the (in-process) server.
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();

        // Still serving: a fresh client registers and talks; the hostile connections are all gone.
        const late = await sdk.user(server, server.fingerprint, 'fuzz-late');
        await late.joinRoom('fuzz-honest');
        const sentLate = await late.send('fuzz-honest', 'still here');
        expect(sentLate.id).toMatch(/^\d+$/);
        await until(() => server.server.connectionCount === 3, 10_000, 'hostile connections to close').catch((e: unknown) => {
          throw new Error(`${(e as Error).message}: ${server.server.connectionCount} connections still open`);
        });
      },
      run.timeoutMs,
    );
  });
}
