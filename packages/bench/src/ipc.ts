import type { ChildProcess } from 'node:child_process';

// A tiny request/response layer over the child-process IPC channel: the orchestrator drives the
// server-under-test and the load generator, each in its own process, by method name.

export type Handler = (args: never) => unknown;
export type Handlers = Record<string, Handler>;

interface Request {
  kind: 'call';
  id: number;
  method: string;
  args: unknown;
}
interface Response {
  kind: 'reply';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && (m as Request).kind === 'call';
}
function isResponse(m: unknown): m is Response {
  return typeof m === 'object' && m !== null && (m as Response).kind === 'reply';
}

/** In a forked child: answers calls from the parent. Tells the parent it is ready. */
export function serveIpc(handlers: Handlers): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('serveIpc: not started with an IPC channel (use child_process.fork)');
  process.on('message', (message: unknown) => {
    if (!isRequest(message)) return;
    const handler = handlers[message.method];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown method ${message.method}`);
        const value = await (handler as (a: unknown) => unknown)(message.args);
        send({ kind: 'reply', id: message.id, ok: true, value } satisfies Response);
      } catch (error) {
        const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
        send({ kind: 'reply', id: message.id, ok: false, error: text } satisfies Response);
      }
    })();
  });
  // The parent going away must not leave load or servers running.
  process.on('disconnect', () => process.exit(0));
  send({ kind: 'ready' });
}

export type RemoteApi<H extends Handlers> = {
  [K in keyof H]: (args: Parameters<H[K]>[0]) => Promise<Awaited<ReturnType<H[K]>>>;
};

/** In the parent: typed calls into a child that runs `serveIpc`. */
export class IpcPeer<H extends Handlers> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly ready: Promise<void>;
  readonly api: RemoteApi<H>;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m: unknown) => {
        if (typeof m === 'object' && m !== null && (m as { kind?: string }).kind === 'ready') {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new Error(`${name} exited before ready (${code ?? signal})`)));
    });
    child.on('message', (m: unknown) => {
      if (!isResponse(m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`${name}: ${m.error ?? 'failed'}`));
    });
    child.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (${code ?? signal})`));
      this.pending.clear();
    });
    this.api = new Proxy({} as RemoteApi<H>, {
      get: (_t, method: string) => (args: unknown) => this.call(method, args),
    });
  }

  call(method: string, args: unknown): Promise<never> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ kind: 'call', id, method, args } satisfies Request);
    });
  }
}
