// The shared client fixture and event waiters, on the SDK's source.
import { startTestServer, type TestServer } from '@hush/server';
import { ClientFixture, eventWaiters } from '@hush/test-kit';
import { join } from 'node:path';
import { HushClient } from '../src/client.js';
import { type ServerHome, serverHomeAt, serverHomeId } from '../src/server-home.js';
import type { ChatMessage, ClientEvents, ConnectOptions } from '../src/types.js';

/** Temp dirs and clients for one test file, released by cleanup(). */
export class Fixture extends ClientFixture<HushClient, ConnectOptions> {
  constructor() {
    super((options) => HushClient.connect(options));
  }

  /** A test server that never rate-limits the test's own sends, stopped at cleanup(). */
  async unthrottledServer(): Promise<TestServer> {
    return this.stopAfter(await startTestServer({ limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }));
  }
}

export const { nextEvent, collect } = eventWaiters<ClientEvents>();

/** Where `dataDir` keeps what belongs to the server with this fingerprint (a server's or a client's). */
export function homeOf(dataDir: string, server: { fingerprint: string }): ServerHome {
  return serverHomeAt(join(dataDir, 'servers', serverHomeId(server.fingerprint)));
}

/**
 * `from` sends `text` to `to`'s user (or into `room`) and resolves once `to` shows it: the wait
 * starts before the send, so the message cannot slip past.
 */
export async function sentAndShown(from: HushClient, to: HushClient, text: string, room?: string): Promise<ChatMessage> {
  const shown = nextEvent(to, 'message', (m) => m.text === text);
  await (room === undefined ? from.sendDirect(to.user!, text) : from.send(room, text));
  return (await shown)[0];
}
