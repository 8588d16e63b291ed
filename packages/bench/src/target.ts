import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Where the load generator points: the Hush server, the raw ceiling or an IRC peer, on loopback. */
export interface Target {
  kind: 'hush' | 'raw' | 'inspircd' | 'ngircd';
  host: string;
  port: number;
  /** Hush on several nodes: every node's port (`port` is the first); clients are spread over them in turn. */
  ports?: readonly number[];
}

/** The port the i-th client of a room connects to: the nodes' ports round-robin, or the one port. */
export function portFor(target: Target, i: number): number {
  return target.ports?.length ? target.ports[i % target.ports.length]! : target.port;
}

/** CPU and memory of a process, as reported over IPC. */
export interface ProcessUsage {
  cpuUserUs: number;
  cpuSystemUs: number;
  rss: number;
  /** V8 heap reserved (used + free pages it keeps). */
  heapTotal: number;
  heapUsed: number;
  external: number;
  wallMs: number;
}

export function processUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return {
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rss: mem.rss,
    heapTotal: mem.heapTotal,
    heapUsed: mem.heapUsed,
    external: mem.external,
    wallMs: performance.timeOrigin + performance.now(),
  };
}

/** CPU milliseconds and utilisation (0..1 of one core) between two samples. */
export function cpuBetween(a: ProcessUsage, b: ProcessUsage): { cpuMs: number; utilisation: number } {
  const cpuMs = (b.cpuUserUs - a.cpuUserUs + b.cpuSystemUs - a.cpuSystemUs) / 1000;
  const wall = b.wallMs - a.wallMs;
  return { cpuMs, utilisation: wall > 0 ? cpuMs / wall : Number.NaN };
}

/** Machine-wide CPU counters (Linux /proc/stat, in clock ticks); null elsewhere. */
export interface MachineSample {
  busy: number;
  total: number;
}

export function machineSample(): MachineSample | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Cores busy with work other than the server and the load generator between two machine samples
 * (the machine may be shared): total busy cores minus what the two processes used. NaN off Linux.
 */
export function otherLoad(a: MachineSample | null, b: MachineSample | null, ownCores: number, cores = cpus().length): number {
  if (!a || !b || b.total <= a.total) return Number.NaN;
  const busyCores = ((b.busy - a.busy) / (b.total - a.total)) * cores;
  return Math.max(0, busyCores - ownCores);
}
