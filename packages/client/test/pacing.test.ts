// The pure cores of pacing: the token pacer, the outbox, the send queue and the signal coalescer,
// on a fake clock and fake timers.
import { clientKey, type ClientMessage, type ServerMessageOf } from '@hush/protocol';
import { until } from '@hush/test-kit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HushError } from '../src/errors.js';
import { costsMessageBudget, Outbox } from '../src/outbox.js';
import { DEFAULT_CLIENT_LIMITS, limitsFrom } from '../src/limits.js';
import { TokenPacer } from '../src/pacer.js';
import type { RequestBody } from '../src/requests.js';
import { newSendKey, SendQueue } from '../src/send-queue.js';
import { Signals } from '../src/signals.js';

describe('TokenPacer', () => {
  it('allows the burst less its margin at once, then the rate less 10 %', () => {
    const p = new TokenPacer(10, 40, 0);
    let n = 0;
    while (p.tryTake(0)) n++;
    expect(n).toBe(36);
    expect(p.waitMs(0)).toBe(Math.ceil(1000 / 9));
    let later = 0;
    for (let t = 0; t <= 10_000; t += 10) while (p.tryTake(t)) later++;
    expect(later).toBeGreaterThanOrEqual(89);
    expect(later).toBeLessThanOrEqual(90); // 9 per second for 10 s, never the server's 10
  });

  it('backOff empties the bucket and blocks until the given time; reset fills it', () => {
    const p = new TokenPacer(10, 40, 0);
    p.backOff(0, 500);
    expect(p.tryTake(499)).toBe(false);
    expect(p.waitMs(0)).toBe(500);
    expect(p.tryTake(500)).toBe(true);
    p.reset(600);
    let n = 0;
    while (p.tryTake(600)) n++;
    expect(n).toBe(36);
  });

  it('configure applies new limits (a smaller burst cuts the tokens held)', () => {
    const p = new TokenPacer(10, 40, 0);
    p.configure(2, 5, 0);
    let n = 0;
    while (p.tryTake(0)) n++;
    expect(n).toBe(4);
  });

  it('limitsFrom takes the welcome limits, and defaults for anything missing or insane', () => {
    expect(limitsFrom({})).toEqual(DEFAULT_CLIENT_LIMITS);
    const limits = { messagesPerSecond: 20, messageBurst: 60, signalsPerSecond: 10, signalBurst: 40, maxTextLength: 3000 };
    expect(limitsFrom({ limits })).toEqual(limits);
    expect(limitsFrom({ limits: { ...limits, messageBurst: -1 } }).messageBurst).toBe(DEFAULT_CLIENT_LIMITS.messageBurst);
  });
});

describe('Outbox', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  const msg = (n: number): ClientMessage => ({ type: 'send', id: `r${n}`, room: 'lobby', text: `m${n}` });

  it('writes budgeted frames in order as the pacer allows, none refused, none early', () => {
    const outbox = new Outbox(new TokenPacer(10, 40, 0), () => Date.now());
    const written: { id: string; at: number }[] = [];
    outbox.attach((m) => written.push({ id: (m as { id: string }).id, at: Date.now() }));
    for (let i = 0; i < 100; i++) outbox.push(msg(i));
    expect(written.length).toBe(36);
    vi.advanceTimersByTime(10_000);
    expect(written.map((w) => w.id)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
    // Never more than the server's bucket would take: replay them against a 10/s burst-40 bucket.
    const server = new ServerBucket(10, 40);
    for (const w of written) expect(server.take(w.at)).toBe(true);
  });

  it('holds everything after backOff, and drops queued frames with the connection', () => {
    const outbox = new Outbox(new TokenPacer(10, 40, 0), () => Date.now());
    const written: ClientMessage[] = [];
    outbox.attach((m) => written.push(m));
    outbox.backOff(1000);
    outbox.push(msg(1));
    vi.advanceTimersByTime(999);
    expect(written).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(written.length).toBe(1);
    outbox.backOff(1000);
    outbox.push(msg(2));
    outbox.detach();
    outbox.attach((m) => written.push(m));
    vi.advanceTimersByTime(5000);
    expect(written.length).toBe(1);
  });

  it('typing, read markers, ping/pong and file chunks do not cost the message budget', () => {
    expect(costsMessageBudget({ type: 'typing', target: { room: 'a' }, active: true })).toBe(false);
    expect(costsMessageBudget({ type: 'read', id: '1', target: { room: 'a' }, msgId: '1' })).toBe(false);
    expect(costsMessageBudget({ type: 'ping' })).toBe(false);
    expect(costsMessageBudget(msg(1))).toBe(true);
    expect(costsMessageBudget({ type: 'history', id: '1', target: { room: 'a' }, limit: 1 })).toBe(true);
  });
});

/** The server's bucket (as hushd's TokenBucket), to check what the client writes against. */
class ServerBucket {
  private tokens: number;
  private last = 0;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

describe('SendQueue', () => {
  type Ack = ServerMessageOf<'ack'>;
  function harness() {
    let ready = true;
    const calls: { body: RequestBody; resolve: (a: Ack) => void; reject: (e: HushError) => void }[] = [];
    const backOffs: number[] = [];
    const helds: boolean[] = [];
    const queue = new SendQueue({
      ready: () => ready,
      request: (body) => new Promise<Ack>((resolve, reject) => calls.push({ body, resolve, reject })),
      backOff: (ms) => backOffs.push(ms),
      changed: () => undefined,
      held: (held) => helds.push(held),
    });
    const room = (text: string) =>
      queue.add({ target: { room: 'lobby' }, text, action: false }, async (key) => ({ type: 'send', room: 'lobby', text, key }));
    return { queue, calls, backOffs, helds, room, setReady: (r: boolean) => (ready = r) };
  }
  const ack = (n: number): Ack => ({ type: 'ack', re: `r${n}`, msgId: String(n), ts: n });
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('keys are valid protocol idempotency keys and random', () => {
    const keys = new Set(Array.from({ length: 100 }, () => newSendKey()));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(clientKey.safeParse(k).success).toBe(true);
  });

  it('a send refused for rate, or cut by a lost connection, goes again with the same key; only a refusal for good rejects', async () => {
    const h = harness();
    const first = h.room('one');
    const second = h.room('two');
    await flush();
    expect(h.calls.map((c) => (c.body as { text: string }).text)).toEqual(['one', 'two']);
    const key1 = (h.calls[0]!.body as { key: string }).key;
    h.calls[0]!.reject(new HushError('RATE_LIMITED', 'slow down', { retryAfterMs: 700 }));
    await flush();
    expect(h.backOffs).toEqual([700]);
    expect((h.calls[2]!.body as { key: string }).key).toBe(key1);
    // The connection drops: both fail, nothing goes out until it is ready again, then both again.
    h.setReady(false);
    h.calls[1]!.reject(new HushError('CONNECTION_CLOSED'));
    h.calls[2]!.reject(new HushError('CONNECTION_CLOSED'));
    await flush();
    expect(h.calls.length).toBe(3);
    expect(h.queue.pending.map((p) => p.state)).toEqual(['queued', 'queued']);
    h.setReady(true);
    h.queue.pump();
    await flush();
    expect(h.calls.slice(3).map((c) => (c.body as { key: string }).key)).toEqual([key1, (h.calls[1]!.body as { key: string }).key]);
    h.calls[3]!.resolve(ack(1));
    h.calls[4]!.reject(new HushError('NOT_MEMBER', 'not a member'));
    await expect(first).resolves.toMatchObject({ msgId: '1' });
    await expect(second).rejects.toMatchObject({ code: 'NOT_MEMBER' });
    expect(h.queue.pending).toEqual([]);
  });

  it('temporary refusals (the database away) hold the sends and say so once; the next ack says they go again', async () => {
    const h = harness();
    const sends = [h.room('one'), h.room('two')];
    await flush();
    const away = () => new HushError('INTERNAL', 'the server cannot reach its database right now', { retryAfterMs: 1 });
    for (const c of h.calls) c.reject(away());
    await flush();
    expect(h.helds).toEqual([true]);
    expect(h.queue.pending.map((p) => p.state)).toEqual(['queued', 'queued']);
    await until(() => h.calls.length === 4, 'both sent again after the wait');
    for (const c of h.calls.slice(2)) c.reject(away()); // still away: nothing more said
    await until(() => h.calls.length === 6, 'both sent once more');
    expect(h.helds).toEqual([true]);
    h.calls[4]!.resolve(ack(1));
    h.calls[5]!.resolve(ack(2));
    await expect(Promise.all(sends)).resolves.toHaveLength(2);
    expect(h.helds).toEqual([true, false]);
    expect(h.calls.map((c) => (c.body as { text: string }).text)).toEqual(['one', 'two', 'one', 'two', 'one', 'two']);
  }, 30_000);

  it('prepares (seals) a frame once however often it is sent, and in order', async () => {
    const h = harness();
    let prepared = 0;
    const p = h.queue.add({ target: { user: 'bob' }, text: 'hi', action: false }, async (key) => {
      prepared++;
      await flush();
      return { type: 'dm_send', to: 'bob', envelope: `sealed-${prepared}`, key };
    });
    const after = h.room('after');
    await flush();
    await flush();
    expect(h.calls.map((c) => c.body.type)).toEqual(['dm_send', 'send']);
    h.calls[0]!.reject(new HushError('CONNECTION_CLOSED'));
    await flush();
    expect(h.calls[2]!.body).toEqual(h.calls[0]!.body);
    expect(prepared).toBe(1);
    h.calls[2]!.resolve(ack(2));
    h.calls[1]!.resolve(ack(3));
    await expect(p).resolves.toMatchObject({ msgId: '2' });
    await expect(after).resolves.toMatchObject({ msgId: '3' });
  });

  it('rejectAll settles every pending send with the reason', async () => {
    const h = harness();
    h.setReady(false);
    const p = h.room('never');
    h.queue.rejectAll(new HushError('CONNECTION_CLOSED', 'closed'));
    await expect(p).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(h.calls).toEqual([]);
  });
});

describe('Signals', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  function harness() {
    const typing: string[] = [];
    const reads: { msgId: string; done: () => void; fail: (e: HushError) => void }[] = [];
    const signals = new Signals(
      {
        connected: () => true,
        sendTyping: (target, active) => typing.push(`${'room' in target ? target.room : target.user}:${active}`),
        sendRead: (_target, msgId) => new Promise((done, fail) => reads.push({ msgId, done, fail })),
      },
      () => Date.now(),
    );
    return { signals, typing, reads };
  }

  it('coalesces typing per conversation: the latest state wins, unchanged states are not repeated, at most 4 a second', () => {
    const { signals, typing } = harness();
    for (let i = 0; i < 100; i++) {
      signals.setTyping({ room: `r${i % 10}` }, true);
      signals.setTyping({ room: `r${i % 10}` }, i % 2 === 0);
    }
    expect(typing.length).toBeLessThanOrEqual(3);
    vi.advanceTimersByTime(1000);
    expect(typing.length).toBeLessThanOrEqual(3 + 4);
    vi.advanceTimersByTime(10_000);
    // Each room's last state (i = 90..99: even rooms true, odd rooms false) said once, nothing else.
    const last = new Map(typing.map((t) => t.split(':') as [string, string]));
    for (let r = 0; r < 10; r++) expect(last.get(`r${r}`) ?? 'false').toBe(String(r % 2 === 0));
    const before = typing.length;
    signals.setTyping({ room: 'r0' }, true); // already said
    vi.advanceTimersByTime(1000);
    expect(typing.length).toBe(before);
  });

  it('read markers: one per conversation with the newest id; every caller resolves when it is taken; retried after RATE_LIMITED', async () => {
    const { signals, reads } = harness();
    const others = [signals.markRead({ room: 'x' }, '1'), signals.markRead({ room: 'y' }, '1')];
    const a = signals.markRead({ room: 'lobby' }, '5');
    const b = signals.markRead({ room: 'lobby' }, '9');
    const c = signals.markRead({ room: 'lobby' }, '7');
    expect(reads.map((r) => r.msgId)).toEqual(['1', '1', '5']); // the burst
    vi.advanceTimersByTime(2000);
    expect(reads.map((r) => r.msgId)).toEqual(['1', '1', '5', '9']); // 9 and 7 coalesced into 9
    reads[2]!.fail(new HushError('RATE_LIMITED', 'slow', { retryAfterMs: 300 }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads.length).toBe(4); // 5 is older than the 9 already sent: not sent again
    for (const r of reads) r.done();
    await expect(Promise.all([a, b, c, ...others])).resolves.toBeDefined();
    // An older marker than one sent resolves at once and sends nothing.
    await signals.markRead({ room: 'lobby' }, '8');
    expect(reads.length).toBe(4);
  });
});
