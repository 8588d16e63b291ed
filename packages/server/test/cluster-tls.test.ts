// Two nodes whose bus is a nats-server that wants a password and speaks TLS only (the nodes trust
// its CA through busCa, and dial it by name): a message sent through one node reaches a client of
// the other.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPaths } from '../src/paths.js';
import { registered, type RawClient } from '../src/raw-client.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { startNats, type TestNats } from './helpers/nats.js';
import { makeCa } from './helpers/postgres.js';
import { newDatabase } from './helpers/store-under-test.js';

const undo: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of undo.reverse()) await step();
});

describe('a cluster on a guarded bus', () => {
  it('joins nodes over TLS with a password in the bus URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-cluster-tls-'));
    undo.push(() => rmSync(dir, { recursive: true, force: true }));
    // A CA and a certificate it signed for the name "localhost" (the bus is dialled by name).
    const ca = await makeCa(dir, { dnsName: 'localhost' });
    const [cert, key] = [join(dir, 'server.crt'), join(dir, 'server.key')];
    const nats: TestNats = await startNats(['--tls', '--tlscert', cert, '--tlskey', key, '--user', 'hushd', '--pass', 'bus-secret-2']);
    undo.push(() => nats.stop());
    const store = await newDatabase();
    const bus = [`tls://hushd:bus-secret-2@localhost:${nats.port}`];
    const start = async (dataDir?: string): Promise<TestServer> => {
      const node = await startTestServer({ store, bus, busCa: ca, openRooms: ['lobby'], ...(dataDir ? { dataDir } : {}) });
      undo.push(() => node.stop());
      return node;
    };
    const a = await start();
    const second = join(dir, 'node-b');
    mkdirSync(second, { mode: 0o700 });
    copyFileSync(dataPaths(a.dataDir).identity, dataPaths(second).identity);
    const b = await start(second);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect([a.healthy(), b.healthy()]).toEqual([true, true]);

    const clients: RawClient[] = [await registered(a.port, 'tls-ann'), await registered(b.port, 'tls-ben')];
    undo.push(() => Promise.all(clients.map((c) => c.close())));
    const [ann, ben] = clients as [RawClient, RawClient];
    const ack = await ann.expect({ type: 'send', room: 'lobby', text: 'over TLS' }, 'ack');
    expect(await ben.next((m) => m.type === 'message' && m.msgId === ack.msgId, 10_000)).toMatchObject({
      text: 'over TLS',
      from: 'tls-ann',
    });
  }, 60_000);
});
