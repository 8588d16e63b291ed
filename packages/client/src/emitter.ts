import { EventEmitter } from 'node:events';
import { HushError } from './errors.js';

type Listener<A extends unknown[]> = (...args: A) => void;

/** A node EventEmitter with event names and argument types checked against `E`. */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly inner = new EventEmitter();

  constructor() {
    this.inner.setMaxListeners(100);
  }

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.inner.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.inner.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.inner.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.inner.listenerCount(event);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    // An 'error' event without listeners must not crash the host process: errors are also returned
    // from the calls that caused them.
    if (event === 'error' && this.inner.listenerCount('error') === 0) return;
    // Every listener is called, and the SDK's own work after the event goes on, even when one
    // throws: the exception is the application's, not the SDK's.
    for (const listener of this.inner.rawListeners(event) as ((...a: unknown[]) => void)[]) {
      try {
        listener.apply(this, args);
      } catch (error) {
        this.listenerThrew(event, error);
      }
    }
  }

  /**
   * An 'error' listener hears it in words, with the exception as `cause`; without one (or thrown by
   * one) it is thrown outside the SDK, an uncaught exception as with Node's own emitters, never lost.
   */
  private listenerThrew(event: string, error: unknown): void {
    if (event !== 'error' && this.inner.listenerCount('error') > 0) {
      const said = new HushError('INTERNAL', `a '${event}' listener threw: ${String(error)}`, { cause: error });
      (this.emit as unknown as (event: string, error: HushError) => void).call(this, 'error', said);
      return;
    }
    queueMicrotask(() => {
      throw error;
    });
  }
}
