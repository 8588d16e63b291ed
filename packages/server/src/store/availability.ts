// Whether the store answers. A database across the network can go away (a restart, a network
// cut): its calls then fail with StoreError UNAVAILABLE, in words a client may be given (never the
// connection string), and the change is reported once each way: the first call that fails for that
// reason, and the first that succeeds again.
import type { AsyncStore } from './async-store.js';
import { StoreError } from './store-error.js';

export interface WatchedStore {
  readonly store: AsyncStore;
  /** False from a failed connection until a call succeeds again. */
  readonly available: boolean;
}

export function watchAvailability(store: AsyncStore, onChange: (available: boolean, cause?: unknown) => void): WatchedStore {
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
          const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          set(true);
          return result;
        } catch (err) {
          if (!isConnectionError(err)) {
            set(true); // the database answered, if only with a refusal
            throw err;
          }
          set(false, err);
          throw new StoreError('UNAVAILABLE', 'the server cannot reach its database right now; try again shortly', { cause: err });
        }
      };
    },
  });
  return {
    store: watched,
    get available() {
      return available;
    },
  };
}

/** SQLSTATE classes that mean the connection, not the statement, failed. */
const CONNECTION_STATES = /^(08|57P0[1-3]|53300)/;

/**
 * True for failures to reach the database: socket errors (ECONNREFUSED...), PostgreSQL's
 * connection-exception and shutdown states, and node-postgres's own connection messages.
 */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof StoreError) return err.code === 'UNAVAILABLE';
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return /^E[A-Z]+$/.test(code) || CONNECTION_STATES.test(code);
  return /connection|terminated|timeout exceeded when trying to connect|not queryable/i.test(err.message);
}
