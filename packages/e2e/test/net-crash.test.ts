// kill -9 of hushd in the middle of heavy traffic, then a restart on the same data
// directory and port. Every acknowledged message is in history exactly once, the database is
// intact, and the SDK clients reconnect by themselves and catch up with no gap and no duplicate.
import { afterAll, describe, expect, it } from 'vitest';
import { checkCrashReport, crashScenario } from './helpers-net/crash.js';
import { SdkFixture } from './helpers-net/sdk.js';

const sdk = new SdkFixture();
afterAll(() => sdk.cleanup());

describe('crash safety', () => {
  it('kill -9 mid-traffic, restart: acked messages kept once, database intact, clients catch up', async () => {
    const report = await crashScenario({ senders: 4, window: 16, trafficMs: 1200, rounds: 1 }, sdk);
    console.log(
      JSON.stringify({
        acked: report.acked.length,
        unacked: report.unacked,
        stored: report.history.length,
        reconnectMs: report.reconnectMs,
        integrity: report.integrityAfterKill,
      }),
    );
    expect(report.acked.length).toBeGreaterThan(200);
    checkCrashReport(report);
  }, 90_000);
});
