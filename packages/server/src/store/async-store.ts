// The Store seen through promises. PostgreSQL answers over a socket, so its store cannot be
// synchronous; the server talks to either store through this one shape, and the SQLite store
// (synchronous underneath) is wrapped without changing what it does.
import type { Store } from './types.js';

/** Every Store method, returning a promise of what the synchronous one returns. */
export type AsyncStore = {
  [K in keyof Store]: Store[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * What may hold a store's calls for a while (SQLite: while its checkpoint worker catches up with the
 * WAL, which needs the writes to pause). Calls that must wait run later, in the order they were made.
 */
export interface WriteHold {
  /** Whether a call made now must wait. */
  mustWait(): boolean;
  /** Runs `call` once the hold ends, after the calls held before it. */
  defer(call: () => void): void;
}

/** Never held: the owner's checkpoint check, and close (which runs the held calls before it closes). */
const NEVER_HELD: ReadonlySet<string> = new Set<keyof Store>(['checkpointIfDue', 'close']);

/**
 * A synchronous store behind promises. Each call runs to completion when it is made (so order is
 * the order of the calls), and only its result, or its error, arrives as a promise; except while
 * the store's `writeHold` holds: then every call waits its turn, reads too, so that none overtakes
 * a write made before it.
 */
export function asyncStore(store: Store & { readonly writeHold?: WriteHold | null }): AsyncStore {
  const hold = store.writeHold ?? null;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const call = (args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      return (...args: unknown[]) =>
        hold && !NEVER_HELD.has(String(prop)) && hold.mustWait() ? later(hold, () => call(args)) : now(() => call(args));
    },
  }) as unknown as AsyncStore;
}

/** A call made now, its outcome known before this returns. */
function now<T>(call: () => T): Promise<T> {
  try {
    return settled({ value: call() });
  } catch (error) {
    return settled({ error });
  }
}

/** A call made once `hold` lets it: a promise still pending (`outcomeNow` says so). */
function later<T>(hold: WriteHold, call: () => T): Promise<T> {
  const promise = new Promise<T>((resolve, reject) =>
    hold.defer(() => {
      try {
        resolve(call());
      } catch (error) {
        reject(error);
      }
    }),
  );
  promise.catch(() => undefined); // as with `settled`: the caller still sees the rejection
  return promise;
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
 * undefined for one still under way (PostgreSQL; SQLite while its calls are held). Lets the message batch deliver in the turn it
 * committed in, as the synchronous store always did.
 */
export function outcomeNow<T>(promise: Promise<T>): Outcome<T> | undefined {
  return (promise as Promise<T> & { [OUTCOME]?: Outcome<T> })[OUTCOME];
}
