// A user's message budget holds across nodes: each node tells the others what its users sent, and
// a user with a connection on two nodes is held to one budget.
import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { RawClient, registered } from '../src/raw-client.js';
import { clusterFixture } from './helpers/cluster.js';

// A slow refill: the burst is what counts, however slowly the test runs.
const limits = { messagesPerSecond: 1, messageBurst: 20 };
const fx = clusterFixture(2, { openRooms: ['lobby'], limits });

const isRateLimited = (m: ServerMessage) => m.type === 'error' && m.code === 'RATE_LIMITED';

/** Sends `count` requests at once; returns their replies. */
async function burst(c: RawClient, tag: string, count: number): Promise<ServerMessage[]> {
  c.send(...Array.from({ length: count }, (_, i) => ({ type: 'room_list' as const, id: `${tag}${i}` })));
  return Promise.all(Array.from({ length: count }, (_, i) => c.next((m) => 're' in m && m.re === `${tag}${i}`, 10_000)));
}

describe('per-user message budget across nodes', () => {
  it('holds a user with a connection on node A and one on node B to one budget', async () => {
    const onA = await registered(fx.cluster.nodes[0]!.port, 'cul-ann');
    const onB = await RawClient.connect(fx.cluster.nodes[1]!.port);
    fx.track(onA, onB);
    await onB.login('cul-ann');
    // 15 room messages through node A (each connection alone could send 19).
    for (let i = 0; i < 15; i++) await onA.expect({ type: 'send', room: 'lobby', text: `a${i}` }, 'ack');
    // Node B has them all, so node A's count of them (told as they were sent) reached it too.
    let seen = 0;
    const deadline = Date.now() + 15_000;
    while (seen < 15) {
      if (Date.now() > deadline) throw new Error(`node B delivered ${seen} of 15 messages`);
      seen += onB.take((m) => m.type === 'message' && m.room === 'lobby').length;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The user has about 5 left: most of node B's 15 are refused.
    expect((await burst(onB, 'b', 15)).filter(isRateLimited).length).toBeGreaterThanOrEqual(5);
    // And node A, told what node B admitted, has little left too (without it, 5 and more).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await burst(onA, 'a', 10)).filter(isRateLimited).length).toBeGreaterThanOrEqual(4);
  }, 60_000);
});
