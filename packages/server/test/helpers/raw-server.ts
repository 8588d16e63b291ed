// A test server for raw-protocol tests: started before the calling file's tests with roomy rate
// limits; `user(name)` registers a raw client, `newDevice(name)` logs another device into that account,
// `connect()` only connects one, `track(c)` adopts one; all are closed afterwards. The server runs on the store under test (SQLite, or PostgreSQL in the
// vitest project "postgres"). Raw clients speak clear text, so the default room is open here
// (`openRooms: ['lobby']`, added to any overrides); every other room is end-to-end unless made open.
import { afterAll, beforeAll, expect } from 'vitest';
import { RawClient, registered } from '../../src/raw-client.js';
import type { TestServer, TestServerOverrides } from '../../src/testing.js';
import { testServer } from './store-under-test.js';

/**
 * What a raw client sends to an end-to-end room in place of text: it holds no sender keys, and the
 * server relays and stores any envelope as an opaque block, so the text itself stands in for one.
 */
export const sealed = (text: string): string => Buffer.from(text).toString('base64url');

export interface RawServer {
  readonly server: TestServer;
  user(name: string): Promise<RawClient>;
  /** A new device for the existing account `name`: a password login binds it. */
  newDevice(name: string): Promise<RawClient>;
  /** Connected and handshaken, not logged in. */
  connect(): Promise<RawClient>;
  /** Closes `client` with the others after the file's tests. */
  track(client: RawClient): RawClient;
}

export function rawServer(overrides: TestServerOverrides = { limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }): RawServer {
  const clients: RawClient[] = [];
  const fixture = {
    server: undefined as unknown as TestServer,
    async user(name: string): Promise<RawClient> {
      const c = await registered(fixture.server.port, name);
      clients.push(c);
      return c;
    },
    async newDevice(name: string): Promise<RawClient> {
      const c = await fixture.connect();
      expect(await c.login(name)).toMatchObject({ user: name, deviceBound: true });
      return c;
    },
    async connect(): Promise<RawClient> {
      return fixture.track(await RawClient.connect(fixture.server.port));
    },
    track(client: RawClient): RawClient {
      clients.push(client);
      return client;
    },
  };
  beforeAll(async () => {
    fixture.server = await testServer({ openRooms: ['lobby'], ...overrides });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fixture.server?.stop();
  });
  return fixture;
}
