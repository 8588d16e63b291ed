// An honest client measuring the server's liveness while an attack runs: a logged-in raw client
// pings at a fixed interval (round-trip times), and an SDK pair exchanges room messages (every one
// must arrive, once, in order).
import type { HushClient } from '@hush/client';
import { RawClient } from './raw-client.js';
import { percentile } from './sdk.js';

export class PingProbe {
  readonly rtts: number[] = [];
  readonly failures: string[] = [];
  private running = true;
  private loop: Promise<void> | undefined;

  private constructor(private readonly client: RawClient) {}

  static async start(port: number, name: string, options: { intervalMs?: number; boundMs?: number } = {}): Promise<PingProbe> {
    const client = await RawClient.connect(port);
    await client.register(name);
    const probe = new PingProbe(client);
    probe.loop = probe.run(options.intervalMs ?? 50, options.boundMs ?? 3000);
    return probe;
  }

  private async run(intervalMs: number, boundMs: number): Promise<void> {
    while (this.running) {
      try {
        this.rtts.push(await this.client.ping(boundMs));
      } catch (error) {
        this.failures.push((error as Error).message);
        if (this.client.isClosed) return;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  summary(): { count: number; p50: number; p99: number; max: number; failures: number } {
    return {
      count: this.rtts.length,
      p50: Math.round(percentile(this.rtts, 50) * 10) / 10,
      p99: Math.round(percentile(this.rtts, 99) * 10) / 10,
      max: Math.round(Math.max(0, ...this.rtts) * 10) / 10,
      failures: this.failures.length,
    };
  }

  get closed(): boolean {
    return this.client.isClosed;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client.close();
  }
}

/** `sender` sends a room message every `intervalMs`; `receiver` must see each once, in order. */
export class ChatProbe {
  readonly sent: string[] = [];
  readonly received: string[] = [];
  readonly sendErrors: string[] = [];
  readonly roundTrips: number[] = [];
  private running = true;
  private loop: Promise<void> | undefined;
  private readonly sentAt = new Map<string, number>();

  constructor(
    private readonly sender: HushClient,
    receiver: HushClient,
    private readonly room: string,
    private readonly tag: string,
  ) {
    receiver.on('message', (m) => {
      if (m.room !== room || !m.text.startsWith(tag)) return;
      this.received.push(m.text);
      const at = this.sentAt.get(m.text);
      if (at !== undefined) this.roundTrips.push(performance.now() - at);
    });
  }

  start(intervalMs = 200): this {
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const text = `${this.tag} ${i}`;
        this.sent.push(text);
        this.sentAt.set(text, performance.now());
        try {
          await this.sender.send(this.room, text);
        } catch (error) {
          this.sendErrors.push((error as Error).message);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
