// Whether the store answers. A database across the network can go away (a restart, a network
// cut): its calls then fail with StoreError UNAVAILABLE, in words a client may be given (never the
// connection string), and the change is reported once each way: the first call that fails for that
// reason, and the first probe that the database answers again.
import type { AsyncStore } from './async-store.js';
import { StoreError } from './store-error.js';

/** How long a client refused for an unreachable store is asked to wait before it sends again (about one probe). */
export const STORE_RETRY_AFTER_MS = 1000;

export interface WatchedStore {
  readonly store: AsyncStore;
  /** False from a failed connection until the database answers a probe again. */
  readonly available: boolean;
  /** Stops probing. */
  stop(): void;
}

/**
 * Recovery is decided by a probe (a real query, every `probeMs` while unavailable), not by the
 * next call that happens to succeed: some calls are answered from memory (cached bans, recent
 * idempotency keys, checkpoints PostgreSQL does not need) and prove nothing.
 */
export function watchAvailability(
  store: AsyncStore,
  onChange: (available: boolean, cause?: unknown) => void,
  probeMs = 1000,
): WatchedStore {
  let available = true;
  const set = (now: boolean, cause?: unknown) => {
    if (now === available) return;
    available = now;
    onChange(now, cause);
  };
  const watched = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          if (!isConnectionError(err)) throw err;
          set(false, err);
          throw new StoreError('UNAVAILABLE', 'the server cannot reach its database right now; try again shortly', { cause: err });
        }
      };
    },
  });
  const probe = setInterval(() => {
    if (available) return;
    store.getUser('').then(
      () => set(true),
      () => undefined,
    );
  }, probeMs);
  probe.unref();
  return {
    store: watched,
    get available() {
      return available;
    },
    stop: () => clearInterval(probe),
  };
}

/** True for a call refused because the store is known unreachable (store_unavailable was logged). */
export function isStoreUnavailable(err: unknown): err is StoreError {
  return err instanceof StoreError && err.code === 'UNAVAILABLE';
}

/** SQLSTATE classes that mean the connection, not the statement, failed. */
const CONNECTION_STATES = /^(08|57P0[1-3]|53300)/;

/**
 * True for failures to reach the database: socket errors (ECONNREFUSED...), PostgreSQL's
 * connection-exception and shutdown states, and node-postgres's own connection messages.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof StoreError) return isStoreUnavailable(err);
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return /^E[A-Z]+$/.test(code) || CONNECTION_STATES.test(code);
  return /connection|terminated|timeout exceeded when trying to connect|query read timeout|not queryable/i.test(err.message);
}
