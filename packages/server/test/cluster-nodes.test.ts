// Three hushd nodes on one PostgreSQL database and one nats-server behave as one server: clients
// spread over them see one identity, every room message once and in one order, direct messages to
// every device wherever it is connected, and one history.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { directEnvelope, RawClient, registered, TEST_PASSWORD } from '../src/raw-client.js';
import { startTestServer } from '../src/testing.js';
import { clusterFixture } from './helpers/cluster.js';
import { until } from '../../test-kit/src/until.js';

const limits = { messagesPerSecond: 10_000, messageBurst: 10_000 };
const fx = clusterFixture(3, { openRooms: ['lobby'], limits });

async function user(node: number, name: string): Promise<RawClient> {
  const c = await registered(fx.cluster.nodes[node]!.port, name);
  fx.track(c);
  return c;
}

const roomTexts = (c: RawClient) =>
  c.take((m) => m.type === 'message' && m.room === 'lobby').flatMap((m) => (m.type === 'message' ? [`${m.msgId}:${m.text}`] : []));

describe('three nodes on PostgreSQL and NATS', () => {
  it('refuse --bus on SQLite: nodes deliver from one shared store', async () => {
    await expect(startTestServer({ bus: [fx.cluster.nats.url] })).rejects.toThrow(/--bus needs a shared store: add --store postgres:/);
  });

  it('present one identity', () => {
    const [a, b, c] = fx.cluster.nodes;
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
    const eliLaptop = await RawClient.connect(fx.cluster.nodes[2]!.port);
    const deePhone = await RawClient.connect(fx.cluster.nodes[2]!.port);
    fx.track(eliLaptop, deePhone);
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

  it('count users on every node as online: users_list, room_members and presence notices', async () => {
    const fay = await user(0, 'cl-fay');
    const gus = await user(1, 'cl-gus');
    const state = async (c: RawClient, name: string) => {
      const reply = await c.request({ type: 'users_list' });
      return reply.type === 'users' ? reply.users.find((u) => u.user === name)?.state : undefined;
    };
    expect(await state(gus, 'cl-fay')).toBe('online');
    expect(await state(fay, 'cl-gus')).toBe('online');
    const members = await gus.request({ type: 'room_members', room: 'lobby' });
    expect(members.type === 'members' && members.members.find((m) => m.user === 'cl-fay')).toMatchObject({ state: 'online' });
    await fay.expect({ type: 'presence_set', state: 'away', status: 'lunch' }, 'ok');
    expect(await gus.next((m) => m.type === 'presence' && m.user === 'cl-fay' && m.state === 'away', 10_000)).toMatchObject({
      status: 'lunch',
    });
    expect(await state(gus, 'cl-fay')).toBe('away');
    // Online on two nodes: leaving one of them keeps the user online.
    const fayAgain = await RawClient.connect(fx.cluster.nodes[2]!.port);
    fx.track(fayAgain);
    await fayAgain.login('cl-fay');
    await fay.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(gus.take((m) => m.type === 'presence' && m.user === 'cl-fay' && m.state === 'offline')).toEqual([]);
    expect(await state(gus, 'cl-fay')).not.toBe('offline');
    await fayAgain.close();
    await gus.next((m) => m.type === 'presence' && m.user === 'cl-fay' && m.state === 'offline', 10_000);
    expect(await state(gus, 'cl-fay')).toBe('offline');
  }, 60_000);

  it('relay typing in a room and in a direct conversation to other nodes', async () => {
    const hal = await user(0, 'cl-hal');
    const ida = await user(2, 'cl-ida');
    hal.send({ type: 'typing', target: { room: 'lobby' }, active: true });
    expect(await ida.next((m) => m.type === 'typing_notice' && m.from === 'cl-hal', 10_000)).toMatchObject({
      target: { room: 'lobby' },
      active: true,
    });
    hal.send({ type: 'typing', target: { user: 'cl-ida' }, active: true });
    expect(await ida.next((m) => m.type === 'typing_notice' && m.from === 'cl-hal' && 'user' in m.target, 10_000)).toMatchObject({
      target: { user: 'cl-hal' },
    });
  }, 60_000);

  it('apply a kick and a ban made on another node: the target hears it and is out of the room there', async () => {
    const owner = await user(0, 'cl-owner');
    const kim = await user(1, 'cl-kim');
    const lea = await user(2, 'cl-lea');
    await owner.expect({ type: 'room_create', room: 'cl-kicks' }, 'ok');
    await lea.expect({ type: 'room_join', room: 'cl-kicks' }, 'ok');
    await kim.expect({ type: 'room_join', room: 'cl-kicks' }, 'ok');
    // Lea (node 2) hears Kim's join made on node 1.
    await lea.next((m) => m.type === 'room_event' && m.event === 'join' && m.user === 'cl-kim', 10_000);
    await owner.expect({ type: 'kick', room: 'cl-kicks', user: 'cl-kim', reason: 'testing' }, 'ok');
    for (const c of [kim, lea]) {
      expect(await c.next((m) => m.type === 'room_event' && m.event === 'kick', 10_000)).toMatchObject({
        room: 'cl-kicks',
        user: 'cl-kim',
        by: 'cl-owner',
      });
    }
    // Node 1 no longer counts Kim in the room.
    expect(await kim.request({ type: 'room_part', room: 'cl-kicks' })).toMatchObject({ type: 'error', code: 'NOT_MEMBER' });

    // A server admin on node 0 bans Lea, connected to node 2: her session there is closed.
    const boss = await user(0, 'cl-boss');
    await fx.cluster.nodes[0]!.db.setServerRole('cl-boss', 'admin');
    const admin = await RawClient.connect(fx.cluster.nodes[0]!.port);
    fx.track(admin);
    await admin.login('cl-boss');
    await boss.close();
    await admin.expect({ type: 'ban', user: 'cl-lea', reason: 'testing bans' }, 'ok');
    expect(await lea.next('goodbye', 10_000)).toMatchObject({ code: 'BANNED' });
    const back = await RawClient.connect(fx.cluster.nodes[1]!.port);
    fx.track(back);
    expect(
      await back.request({ type: 'login', username: 'cl-lea', password: 'correct horse battery', device: back.bundle() }),
    ).toMatchObject({
      type: 'error',
      code: 'BANNED',
    });
  }, 60_000);

  it('offer a file uploaded on one node to its recipient on another, who downloads it there; the sender hears the status', async () => {
    const sam = await user(0, 'cl-sam');
    const tia = await user(1, 'cl-tia');
    const data = randomBytes(200_000);
    const created = await sam.expect({ type: 'file_offer', target: { user: 'cl-tia' }, size: data.length }, 'file_created');
    const chunks = Math.ceil(data.length / created.chunkSize);
    for (let i = 0; i < chunks; i++) {
      const part = data.subarray(i * created.chunkSize, (i + 1) * created.chunkSize);
      await sam.expect(
        { type: 'file_chunk', fileId: created.fileId, index: i, data: part.toString('base64url'), final: i === chunks - 1 },
        'ok',
      );
    }
    expect(await tia.next('file_offered', 10_000)).toMatchObject({ fileId: created.fileId, from: 'cl-sam', size: data.length });
    await tia.expect({ type: 'file_accept', fileId: created.fileId }, 'ok');
    const parts: Buffer[] = [];
    for (;;) {
      const m = await tia.next((x) => x.type === 'file_data' && x.fileId === created.fileId, 10_000);
      if (m.type !== 'file_data') throw new Error('unreachable');
      parts.push(Buffer.from(m.data, 'base64url'));
      if (m.final) break;
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(await sam.next((m) => m.type === 'file_status' && m.status === 'accepted', 10_000)).toMatchObject({ user: 'cl-tia' });
  }, 60_000);

  it("tell a user's contacts on other nodes of a new device", async () => {
    const mia = await user(0, 'cl-mia');
    await user(1, 'cl-ned');
    const laptop = await RawClient.connect(fx.cluster.nodes[2]!.port);
    fx.track(laptop);
    await laptop.login('cl-ned');
    const change = await mia.next((m) => m.type === 'key_change' && m.user === 'cl-ned', 10_000);
    expect(change.type === 'key_change' && change.devices).toHaveLength(2);
  }, 60_000);

  it('hold the login back-off across nodes: failures spread over the nodes add up', async () => {
    await (await user(0, 'cl-otto')).close();
    const attempt = async (node: number, password: string) => {
      const c = await RawClient.connect(fx.cluster.nodes[node]!.port);
      fx.track(c);
      const reply = await c.request({ type: 'login', username: 'cl-otto', password, device: c.bundle() });
      await c.close();
      return reply;
    };
    // Five failures are free per account; each node sees only two of these six itself.
    for (let i = 0; i < 6; i++) {
      expect(await attempt(i % 3, 'not the password at all')).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const node of [0, 1, 2]) expect(await attempt(node, TEST_PASSWORD)).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
  }, 60_000);

  it("keep a user's cached memberships in step on every node: a join made through one node, a mute made on another", async () => {
    const opal = await user(0, 'cl-opal');
    const pia = await user(0, 'cl-pia');
    const piaElsewhere = await RawClient.connect(fx.cluster.nodes[1]!.port);
    fx.track(piaElsewhere);
    await piaElsewhere.login('cl-pia');
    await opal.expect({ type: 'room_create', room: 'cl-sync' }, 'ok');
    // Pia joins through node 0; her session on node 1 is in the room too.
    await pia.expect({ type: 'room_join', room: 'cl-sync' }, 'ok');
    await piaElsewhere.next((m) => m.type === 'room_event' && m.event === 'join' && m.user === 'cl-pia', 10_000);
    const typing = piaElsewhere.next((m) => m.type === 'typing_notice' && m.from === 'cl-opal', 10_000);
    opal.send({ type: 'typing', target: { room: 'cl-sync' }, active: true });
    await typing;
    // Muted by the owner on node 0: node 1 refuses her send there.
    await opal.expect({ type: 'mute', room: 'cl-sync', user: 'cl-pia', seconds: 600 }, 'ok');
    await piaElsewhere.next((m) => m.type === 'room_event' && m.event === 'mute', 10_000);
    expect(await piaElsewhere.request({ type: 'send', room: 'cl-sync', envelope: 'AAAA' })).toMatchObject({ type: 'error', code: 'MUTED' });
  }, 60_000);
});
