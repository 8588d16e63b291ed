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
          return settled({ value: (value as (...a: unknown[]) => unknown).apply(target, args) });
        } catch (error) {
          return settled({ error });
        }
      };
    },
  }) as unknown as AsyncStore;
}

type Outcome<T> = { value: T } | { error: unknown };
const OUTCOME = Symbol('outcome');

/** A promise of what is known already, which `outcomeNow` can read without waiting for a turn. */
function settled<T>(outcome: Outcome<T>): Promise<T> {
  const promise = 'value' in outcome ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
  if ('error' in outcome) promise.catch(() => undefined); // the caller still sees the rejection
  return Object.assign(promise, { [OUTCOME]: outcome });
}

/**
 * The outcome of a store call that finished when it was made (SQLite behind `asyncStore`), or
 * undefined for one still under way (PostgreSQL). Lets the message batch deliver in the turn it
 * committed in, as the synchronous store always did.
 */
export function outcomeNow<T>(promise: Promise<T>): Outcome<T> | undefined {
  return (promise as Promise<T> & { [OUTCOME]?: Outcome<T> })[OUTCOME];
}
