import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeMachine, runBench, type BenchResults } from '../src/bench.js';
import { SMOKE } from '../src/profiles.js';
import { renderTables } from '../src/report.js';

// The cluster scenario at the smoke size: SQLite and PostgreSQL on one node, then three nodes on
// one PostgreSQL joined by a nats-server. Every count must match what was sent, and every process
// it started (nodes, PostgreSQL, nats-server) must be gone after. No timing thresholds.

/** No such process, or a zombie (pg_ctl's postmaster is init's child: a container's init may never reap it). */
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
};

describe('pnpm bench --only=cluster, smoke size', () => {
  let results: BenchResults;

  it('runs every setup without errors', async () => {
    results = await runBench({ profile: SMOKE, only: ['cluster'], machine: describeMachine('n/a'), command: 'cluster smoke test' });
    expect(results.errors).toEqual([]);
  }, 240_000);

  it('every setup delivers every message to every member, its clients spread over its nodes', () => {
    const c = results.cluster!;
    expect(c.n).toBe(SMOKE.cluster.n);
    expect(c.sides.map((s) => s.label)).toEqual(['SQLite, 1 node', 'PostgreSQL, 1 node', 'PostgreSQL + NATS, 3 nodes']);
    for (const s of c.sides) {
      expect(s.problems).toEqual([]);
      expect(s.deliveriesPerSec).toBeGreaterThan(0);
      expect(s.deliveriesPerNodeCpuSec).toBeGreaterThan(0);
      expect(s.deliveriesPerClusterCpuSec).toBeGreaterThan(0);
      expect(s.deliveriesPerClusterCpuSec).toBeLessThanOrEqual(s.deliveriesPerNodeCpuSec);
      expect(s.fixed.delivered).toBe(s.fixed.expected);
      expect(s.fixed.samples).toBe(s.fixed.delivered);
      expect(s.fixed.p99Ms).toBeGreaterThanOrEqual(s.fixed.p50Ms);
      expect(s.pids.nodes).toHaveLength(s.nodes);
      expect(s.saturationCpu.perNode).toHaveLength(s.nodes);
      // Every node did work: the clients (and the observers) were spread over all of them.
      for (const v of s.saturationCpu.perNode) expect(v).toBeGreaterThan(0);
      expect(s.saturationCpu.postgres === null).toBe(s.store === 'sqlite');
      expect(s.saturationCpu.nats === null).toBe(!s.bus);
    }
    const pg = c.sides.find((s) => s.store === 'postgres')!;
    expect(pg.saturationCpu.postgres!).toBeGreaterThan(0);
    const table = renderTables(results);
    expect(table).toContain('### Cluster');
    expect(table).toContain('PostgreSQL + NATS, 3 nodes');
  });

  it('stops every process it started', () => {
    const pids = results.cluster!.sides.flatMap((s) => [...s.pids.nodes, s.pids.postgres, s.pids.nats]);
    expect(pids.filter((p) => p !== null).length).toBeGreaterThanOrEqual(6);
    for (const pid of pids) if (pid !== null) expect(gone(pid), `process ${pid}`).toBe(true);
  });
});
