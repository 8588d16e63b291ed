// Three hushd nodes on one PostgreSQL database and one nats-server behave as one server: clients
// spread over them see one identity, every room message once and in one order, direct messages to
// every device wherever it is connected, and one history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { directEnvelope, RawClient, registered } from '../src/raw-client.js';
import { startCluster, type TestCluster } from './helpers/cluster.js';
import { newDatabase } from './helpers/store-under-test.js';

const limits = { messagesPerSecond: 10_000, messageBurst: 10_000 };
let cluster: TestCluster;
const clients: RawClient[] = [];

beforeAll(async () => {
  cluster = await startCluster(await newDatabase(), 3, { openRooms: ['lobby'], limits });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stop();
});

async function user(node: number, name: string): Promise<RawClient> {
  const c = await registered(cluster.nodes[node]!.port, name);
  clients.push(c);
  return c;
}

const roomTexts = (c: RawClient) =>
  c.take((m) => m.type === 'message' && m.room === 'lobby').flatMap((m) => (m.type === 'message' ? [`${m.msgId}:${m.text}`] : []));

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('three nodes on PostgreSQL and NATS', () => {
  it('present one identity', () => {
    const [a, b, c] = cluster.nodes;
    expect(new Set([a!.fingerprint, b!.fingerprint, c!.fingerprint]).size).toBe(1);
  });

  it('deliver every room message once to every member, in the same order on every node, as history has it', async () => {
    const members = [await user(0, 'cl-amy'), await user(1, 'cl-bob'), await user(2, 'cl-cat')];
    const seen: string[][] = members.map(() => []);
    const acks: string[] = [];
    // Everyone sends at once: the nodes' commits interleave.
    await Promise.all(
      members.map(async (c, i) => {
        for (let n = 0; n < 10; n++) {
          const reply = await c.request({ type: 'send', room: 'lobby', text: `m${i}-${n}` });
          expect(reply.type).toBe('ack');
          if (reply.type === 'ack') acks.push(reply.msgId);
        }
      }),
    );
    await until(() => {
      members.forEach((c, i) => seen[i]!.push(...roomTexts(c)));
      return seen.every((s) => s.length >= 30);
    }, 'every member has all 30 messages');
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more (no duplicate) arrives
    members.forEach((c, i) => seen[i]!.push(...roomTexts(c)));
    expect(seen[0]).toHaveLength(30);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    const ids = seen[0]!.map((s) => s.split(':')[0]!);
    expect([...ids].sort((x, y) => Number(x) - Number(y))).toEqual(ids); // id order
    expect(new Set(ids)).toEqual(new Set(acks));
    for (const c of members) {
      const page = await c.request({ type: 'history', target: { room: 'lobby' }, limit: 100 });
      const history = page.type === 'history_page' ? page.messages.map((m) => (m.type === 'message' ? `${m.msgId}:${m.text}` : '')) : [];
      expect(history).toEqual(seen[0]);
    }
  }, 60_000);

  it('deliver a direct message to each of the recipient devices on other nodes, and to the sender device elsewhere', async () => {
    const dee = await user(0, 'cl-dee');
    const eli = await user(1, 'cl-eli');
    // Second devices (each RawClient has a device of its own) on node 2.
    const eliLaptop = await RawClient.connect(cluster.nodes[2]!.port);
    const deePhone = await RawClient.connect(cluster.nodes[2]!.port);
    clients.push(eliLaptop, deePhone);
    await eliLaptop.login('cl-eli');
    await deePhone.login('cl-dee');
    const entry = (fill: number) => new Uint8Array(16).fill(fill);
    const envelope = directEnvelope(dee.device, [
      [eli.device, entry(1)],
      [eliLaptop.device, entry(2)],
      [deePhone.device, entry(3)],
    ]);
    const ack = await dee.expect({ type: 'dm_send', to: 'cl-eli', envelope }, 'ack');
    const own = (c: RawClient, fill: number) => directEnvelope(dee.device, [[c.device, entry(fill)]]);
    expect(await eli.next('dm', 10_000)).toMatchObject({ msgId: ack.msgId, from: 'cl-dee', envelope: own(eli, 1) });
    expect(await eliLaptop.next('dm', 10_000)).toMatchObject({ msgId: ack.msgId, envelope: own(eliLaptop, 2) });
    expect(await deePhone.next('dm', 10_000)).toMatchObject({ msgId: ack.msgId, envelope: own(deePhone, 3) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dee.take((m: ServerMessage) => m.type === 'dm')).toEqual([]); // the sending device has it already
    expect([eli, eliLaptop, deePhone].map((c) => c.take((m) => m.type === 'dm').length)).toEqual([0, 0, 0]);
  }, 60_000);
});
