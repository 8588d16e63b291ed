import { describe, expect, it } from 'vitest';
import { pinningPlan } from '../src/affinity.js';
import { describeMachine, runBench, SCENARIOS, type BenchResults } from '../src/bench.js';
import { SMOKE } from '../src/profiles.js';
import { checkTargets, renderTables } from '../src/report.js';
import { countLines, envelopeStamps, ownMarker, readStamps } from '../src/deliveries.js';
import { alternating } from '../src/scenarios/fanout.js';

// A tiny run of every scenario, so the benchmark cannot rot: the numbers must be sane and every
// count must match what was sent. No timing thresholds (the machine is shared).

describe('pnpm bench, smoke size', () => {
  let results: BenchResults;

  it('runs every scenario but the cluster (test/cluster.test.ts) without errors', async () => {
    const only = SCENARIOS.filter((s) => s !== 'cluster');
    results = await runBench({ profile: SMOKE, only, machine: describeMachine('n/a'), command: 'smoke test' });
    expect(results.errors).toEqual([]);
  }, 120_000);

  it('fan-out: Hush and raw deliver every message to every other member', () => {
    expect(results.fanout).toHaveLength(1);
    const f = results.fanout[0]!;
    expect(f.n).toBe(5);
    for (const side of [f.hush, f.raw]) {
      const recipients = side.echo ? 5 : 4;
      // Fixed rate: counted at the 2 observers; the 3 others read and drop what they receive.
      expect(side.fixed.sent).toBeGreaterThan(0);
      expect(side.fixed.observers).toBe(2);
      expect(side.fixed.observerSent).toBeGreaterThan(0);
      expect(side.fixed.observerSent).toBeLessThan(side.fixed.sent);
      expect(side.fixed.expected).toBe(2 * side.fixed.sent - (side.echo ? 0 : side.fixed.observerSent));
      expect(side.fixed.delivered).toBe(side.fixed.expected);
      expect(side.fixed.acks).toBe(side.fixed.observerSent);
      expect(side.fixed.discardedBytes).toBeGreaterThan(0);
      expect(side.fixed.samples).toBe(side.fixed.delivered);
      expect(side.fixed.p99Ms).toBeGreaterThan(0);
      expect(side.fixed.p99Ms).toBeGreaterThanOrEqual(side.fixed.p50Ms);
      // Before it, unmeasured and on the same connections: a closed-loop burst, then the fixed rate.
      expect(side.fixed.warmup.burstSent).toBeGreaterThan(0);
      expect(side.fixed.warmup.rateSent).toBeGreaterThan(0);
      expect(side.saturate.drained).toBe(true);
      expect(side.saturate.delivered).toBe(side.saturate.sent * recipients);
      expect(side.saturate.deliveriesPerSec).toBeGreaterThan(0);
      // Two windows per side, alternating with the other side's, on the same connections.
      expect(side.saturate.rounds).toHaveLength(SMOKE.fanout.rounds);
      for (const rate of side.saturate.rounds) expect(rate).toBeGreaterThan(0);
      // GC in both processes was watched over the windows (rates, so finite and not negative).
      for (const g of [side.saturate.gc.server, side.saturate.gc.loadgen]) {
        for (const value of [g.fullPerSec, g.msPerSec]) expect(value >= 0 && Number.isFinite(value)).toBe(true);
      }
      expect(side.fixed.problems).toEqual([]);
      expect(side.saturate.problems).toEqual([]);
    }
    expect(f.raw.echo).toBe(f.hush.echo);
    expect(f.throughputRatio).toBeGreaterThan(0);
    // Where taskset can pin (Linux, 2+ CPUs: CI), the fixed-rate phase ran pinned.
    expect(f.fixedPinned).toBe(pinningPlan() !== null);
  });

  it('handshakes and logins: every attempt completes', () => {
    const h = results.handshakes!;
    expect(h.handshake).toMatchObject({ completed: 20, failed: 0 });
    expect(h.deviceLogin).toMatchObject({ completed: 20, failed: 0 });
    expect(h.passwordLogin).toMatchObject({ completed: 2, failed: 0, scryptN: 2 ** 17 });
    expect(h.handshake.serverCpuMsEach).toBeGreaterThan(0);
    expect(h.passwordLogin.serverCpuMsEach).toBeGreaterThan(h.handshake.serverCpuMsEach);
  });

  it('memory: every idle connection is open and logged in at the server', () => {
    const [step] = results.memory!;
    expect(step).toMatchObject({ connections: 100, reached: 100, stopReason: null });
    expect(Number.isFinite(step!.bytesPerConnection)).toBe(true);
    expect(step!.rssAfter).toBeGreaterThan(0);
    expect(step!.rssCold).toBeGreaterThan(0); // read before the warm-up round, which logged in and left
  });

  it('file: transferred byte-identical, or reported as not available (never faked)', () => {
    const file = results.file!;
    if (file.available) {
      expect(file.identical).toBe(true);
      expect(file.bytes).toBe(SMOKE.file.bytes);
      expect(file.wallMs).toBeGreaterThan(0);
    } else {
      expect(file.reason).not.toMatch(/^failed/);
      expect(file.reason.length).toBeGreaterThan(0);
    }
  });

  it('history: rows stored and full pages returned from the store and over the network', () => {
    const h = results.history!;
    expect(h.rows).toBe(SMOKE.history.rows + SMOKE.history.singleAppends);
    expect(h.bulk.perSecond).toBeGreaterThan(0);
    expect(h.single.perSecond).toBeGreaterThan(0);
    expect(h.storePage.returned).toBe(SMOKE.history.pages * 100);
    expect(h.networkPage.returned).toBe(SMOKE.history.pages * 100);
  });

  it('sessions: every message opened, state sizes and a rotation measured', () => {
    const s = results.sessions!;
    expect(s.setups).toBeGreaterThan(0);
    for (const rate of [
      s.setupsPerSec,
      s.oneWay.sealsPerSec,
      s.oneWay.opensPerSec,
      s.alternating.messagesPerSec,
      s.room.sealsPerSec,
      s.room.opensPerSec,
    ]) {
      expect(rate > 0 && Number.isFinite(rate)).toBe(true);
    }
    expect(s.alternating.messages).toBeGreaterThanOrEqual(SMOKE.sessions.turns);
    expect(s.state.turns).toBe(SMOKE.sessions.turns);
    // README of @hush/crypto: 339-474 bytes plus 76 per skipped key (none here).
    for (const bytes of [s.state.initiatorBytes, s.state.responderBytes]) expect(bytes).toBeGreaterThanOrEqual(339);
    expect(s.room.inboundStateBytes).toBeGreaterThan(0);
    expect(s.room.rotation).toMatchObject({ devices: SMOKE.sessions.roomDevices });
    expect(s.room.rotation.rotations).toBeGreaterThan(0);
    expect(s.room.rotation.distributionBytes).toBeGreaterThan(0);
  });

  it('report: tables and target checks cover every scenario', () => {
    const text = renderTables(results);
    for (const heading of [
      'Room fan-out',
      'Saturation windows, garbage collection',
      'Fixed-rate phase',
      'Handshakes',
      'Idle logged-in',
      'File end to end',
      'History',
      'End-to-end crypto',
      'Targets',
    ]) {
      expect(text).toContain(heading);
    }
    const checks = checkTargets(results);
    expect(checks.some((c) => c.target.includes('handshakes/s'))).toBe(true);
    expect(checks.some((c) => c.target.includes('idle connection'))).toBe(true);
  });
});

describe('fan-out window order', () => {
  it('alternates the sides ABBA, so a steady drift weighs on both alike', () => {
    expect(alternating(1)).toEqual(['raw', 'hush']);
    expect(alternating(2)).toEqual(['raw', 'hush', 'hush', 'raw']);
    expect(alternating(3)).toEqual(['raw', 'hush', 'hush', 'raw', 'raw', 'hush']);
  });
});

describe('delivery accounting', () => {
  it('counts message and ack lines, hands over the others, and leaves own lines out of latencies', () => {
    const line = (from: string, t: number) =>
      JSON.stringify({ type: 'message', room: 'r', msgId: '1', ts: 1, from, text: `~T${t}~xx`, action: false });
    const payload = Buffer.from(
      [
        line('bob', 1),
        line('ann', 2),
        '{"type":"ack","re":"1"}',
        '{"type":"presence","user":"cy"}',
        line('annie', 3),
        '{"type":"mess',
        line('ann', 4),
      ].join('\n'),
    );
    const counts = { messages: 0, acks: 0 };
    const others: string[] = [];
    countLines(payload, counts, (l) => others.push(l.toString()));
    expect(counts).toEqual({ messages: 4, acks: 1 });
    expect(others).toEqual(['{"type":"presence","user":"cy"}', '{"type":"mess']);
    const latencies: number[] = [];
    readStamps(payload, 10, latencies, ownMarker('ann'));
    expect(latencies).toEqual([9, 7]);
  });

  it('in an e2e room, knows a message by its envelope head and leaves own lines and unknown heads out', () => {
    const line = (from: string, envelope: string) =>
      JSON.stringify({ type: 'message', room: 'r', msgId: '1', ts: 1, from, text: '', action: false, envelope });
    const sentAt = new Map([
      ['4gAAAAEAAAAA', 1],
      ['4gAAAAEAAAAB', 2],
      ['4gAAAAIAAAAA', 4],
    ]);
    const payload = Buffer.from(
      [
        line('bob', '4gAAAAEAAAAAxxxx'),
        line('ann', '4gAAAAEAAAABxxxx'),
        line('cy', '4gAAAAkAAAAAxxxx'),
        line('bob', '4gAAAAIAAAAAxxxx'),
        '{"type":"message","envelope":"4gA',
      ].join('\n'),
    );
    const latencies: number[] = [];
    readStamps(payload, 10, latencies, ownMarker('ann'), envelopeStamps(sentAt));
    expect(latencies).toEqual([9, 6]);
  });
});
