// What a reload (SIGHUP) changes in a running hushd. The daemon's configuration object is live:
// the server reads it when it uses a value, so a reload copies the reloadable keys into it.
import { isDeepStrictEqual } from 'node:util';
import type { HushdConfig } from './config.js';

/**
 * Top-level keys a running daemon takes on at once; every limit is reloadable too. Everything
 * else (addresses, ports, the data directory, the default room, the scrypt cost) needs a restart.
 */
const RELOADABLE: ReadonlySet<keyof HushdConfig> = new Set<keyof HushdConfig>([
  'logLevel',
  'registration',
  'minPasswordLength',
  'maxFileSize',
  'retentionMs',
  'fileRetentionMs',
  'shutdownTimeoutMs',
]);

/** Changed key names only (limits as "limits.<key>"): values may be sensitive and stay out of logs. */
export interface ConfigChanges {
  /** Now in effect. */
  applied: string[];
  /** Changed, but in effect only after a restart. */
  needRestart: string[];
}

export function diffConfig(live: HushdConfig, next: HushdConfig): ConfigChanges {
  const changes: ConfigChanges = { applied: [], needRestart: [] };
  for (const key of Object.keys(next) as (keyof HushdConfig)[]) {
    if (key === 'limits') continue;
    if (isDeepStrictEqual(live[key], next[key])) continue;
    (RELOADABLE.has(key) ? changes.applied : changes.needRestart).push(key);
  }
  for (const key of new Set([...Object.keys(live.limits), ...Object.keys(next.limits)]) as Set<keyof HushdConfig['limits']>) {
    if (!isDeepStrictEqual(live.limits[key], next.limits[key])) changes.applied.push(`limits.${key}`);
  }
  return changes;
}

/**
 * Copies the reloadable part of `next` into `live` (in place: the server holds `live` and its
 * `limits` object). New connections get the new limits; open ones keep the rates they started
 * with, while timeouts and per-request checks follow the new values at once.
 */
export function applyConfig(live: HushdConfig, next: HushdConfig): ConfigChanges {
  const changes = diffConfig(live, next);
  Object.assign(live.limits, next.limits);
  const copy = <K extends keyof HushdConfig>(key: K) => {
    live[key] = next[key];
  };
  for (const key of RELOADABLE) copy(key);
  return changes;
}
