// SDK scenarios on a three-node cluster (in-process hushd nodes on one PostgreSQL and one
// nats-server, one identity key): users on different nodes talk in the end-to-end encrypted default
// room, in direct messages and read one history, as they would on one server.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChatMessage, type ConnectOptions, HushClient } from '@hush/client';
import { ClientFixture, eventWaiters, startPostgres, type TestPostgres } from '@hush/test-kit';
import type { ClientEvents } from '@hush/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../server/test/helpers/cluster.js';

const fx = new ClientFixture<HushClient, ConnectOptions>((options) => HushClient.connect(options));
const { nextEvent } = eventWaiters<ClientEvents>();
let pg: TestPostgres;
let cluster: TestCluster;

beforeAll(async () => {
  pg = await startPostgres();
  cluster = await startCluster(await pg.createDatabase(), 3);
}, 120_000);

afterAll(async () => {
  await fx.cleanup();
  await cluster?.stop();
  await pg?.stop();
});

const on = (node: number) => cluster.nodes[node]!;

/** `from` sends `text` and resolves once `to` shows it. */
async function shown(from: HushClient, to: HushClient, text: string, room?: string): Promise<ChatMessage> {
  const arrives = nextEvent(to, 'message', (m) => m.text === text, 20_000);
  await (room === undefined ? from.sendDirect(to.user!, text) : from.send(room, text));
  return (await arrives)[0];
}

describe('the SDK on a three-node cluster', () => {
  it('end-to-end room: users on three nodes read each other, in one order, and one history', async () => {
    const amy = await fx.user(on(0), 'cs-amy');
    const bob = await fx.user(on(1), 'cs-bob');
    const cat = await fx.user(on(2), 'cs-cat');
    const lobby = amy.rooms.get('lobby');
    expect(lobby?.kind).toBe('e2e');
    expect((await shown(amy, bob, 'from node 0', 'lobby')).from).toBe('cs-amy');
    expect((await shown(bob, cat, 'from node 1', 'lobby')).from).toBe('cs-bob');
    expect((await shown(cat, amy, 'from node 2', 'lobby')).from).toBe('cs-cat');
    for (const reader of [amy, bob, cat]) {
      const { messages } = await reader.history({ room: 'lobby' }, { limit: 50 });
      expect(messages.map((m) => m.text)).toEqual(['from node 0', 'from node 1', 'from node 2']);
    }
  }, 120_000);

  it('direct messages between nodes, both ways, end to end', async () => {
    const dee = await fx.user(on(0), 'cs-dee');
    const eli = await fx.user(on(2), 'cs-eli');
    expect(await shown(dee, eli, 'hello across nodes')).toMatchObject({ kind: 'dm', from: 'cs-dee', peer: 'cs-dee' });
    expect(await shown(eli, dee, 'hello back')).toMatchObject({ kind: 'dm', from: 'cs-eli' });
  }, 120_000);

  it('a direct file sent through one node, downloaded through another, its status back to the sender', async () => {
    const fay = await fx.user(on(1), 'cs-fay');
    const gus = await fx.user(on(2), 'cs-gus');
    const content = randomBytes(150_000);
    const path = join(await fx.dir(), 'notes.bin');
    await writeFile(path, content);
    const offered = nextEvent(gus, 'fileOffer', undefined, 20_000);
    const downloaded = nextEvent(fay, 'fileStatus', (s) => s.status === 'downloaded', 20_000);
    const { fileId } = await fay.sendFile({ user: 'cs-gus' }, path);
    expect((await offered)[0]).toMatchObject({ fileId, from: 'cs-fay', name: 'notes.bin', size: content.length });
    const saved = await gus.acceptFile(fileId, await fx.dir());
    expect(Buffer.compare(await readFile(saved), content)).toBe(0);
    await downloaded;
  }, 120_000);
});
