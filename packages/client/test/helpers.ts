// The shared client fixture and event waiters, on the SDK's source.
import { ClientFixture, eventWaiters } from '@hush/test-kit';
import { HushClient } from '../src/client.js';
import type { ClientEvents, ConnectOptions } from '../src/types.js';

/** Temp dirs and clients for one test file, released by cleanup(). */
export class Fixture extends ClientFixture<HushClient, ConnectOptions> {
  constructor() {
    super((options) => HushClient.connect(options));
  }
}

export const { nextEvent, collect } = eventWaiters<ClientEvents>();
