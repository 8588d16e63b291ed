import { EventEmitter } from 'node:events';

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
    this.inner.emit(event, ...args);
  }
}
