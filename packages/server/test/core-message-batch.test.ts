// A turn's room messages and room notices (joins) leave as one shared block per member session, in
// the order they arrived: a storm of first logins into the default room costs each member one
// queue entry per turn, not one per join. The socket-level ordering is in server-rooms.test.ts.
import { describe, expect, it } from 'vitest';
import type { Session } from '../src/handlers/session.js';
import { Fanout } from '../src/handlers/fanout.js';
import { LocalBus } from '../src/bus/index.js';
import { MessageBatch, type MessageBatchDeps } from '../src/handlers/message-batch.js';
import type { SharedBlock } from '../src/outbound.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { Metrics } from '../src/metrics.js';
import { asyncStore } from '../src/store/async-store.js';
import type { NewMessage, Store, StoredMessage } from '../src/store/types.js';

function fakeDeps(memberCount: number, failStore = false) {
  const blocks: SharedBlock[][] = Array.from({ length: memberCount }, () => []);
  const replies: unknown[][] = Array.from({ length: memberCount }, () => []);
  const sent: string[][] = Array.from({ length: memberCount }, () => []);
  const sessions = blocks.map(
    (own, i) =>
      ({
        sendBlock: (b: SharedBlock) => own.push(b),
        sendLine: (line: string) => sent[i]!.push(line),
        send: (m: unknown) => replies[i]!.push(m),
      }) as unknown as Session,
  );
  const users = sessions.map((s) => ({ sessions: new Set([s]) }));
  let nextId = 1;
  const metrics = new Metrics();
  const deps = {
    logger: { error: () => undefined },
    rooms: { members: () => users },
    online: { get: () => undefined },
    fanout: new Fanout(metrics, DEFAULT_CONFIG.limits),
    turns: { wake: () => undefined, beforeEachFlush: () => undefined },
    store: {
      appendMessages: async (messages: NewMessage[]): Promise<StoredMessage[]> => {
        commits.push(messages.length);
        await gate;
        if (failStore) throw new Error('disk full');
        return messages.map((m) => ({ ...m, id: String(nextId++) }) as StoredMessage);
      },
    },
  } as unknown as MessageBatchDeps;
  // A store that answers when the test says so: `hold()` keeps the next commits in flight until `release()`.
  const commits: number[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => undefined;
  const hold = () => {
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
  };
  const release = () => {
    open();
    gate = Promise.resolve();
  };
  return { deps, metrics, blocks, replies, sent, sessions, commits, hold, release };
}

/** A batch on a LocalBus, as HushServer wires it: its commits come back through the bus's one id order. */
function wired(deps: MessageBatchDeps, from = '0'): MessageBatch {
  const bus: LocalBus = new LocalBus({ from, deliver: (m) => batch.delivered(m), fillGap: async () => [] });
  const batch = new MessageBatch({ ...deps, publish: (m) => bus.publishCommitted(m) });
  return batch;
}

const lines = (block: SharedBlock): Array<Record<string, unknown>> =>
  block.bytes
    .toString('utf8')
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const join = (user: string) => ({ type: 'room_event', room: 'lobby', event: 'join', user, ts: 1 }) as const;
const text = (from: string, t: string): NewMessage => ({ kind: 'room', ts: 1, from, room: 'lobby', text: t, action: false });

describe('MessageBatch', () => {
  it('sends a turn of joins and messages as one block per member, in arrival order, encoded once', async () => {
    const { deps, metrics, blocks, replies, sessions } = fakeDeps(40);
    const batch = wired(deps);
    batch.add(text('amy', 'first'), sessions[0]!, 'r1');
    for (let i = 0; i < 25; i++) batch.roomNotice('lobby', join(`new-${i}`));
    batch.add(text('new-3', 'hello from a newcomer'), sessions[1]!, 'r2');
    batch.roomNotice('lobby', join('last'));
    expect(blocks.every((b) => b.length === 0)).toBe(true); // nothing before the commit

    await batch.settled();
    for (const own of blocks) expect(own).toHaveLength(1);
    expect(new Set(blocks.map((b) => b[0]!.bytes)).size).toBe(1);
    const order = lines(blocks[0]![0]!).map((l) => (l.type === 'message' ? `msg:${String(l.text)}` : `join:${String(l.user)}`));
    expect(order).toEqual([
      'msg:first',
      ...Array.from({ length: 25 }, (_, i) => `join:new-${i}`),
      'msg:hello from a newcomer',
      'join:last',
    ]);
    expect(replies[0]).toEqual([{ type: 'ack', re: 'r1', msgId: '1', ts: 1 }]);
    expect(replies[1]).toEqual([{ type: 'ack', re: 'r2', msgId: '2', ts: 1 }]);
    expect(metrics.get('hush_fanout_deliveries_total')).toBe(40 * 28);
  });

  it('still sends the notices when storing the messages fails (the senders get errors in words)', async () => {
    const { deps, blocks, replies, sessions } = fakeDeps(3, true);
    const batch = wired(deps);
    batch.add(text('amy', 'lost'), sessions[0]!, 'r1');
    batch.roomNotice('lobby', join('bob'));
    await batch.settled();
    for (const own of blocks) expect(own.flatMap(lines)).toEqual([join('bob')]);
    expect(replies[0]).toEqual([
      { type: 'error', re: 'r1', code: 'INTERNAL', message: 'message not stored: the server could not save it; send it again' },
    ]);
  });

  it('keeps one commit in flight: what arrives meanwhile goes into the next, acked after the first', async () => {
    const { deps, replies, sessions, commits, hold, release } = fakeDeps(2);
    const batch = wired(deps);
    hold();
    batch.add(text('amy', 'one'), sessions[0]!, 'r1');
    batch.commit();
    batch.add(text('amy', 'two'), sessions[0]!, 'r2');
    batch.add(text('bob', 'three'), sessions[1]!, 'r3');
    batch.commit(); // the first is still being stored: this one waits
    expect(commits).toEqual([1]);
    expect(replies[0]).toEqual([]);
    release();
    await batch.settled();
    expect(commits).toEqual([1, 2]);
    expect(replies[0]).toEqual([
      { type: 'ack', re: 'r1', msgId: '1', ts: 1 },
      { type: 'ack', re: 'r2', msgId: '2', ts: 1 },
    ]);
    expect(replies[1]).toEqual([{ type: 'ack', re: 'r3', msgId: '3', ts: 1 }]);
  });

  it('delivers in the same turn when the store answered at once (SQLite behind asyncStore)', () => {
    const { deps, replies, blocks, sessions } = fakeDeps(2);
    const sqliteLike = asyncStore({
      appendMessages: (messages: NewMessage[]) => messages.map((m, i) => ({ ...m, id: String(100 + i) })),
    } as unknown as Store);
    const batch = wired({ ...deps, store: sqliteLike }, '99');
    batch.add(text('amy', 'at once'), sessions[0]!, 'r1');
    batch.commit();
    expect(replies[0]).toEqual([{ type: 'ack', re: 'r1', msgId: '100', ts: 1 }]);
    expect(blocks[1]!.flatMap(lines).map((l) => l.text)).toEqual(['at once']);
  });

  it("holds a room event back until the commit carrying the room's notices is delivered", async () => {
    const { deps, blocks, sent, hold, release } = fakeDeps(1);
    const batch = wired(deps);
    hold();
    batch.roomNotice('lobby', join('amy'));
    batch.commit();
    batch.roomEvent({ type: 'room_event', room: 'lobby', event: 'part', user: 'amy', ts: 2 });
    expect(sent[0]).toEqual([]);
    release();
    await batch.settled();
    expect(blocks[0]!.flatMap(lines)).toEqual([join('amy')]);
    expect(sent[0]!.map((l) => JSON.parse(l) as unknown)).toEqual([
      { type: 'room_event', room: 'lobby', event: 'part', user: 'amy', ts: 2 },
    ]);
  });

  it("a room event goes out at once, after the room's queued notices (it must not overtake them); the rest wait for the commit", async () => {
    const { deps, blocks, sent } = fakeDeps(2);
    const batch = wired(deps);
    batch.roomNotice('lobby', join('amy'));
    batch.roomNotice('other', { ...join('bob'), room: 'other' });
    const part = { type: 'room_event', room: 'lobby', event: 'part', user: 'amy', ts: 2 } as const;
    batch.roomEvent(part);
    expect(blocks[0]!.flatMap(lines)).toEqual([join('amy')]);
    expect(sent[0]!.map((l) => JSON.parse(l) as unknown)).toEqual([part]);
    batch.roomEvent(part); // no notice left to send first
    expect(blocks[0]!.flatMap(lines)).toEqual([join('amy')]);
    await batch.settled();
    expect(blocks[0]!.flatMap(lines)).toEqual([join('amy'), { ...join('bob'), room: 'other' }]);
  });

  it('does nothing when the turn had neither messages nor notices', async () => {
    const { deps, blocks, commits } = fakeDeps(2);
    await wired(deps).settled();
    expect(blocks.flat()).toEqual([]);
    expect(commits).toEqual([]);
  });
});
