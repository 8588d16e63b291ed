// SDK clients for the network attacks: temp client paths, cleanup, and event helpers.
import { HushClient, type ChatMessage, type ClientEvents, type ClientPaths, type ConnectOptions } from '@hush/client';
import { ClientFixture, eventWaiters } from '@hush/test-kit';

export interface Endpoint {
  host: string;
  port: number;
}

export const { nextEvent } = eventWaiters<ClientEvents>();

/** The shared ClientFixture with the endpoint and the pinned fingerprint given apart (a proxy has no key of its own). */
export class SdkFixture {
  private readonly clients = new ClientFixture<HushClient, ConnectOptions>((options) => HushClient.connect(options));

  paths(): Promise<ClientPaths> {
    return this.clients.paths();
  }

  dir(): Promise<string> {
    return this.clients.dir('hush-net-');
  }

  connect(at: Endpoint, fingerprint: string | undefined, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    return this.clients.connect({ host: at.host, port: at.port, fingerprint }, options);
  }

  /** A connected, registered user. */
  user(at: Endpoint, fingerprint: string, name: string, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    return this.clients.user({ host: at.host, port: at.port, fingerprint }, name, options);
  }

  cleanup(): Promise<void> {
    return this.clients.cleanup();
  }
}

/** Every chat message the client emits from now on. */
export function collectMessages(client: HushClient): ChatMessage[] {
  const out: ChatMessage[] = [];
  client.on('message', (m) => out.push(m));
  return out;
}

/** Polls `check` until it holds (bounded). */
export async function until(check: () => boolean, timeoutMs = 8000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
