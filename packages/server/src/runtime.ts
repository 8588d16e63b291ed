import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings hushd runs with, set by `tuneRuntime` at startup.
 *
 * --no-concurrent-array-buffer-sweeping: a busy server allocates a new buffer per sealed record
 * (node:crypto has no call that writes into a caller's buffer), hundreds of MB/s at fan-out. V8
 * counts those bytes as external memory until its array-buffer sweeper frees them after a
 * scavenge; on a background thread, that sweep waits for a free core, the count passes V8's limit
 * (64 MB over the last full collection) and every such crossing starts a full mark-compact. Swept
 * inside the scavenge instead, the count falls at once (figures in BENCHMARKS.md, What limits Hush).
 */
export const SERVER_V8_FLAGS: readonly string[] = ['--no-concurrent-array-buffer-sweeping'];

/**
 * Applies SERVER_V8_FLAGS to this process and returns them. Call once, early (V8 reads these
 * flags each time it collects, so they take effect from the next collection on). For processes
 * that host a server; a library must not change a process's V8 flags on import.
 */
export function tuneRuntime(): readonly string[] {
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag);
  return SERVER_V8_FLAGS;
}
