// A node that loses its bus says so (health, log) and keeps serving its own clients; once the
// nats-server is back, the node reads what the others committed meanwhile from the store and
// delivers it, in id order, once.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { type RawClient, registered } from '../src/raw-client.js';
import { clusterFixture } from './helpers/cluster.js';
import { until } from '../../test-kit/src/until.js';

const fx = clusterFixture(2, { openRooms: ['lobby'], metricsPort: 0 });

const health = async (node: number) => (await fetch(`http://127.0.0.1:${fx.cluster.nodes[node]!.metricsPort}/healthz`)).status;
const busGauge = async (node: number) =>
  /\nhush_bus_connected (\d)\n/.exec(await (await fetch(`http://127.0.0.1:${fx.cluster.nodes[node]!.metricsPort}/metrics`)).text())?.[1];
const ids = (c: RawClient) => c.take((m: ServerMessage) => m.type === 'message').map((m) => (m.type === 'message' ? m.msgId : ''));

describe('two nodes whose nats-server goes away', () => {
  it('are unhealthy while it is gone, serve their own clients, and deliver what they missed once, in order, when it is back', async () => {
    const ann = await registered(fx.cluster.nodes[0]!.port, 'bo-ann');
    const ben = await registered(fx.cluster.nodes[1]!.port, 'bo-ben');
    fx.track(ann, ben);
    expect([await health(0), await health(1)]).toEqual([200, 200]);

    await fx.cluster.nats.kill();
    await until(() => !fx.cluster.nodes[0]!.healthy() && !fx.cluster.nodes[1]!.healthy(), 'both nodes notice');
    expect([await health(0), await health(1)]).toEqual([503, 503]);
    expect(await busGauge(0)).toBe('0');
    const acked: string[] = [];
    for (const [c, text] of [
      [ann, 'a1'],
      [ben, 'b1'],
      [ann, 'a2'],
      [ben, 'b2'],
    ] as const) {
      const reply = await c.request({ type: 'send', room: 'lobby', text });
      expect(reply.type).toBe('ack');
      if (reply.type === 'ack') acked.push(reply.msgId);
    }

    await fx.cluster.nats.restart();
    await until(() => fx.cluster.nodes[0]!.healthy() && fx.cluster.nodes[1]!.healthy(), 'both nodes have their bus back');
    expect(await busGauge(0)).toBe('1');
    expect([await health(0), await health(1)]).toEqual([200, 200]);
    const seen: string[][] = [[], []];
    await until(() => {
      seen[0]!.push(...ids(ann));
      seen[1]!.push(...ids(ben));
      return seen.every((s) => s.length >= acked.length);
    }, 'each client has every message');
    await new Promise((resolve) => setTimeout(resolve, 300));
    seen[0]!.push(...ids(ann));
    seen[1]!.push(...ids(ben));
    expect(seen[0]).toEqual(acked);
    expect(seen[1]).toEqual(acked);
  }, 60_000);

  it("a node that stops takes its users' presence with it: the other node's clients see them go offline", async () => {
    const cy = await registered(fx.cluster.nodes[0]!.port, 'bo-cy');
    const dot = await registered(fx.cluster.nodes[1]!.port, 'bo-dot');
    fx.track(cy, dot);
    const users = async () => {
      const reply = await cy.request({ type: 'users_list' });
      return reply.type === 'users' ? Object.fromEntries(reply.users.map((u) => [u.user, u.state])) : {};
    };
    await until(async () => (await users())['bo-dot'] === 'online', 'node 0 counts dot online');
    await fx.cluster.nodes[1]!.stop();
    // An earlier 'online' notice of dot may still wait in cy's buffer: wait for the 'offline' one.
    await cy.next((m) => m.type === 'presence' && m.user === 'bo-dot' && m.state === 'offline', 10_000);
    expect((await users())['bo-dot']).toBe('offline');
  }, 60_000);
});
