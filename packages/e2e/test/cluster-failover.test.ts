// Three real hushd processes on one PostgreSQL and one nats-server, SDK clients spread over them
// with every node as a failover address, in the end-to-end encrypted default room. Under a stream
// of sends from every client: a node is killed with SIGKILL, then the nats-server is killed and
// restarted, then PostgreSQL restarts. Every send the SDK reports acknowledged is in history once,
// and reaches every member once; members whose node stayed up see one order, the id order.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatMessage, type ConnectOptions, HushClient } from '@hush/client';
import { ClientFixture, startNats, startPostgres, type TestNats, type TestPostgres, until } from '@hush/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HushdProcess, startHushd } from '../../server/test/helpers/hushd-process.js';

const fx = new ClientFixture<HushClient, ConnectOptions>((options) => HushClient.connect(options));
let pg: TestPostgres;
let nats: TestNats;
let store: string;
const dirs: string[] = [];
const nodes: HushdProcess[] = [];

/** A hushd node of the cluster on `dataDir` (which holds the cluster's identity key, or gets it). */
function startNode(dataDir: string): Promise<HushdProcess> {
  return startHushd(['--port', '0', '--data-dir', dataDir, '--store', store, '--bus', nats.url, '--log-level', 'info']);
}

beforeAll(async () => {
  pg = await startPostgres();
  store = await pg.createDatabase();
  nats = await startNats();
  for (let i = 0; i < 3; i++) dirs.push(mkdtempSync(join(tmpdir(), `hush-cluster-${i}-`)));
  nodes.push(await startNode(dirs[0]!));
  // One identity for the cluster: the first node's key, copied before the others start.
  for (const dir of dirs.slice(1)) copyFileSync(join(dirs[0]!, 'identity.key'), join(dir, 'identity.key'));
  nodes.push(...(await Promise.all(dirs.slice(1).map((dir) => startNode(dir)))));
}, 120_000);

afterAll(async () => {
  await fx.cleanup();
  for (const node of nodes) {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGKILL');
    await node.exited;
  }
  await nats?.stop();
  await pg?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** `name` on node `home`, with the two other nodes as failover addresses. */
async function member(home: number, name: string): Promise<{ client: HushClient; seen: ChatMessage[] }> {
  const address = (i: number) => ({ host: '127.0.0.1', port: nodes[i % 3]!.port });
  const client = await fx.user({ ...address(home), fingerprint: nodes[0]!.fingerprint }, name, {
    failover: [address(home + 1), address(home + 2)],
  });
  const seen: ChatMessage[] = [];
  client.on('message', (m) => {
    if (m.room === 'lobby') seen.push(m);
  });
  return { client, seen };
}

/** Sends `count` messages one after another; returns the ids of those acknowledged (a refused one is resent once). */
async function stream(client: HushClient, label: string, count: number, pauseMs: number): Promise<string[]> {
  const acked: string[] = [];
  for (let n = 0; n < count; n++) {
    const text = `${label}-${n}`;
    const ack = await client.send('lobby', text).catch(() => client.send('lobby', text).catch(() => undefined));
    if (ack) acked.push(ack.id);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return acked;
}

/**
 * Each member sends 40 messages labelled `label`; once `ready` holds, `outage` runs while they flow.
 * Resolves to the ids acknowledged.
 */
async function outageUnderLoad(members: Member[], label: string, ready: () => boolean, outage: () => Promise<unknown>): Promise<string[]> {
  const sending = members.map(({ client }, i) => stream(client, `${label}${i}`, 40, 25));
  await until(ready, `some ${label} traffic before the outage`, 60_000);
  await outage();
  return (await Promise.all(sending)).flat();
}

describe('a three-node cluster under load', () => {
  it('loses a node to kill -9: its clients fail over; every acknowledged message is in history once and reaches every member once, in one order', async () => {
    const fingerprints = new Set(nodes.map((n) => n.fingerprint));
    expect(fingerprints.size).toBe(1);
    const members = [await member(0, 'kn-amy'), await member(1, 'kn-bob'), await member(2, 'kn-cat')];
    expect(members[0]!.client.rooms.get('lobby')?.kind).toBe('e2e');
    const states: string[] = [];
    members[0]!.client.on('state', (state) => states.push(state));
    const acked = await outageUnderLoad(
      members,
      'kill',
      () => members[1]!.seen.length >= 30,
      async () => {
        nodes[0]!.child.kill('SIGKILL');
        await nodes[0]!.exited;
      },
    );
    expect(acked.length).toBeGreaterThanOrEqual(100); // the killed node's client resent on another node
    expect(states).toEqual(['reconnecting', 'ready']);
    await checkDelivered(members, acked, members.slice(1));
  }, 180_000);

  it('loses the nats-server (killed, restarted): no acknowledged message lost or doubled, the nodes recover by themselves', async () => {
    const members = [await member(1, 'nb-dan'), await member(2, 'nb-eve')];
    const acked = await outageUnderLoad(
      members,
      'nats',
      () => members[0]!.seen.length >= 20,
      async () => {
        await nats.kill();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await nats.restart();
      },
    );
    expect(acked).toHaveLength(80); // the store was there all along: every send was acknowledged
    await checkDelivered(members, acked);
    // Each node said it lost the bus, and that it has it back.
    for (const node of nodes.slice(1)) {
      const lost = await node.waitForLog('bus_disconnected');
      await node.waitForLog('bus_connected', (l) => String(l.ts) >= String(lost.ts), 30_000);
    }
  }, 180_000);

  it('loses PostgreSQL (restarted): every acknowledged message delivered once, the nodes recover by themselves', async () => {
    const members = [await member(1, 'pg-fay'), await member(2, 'pg-gus')];
    const acked = await outageUnderLoad(
      members,
      'pg',
      () => members[0]!.seen.length >= 20,
      () => pg.restart(),
    );
    expect(acked.length).toBeGreaterThanOrEqual(40);
    await checkDelivered(members, acked);
    // Both nodes serve again: a new message goes round.
    const after = await members[0]!.client.send('lobby', 'after the restart');
    await until(() => members[1]!.seen.some((m) => m.id === after.id), 'a message after the restart arrives', 60_000);
  }, 180_000);
});

type Member = { client: HushClient; seen: ChatMessage[] };

/** Every acked id reaches every member once; history has each once; members whose node stayed up (`live`) saw the id order. */
async function checkDelivered(members: Member[], acked: readonly string[], live: Member[] = members): Promise<void> {
  await until(
    () => members.every(({ seen }) => acked.every((id) => seen.some((m) => m.id === id))),
    'every member has every acknowledged message',
    60_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 500)); // a duplicate would arrive meanwhile
  const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);
  for (const { seen } of members) {
    const ids = seen.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
  }
  const { messages } = await members[1]!.client.history({ room: 'lobby' }, { limit: 500 });
  const history = messages.map((m) => m.id);
  expect(new Set(history).size).toBe(history.length);
  for (const id of acked) expect(history).toContain(id);
  for (const { seen } of live) {
    const ids = seen.map((m) => m.id);
    expect(ids).toEqual([...ids].sort(byId));
  }
}
