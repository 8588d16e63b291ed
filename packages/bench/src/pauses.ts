import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';

/** Event-loop stalls and GC pauses of a process over a window: where latency tails come from. */
export interface Pauses {
  /** Event-loop delay (ms): how late a timer ran, p99 and max. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  gcCount: number;
  /** Full (mark-compact) collections among them. */
  gcMajorCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** The longest pause's kind: minor (scavenge), major (mark-compact), incremental or weakcb. */
  gcMaxKind: string;
  /** JS heap in use at the end (MiB). */
  heapUsedMiB: number;
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

export class PauseWatch {
  private histogram: IntervalHistogram | null = null;
  private observer: PerformanceObserver | null = null;
  private gc = { count: 0, major: 0, total: 0, max: 0, maxKind: '' };

  start(): void {
    this.stop();
    this.gc = { count: 0, major: 0, total: 0, max: 0, maxKind: '' };
    this.histogram = monitorEventLoopDelay({ resolution: 1 });
    this.histogram.enable();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
        this.gc.count++;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.gc.major++;
        this.gc.total += entry.duration;
        if (entry.duration > this.gc.max) {
          this.gc.max = entry.duration;
          this.gc.maxKind = GC_KINDS[kind] ?? String(kind);
        }
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): Pauses | null {
    const h = this.histogram;
    this.observer?.disconnect();
    this.observer = null;
    this.histogram = null;
    if (!h) return null;
    h.disable();
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return {
      loopDelayP99Ms: ms(h.percentile(99)),
      loopDelayMaxMs: ms(h.max),
      gcCount: this.gc.count,
      gcMajorCount: this.gc.major,
      gcTotalMs: Math.round(this.gc.total * 100) / 100,
      gcMaxMs: Math.round(this.gc.max * 100) / 100,
      gcMaxKind: this.gc.maxKind,
      heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 18) / 4,
    };
  }
}
