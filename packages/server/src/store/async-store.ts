// The Store seen through promises. PostgreSQL answers over a socket, so its store cannot be
// synchronous; the server talks to either store through this one shape, and the SQLite store
// (synchronous underneath) is wrapped without changing what it does.
import type { Store } from './types.js';

/** Every Store method, returning a promise of what the synchronous one returns. */
export type AsyncStore = {
  [K in keyof Store]: Store[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * A synchronous store behind promises. Each call still runs to completion when it is made (so
 * order is the order of the calls); only its result, or its error, arrives as a promise.
 */
export function asyncStore(store: Store): AsyncStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          return Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    },
  }) as unknown as AsyncStore;
}
