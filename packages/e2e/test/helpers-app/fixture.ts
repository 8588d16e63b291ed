// SDK clients (the shared ClientFixture, on the SDK's build, without reconnecting) and raw clients
// for one test file, all released by cleanup().
import { HushClient, type ClientEvents, type ConnectOptions } from '@hush/client';
import { ClientFixture, eventWaiters, passwordOf } from '@hush/test-kit';
import { RawClient, type RawConnectOptions } from './raw-client.js';

export { passwordOf };
export const { nextEvent, collect } = eventWaiters<ClientEvents>();

export class AppFixture extends ClientFixture<HushClient, ConnectOptions> {
  private readonly raws: RawClient[] = [];

  constructor() {
    super((options) => HushClient.connect(options), { reconnect: false });
  }

  async raw(server: { host: string; port: number }, opts: Partial<RawConnectOptions> = {}): Promise<RawClient> {
    const raw = await RawClient.connect({ host: server.host, port: server.port, ...opts });
    this.raws.push(raw);
    return raw;
  }

  /** A raw client registered as `name`. */
  async rawUser(server: { host: string; port: number }, name: string): Promise<RawClient> {
    const raw = await this.raw(server);
    const reply = await raw.register(name, passwordOf(name));
    if (reply.type !== 'welcome') throw new Error(`register ${name}: ${JSON.stringify(reply)}`);
    return raw;
  }

  override async cleanup(): Promise<void> {
    await Promise.all(this.raws.splice(0).map((r) => r.close().catch(() => undefined)));
    await super.cleanup();
  }
}
