// A user's message budget is one, however many connections they have: their sessions share it
// (same rate and burst as a connection's), and other users keep their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '@hush/protocol';
import { UserBudgets } from '../src/rate-limit.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { RawClient, registered } from '../src/raw-client.js';

// A slow refill: the burst is what counts, however slowly the test runs.
const limits = { messagesPerSecond: 1, messageBurst: 20 };
let server: TestServer;
const clients: RawClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ openRooms: ['lobby'], limits });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

/** Sends `count` requests at once; returns the refusals (RATE_LIMITED errors) among the replies. */
async function burst(c: RawClient, tag: string, count: number): Promise<ServerMessage[]> {
  c.send(...Array.from({ length: count }, (_, i) => ({ type: 'room_list' as const, id: `${tag}${i}` })));
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => c.next((m) => 're' in m && m.re === `${tag}${i}`, 10_000)));
  return replies.filter((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
}

describe('per-user message budget on one node', () => {
  it('holds two connections of one user to one budget, and leaves other users theirs', async () => {
    const phone = await registered(server.port, 'ul-ann');
    const laptop = await RawClient.connect(server.port);
    const other = await registered(server.port, 'ul-ben');
    clients.push(phone, laptop, other);
    await laptop.login('ul-ann');
    // Each connection alone could send 15 (its own burst is 20, one spent logging in).
    expect(await burst(phone, 'p', 15)).toEqual([]);
    // The user has 5 left (plus a token a second): most of the laptop's 15 are refused.
    const refused = await burst(laptop, 'l', 15);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused[0]).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect((refused[0] as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    // Another user on the same node is not held to Ann's budget.
    expect(await burst(other, 'o', 15)).toEqual([]);
  });
});

describe('UserBudgets', () => {
  it('shares a bucket per user, debits into debt, and forgets buckets that have refilled', () => {
    const budgets = new UserBudgets({ messagesPerSecond: 10, messageBurst: 5 });
    const ann = budgets.bucket('ann', 0);
    expect(budgets.bucket('ann', 0)).toBe(ann);
    budgets.debit('ann', 8, 0);
    expect(ann.tryTake(0)).toBe(false);
    expect(ann.waitMs(0)).toBe(400); // 3 tokens in debt, then one: 4 at 10 a second
    budgets.bucket('ben', 0);
    expect(budgets.size).toBe(2);
    // A minute on, both have refilled: making a new bucket drops them.
    budgets.bucket('cat', 60_000);
    expect(budgets.size).toBe(1);
    // Until the next minute, idle buckets are kept (no sweep on every new user).
    budgets.debit('dan', 1, 60_001);
    budgets.bucket('eve', 100_000);
    expect(budgets.size).toBe(3);
  });
});
