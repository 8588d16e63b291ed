// The limits a connection is held to: announced in welcome, a message budget that signals (typing,
// read markers) do not touch, a signal budget of its own, and flood cut-offs for both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH, type ClientMessage, type ServerMessage } from '@hush/protocol';
import { DEFAULT_LIMITS } from '../src/config.js';
import { startTestServer, type TestServer } from '../src/testing.js';
import { registered, RawClient, selfEnvelope as envelope } from '../src/raw-client.js';

let server: TestServer;
const clients: RawClient[] = [];

async function user(name: string, on = server): Promise<RawClient> {
  const c = await registered(on.port, name);
  clients.push(c);
  return c;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isRateLimited = (m: ServerMessage) => m.type === 'error' && m.code === 'RATE_LIMITED';

beforeAll(async () => {
  // The default limits: what people meet.
  server = await startTestServer({ openRooms: ['lobby'] });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('limits in welcome', () => {
  it('announces the limits this connection is held to: the defaults', async () => {
    const c = await RawClient.connect(server.port);
    clients.push(c);
    const welcome = await c.register('lim-default');
    expect(welcome.limits).toEqual({
      messagesPerSecond: DEFAULT_LIMITS.messagesPerSecond,
      messageBurst: DEFAULT_LIMITS.messageBurst,
      signalsPerSecond: DEFAULT_LIMITS.signalsPerSecond,
      signalBurst: DEFAULT_LIMITS.signalBurst,
      maxTextLength: MAX_TEXT_LENGTH,
    });
    expect(welcome.limits).toEqual({ messagesPerSecond: 20, messageBurst: 60, signalsPerSecond: 10, signalBurst: 40, maxTextLength: 4000 });
  });

  it('announces configured limits, after a password login and a device login alike', async () => {
    const own = await startTestServer({
      openRooms: ['lobby'],
      limits: { messagesPerSecond: 3, messageBurst: 7, signalsPerSecond: 2, signalBurst: 5 },
    });
    try {
      const first = await RawClient.connect(own.port);
      clients.push(first);
      const expected = { messagesPerSecond: 3, messageBurst: 7, signalsPerSecond: 2, signalBurst: 5, maxTextLength: MAX_TEXT_LENGTH };
      expect((await first.register('lim-custom')).limits).toEqual(expected);
      const again = await RawClient.connect(own.port);
      clients.push(again);
      again.device = first.device;
      expect(await again.request(again.deviceLoginRequest('lim-custom'))).toMatchObject({ type: 'welcome', limits: expected });
    } finally {
      await own.stop();
    }
  });

  it('announces what the connection enforces: the limits in force when it connected, not later ones', async () => {
    const own = await startTestServer({ openRooms: ['lobby'], limits: { messagesPerSecond: 5, messageBurst: 9 } });
    try {
      const early = await RawClient.connect(own.port);
      clients.push(early);
      // As a configuration reload does: new connections get the new limits, open ones keep theirs.
      Object.assign(own.config.limits, { messagesPerSecond: 50, messageBurst: 90 });
      const late = await RawClient.connect(own.port);
      clients.push(late);
      expect((await early.register('lim-early')).limits).toMatchObject({ messagesPerSecond: 5, messageBurst: 9 });
      expect((await late.register('lim-late')).limits).toMatchObject({ messagesPerSecond: 50, messageBurst: 90 });
      // The early connection really is held to 9 at once (the register spent one).
      early.send(...Array.from({ length: 12 }, (_, i) => ({ type: 'room_list' as const, id: `e${i}` })));
      const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => early.next((m) => 're' in m && m.re === `e${i}`)));
      expect(replies.filter(isRateLimited).length).toBeGreaterThanOrEqual(3);
    } finally {
      await own.stop();
    }
  });
});

describe('signals have a budget of their own', () => {
  it('typing and read markers do not use up the message budget: a full burst of both, every send acked', async () => {
    const ann = await user('sig-ann');
    const ben = await user('sig-ben');
    const first = await ben.expect({ type: 'send', room: 'lobby', text: 'to be read' }, 'ack');
    // The whole signal burst and (almost) the whole message burst in one record: before signals
    // had their own budget, the sends past 40 frames were refused with RATE_LIMITED.
    const signals: ClientMessage[] = Array.from({ length: DEFAULT_LIMITS.signalBurst }, (_, i) =>
      i % 2 === 0
        ? { type: 'typing', target: { room: 'lobby' }, active: i % 4 === 0 }
        : { type: 'read', id: `rd${i}`, target: { room: 'lobby' }, msgId: first.msgId },
    );
    const sends: ClientMessage[] = Array.from({ length: DEFAULT_LIMITS.messageBurst - 5 }, (_, i) => ({
      type: 'send',
      id: `s${i}`,
      room: 'lobby',
      text: `line ${i}`,
    }));
    ann.send(...signals, ...sends);
    for (const s of sends) expect(await ann.next((m) => 're' in m && m.re === (s as { id: string }).id)).toMatchObject({ type: 'ack' });
    for (const r of signals.filter((m) => m.type === 'read')) {
      expect(await ann.next((m) => 're' in m && m.re === (r as { id: string }).id)).toMatchObject({ type: 'ok' });
    }
    expect(ann.inbox.filter(isRateLimited)).toEqual([]);
    // Typing toggles within the budget reach the others.
    expect(await ben.next((m) => m.type === 'typing_notice' && m.from === 'sig-ann')).toMatchObject({ target: { room: 'lobby' } });
    expect(ann.isClosed).toBe(false);
  });

  it('drops signals over the budget without an error; a read marker is still stored and answered, not relayed', async () => {
    const cat = await user('sig-cat');
    const dan = await user('sig-dan');
    const b = await dan.expect({ type: 'dm_send', to: 'sig-cat', envelope: envelope(dan, 4) }, 'ack');
    const c = await dan.expect({ type: 'dm_send', to: 'sig-cat', envelope: envelope(dan, 4) }, 'ack');
    // Spend the signal burst on typing, then one read marker and a few typing notices past it.
    const burst: ClientMessage[] = Array.from({ length: DEFAULT_LIMITS.signalBurst }, () => ({
      type: 'typing',
      target: { user: 'sig-dan' },
      active: true,
    }));
    const over: ClientMessage[] = [
      { type: 'read', id: 'over', target: { user: 'sig-dan' }, msgId: b.msgId },
      ...Array.from({ length: 5 }, () => ({ type: 'typing' as const, target: { user: 'sig-dan' }, active: false })),
    ];
    cat.send(...burst, ...over);
    expect(await cat.next((m) => 're' in m && m.re === 'over')).toMatchObject({ type: 'ok' });
    expect(server.store.getReadMarkers('sig-cat')).toMatchObject({ '@sig-dan': b.msgId });
    // Once tokens are back, the next marker is relayed; the dropped one never was.
    await sleep(Math.ceil(2000 / DEFAULT_LIMITS.signalsPerSecond) + 100);
    await cat.expect({ type: 'read', target: { user: 'sig-dan' }, msgId: c.msgId }, 'ok');
    const notice = await dan.next('read_notice');
    expect(notice).toMatchObject({ from: 'sig-cat', msgId: c.msgId });
    expect(dan.inbox.filter((m) => m.type === 'read_notice')).toEqual([]);
    // The typing notices past the budget (active: false) were dropped too.
    expect(dan.take((m) => m.type === 'typing_notice' && !m.active)).toEqual([]);
    expect(cat.inbox.filter((m) => m.type === 'error')).toEqual([]);
    expect(cat.isClosed).toBe(false);
  });

  it('cuts off a connection that keeps signalling without tokens, like a message flood', async () => {
    const eve = await user('sig-eve');
    const calm = await user('sig-calm');
    eve.send(...Array.from({ length: 300 }, (_, i) => ({ type: 'typing' as const, target: { room: 'lobby' }, active: i % 2 === 0 })));
    expect(await eve.next('goodbye')).toMatchObject({ code: 'RATE_LIMITED', message: 'flooding' });
    await eve.closed;
    expect(eve.inbox.filter((m) => m.type === 'error')).toEqual([]);
    expect((await calm.request({ type: 'room_list' })).type).toBe('rooms');
  });
});

describe('the message budget', () => {
  it('a client pacing itself inside the announced limits never meets RATE_LIMITED', async () => {
    const c = await RawClient.connect(server.port);
    clients.push(c);
    const { limits } = await c.register('pacer');
    const total = limits.messageBurst + 2 * limits.messagesPerSecond;
    // The burst minus what the login already spent, then one send per token.
    const burst = limits.messageBurst - 2;
    c.send(...Array.from({ length: burst }, (_, i) => ({ type: 'send' as const, id: `p${i}`, room: 'lobby', text: `paced ${i}` })));
    for (let i = burst; i < total; i++) {
      await sleep(Math.ceil(1000 / limits.messagesPerSecond) + 5);
      c.send({ type: 'send', id: `p${i}`, room: 'lobby', text: `paced ${i}` });
    }
    for (let i = 0; i < total; i++) expect(await c.next((m) => 're' in m && m.re === `p${i}`)).toMatchObject({ type: 'ack' });
    expect(c.inbox.filter(isRateLimited)).toEqual([]);
  });

  it('refuses a request over the budget with RATE_LIMITED and when to retry; the retry succeeds', async () => {
    const c = await user('hasty');
    const n = DEFAULT_LIMITS.messageBurst + 10;
    c.send(...Array.from({ length: n }, (_, i) => ({ type: 'send' as const, id: `h${i}`, room: 'lobby', text: `hasty ${i}` })));
    const limited = await c.next(isRateLimited);
    if (limited.type !== 'error') throw new Error('unreachable');
    expect(limited.message).toBe('too many messages');
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(Math.ceil(1000 / DEFAULT_LIMITS.messagesPerSecond));
    await sleep(limited.retryAfterMs! + 20);
    expect(await c.request({ type: 'send', room: 'lobby', text: 'again' })).toMatchObject({ type: 'ack' });
    expect(c.isClosed).toBe(false);
  });
});
