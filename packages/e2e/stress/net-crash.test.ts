// Stress variant of test/net-crash.test.ts: more senders, three kill -9 / restart rounds.
import { afterAll, describe, expect, it } from 'vitest';
import { checkCrashReport, crashScenario } from '../test/helpers-net/crash.js';
import { SdkFixture } from '../test/helpers-net/sdk.js';

const sdk = new SdkFixture();
afterAll(() => sdk.cleanup());

describe('crash safety (stress)', () => {
  it('three kill -9 rounds under heavier traffic', async () => {
    const report = await crashScenario({ senders: 8, window: 32, trafficMs: 2000, rounds: 3 }, sdk);
    console.log(
      JSON.stringify({
        acked: report.acked.length,
        unacked: report.unacked,
        stored: report.history.length,
        reconnectMs: report.reconnectMs,
      }),
    );
    expect(report.acked.length).toBeGreaterThan(1000);
    checkCrashReport(report);
  }, 600_000);
});
