// Two nodes on two routed nats-servers (a NATS cluster): when one node's nats-server goes away for
// longer than three heartbeats, the other node counts that node gone and its users offline; when
// it is back, the cut-off node tells who is online there again, and messages committed meanwhile
// are delivered once, in order.
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { registered } from '../src/raw-client.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { startNats, type TestNats } from './helpers/nats.js';
import { until } from '../../test-kit/src/until.js';
import { newDatabase } from './helpers/store-under-test.js';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../src/paths.js';

const undo: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of undo.reverse()) await step();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('a node cut off from the bus while the others keep it', () => {
  it('is counted gone, then tells who is online there once it is back', async () => {
    const [routeA, routeB] = [await freePort(), await freePort()];
    // Not advertised to clients: a node stays on its own nats-server (else it would move to the other).
    const route = (own: number, other: number) => [
      '--cluster',
      `nats://127.0.0.1:${own}`,
      '--routes',
      `nats://127.0.0.1:${other}`,
      '--no_advertise',
    ];
    const natsA: TestNats = await startNats(route(routeA, routeB));
    undo.push(() => natsA.stop());
    const natsB: TestNats = await startNats(route(routeB, routeA));
    undo.push(() => natsB.stop());
    const store = await newDatabase();
    const dirs = [mkdtempSync(join(tmpdir(), 'hush-part-a-')), mkdtempSync(join(tmpdir(), 'hush-part-b-'))];
    undo.push(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
    const start = async (dataDir: string, bus: string): Promise<TestServer> => {
      const node = await startTestServer({ store, bus: [bus], dataDir, openRooms: ['lobby'] });
      undo.push(() => node.stop());
      return node;
    };
    const a = await start(dirs[0]!, natsA.url);
    copyFileSync(dataPaths(dirs[0]!).identity, dataPaths(dirs[1]!).identity);
    const b = await start(dirs[1]!, natsB.url);

    const ann = await registered(a.port, 'part-ann');
    const ben = await registered(b.port, 'part-ben');
    undo.push(() => Promise.all([ann.close(), ben.close()]));
    const benState = async () => {
      const reply = await ann.request({ type: 'users_list' });
      return reply.type === 'users' ? reply.users.find((u) => u.user === 'part-ben')?.state : undefined;
    };
    // The routes take a moment: until then, the nodes do not hear each other.
    await until(async () => (await benState()) === 'online', 'node a hears of ben on node b', 30_000);

    await new Promise((resolve) => setTimeout(resolve, 200)); // the presence notice of ben's login, if still on its way
    ann.take((m) => m.type === 'presence');
    await natsB.kill();
    await ann.next((m) => m.type === 'presence' && m.user === 'part-ben' && m.state === 'offline', 15_000);
    expect(await benState()).toBe('offline');
    const ack = await ann.expect({ type: 'send', room: 'lobby', text: 'while b was cut off' }, 'ack');
    await natsB.restart();
    await ann.next((m) => m.type === 'presence' && m.user === 'part-ben' && m.state === 'online', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await benState()).toBe('online');
    const got = await ben.next((m) => m.type === 'message' && m.msgId === ack.msgId, 15_000);
    expect(got).toMatchObject({ text: 'while b was cut off' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ben.take((m: ServerMessage) => m.type === 'message' && m.msgId === ack.msgId)).toEqual([]);
  }, 90_000);
});
