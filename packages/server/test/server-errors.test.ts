import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, SUPPORTED_VERSIONS } from '@hush/protocol';
import type { TestServer } from '../src/testing.js';
import { nodeLocalDescribe, testServer } from './helpers/store-under-test.js';
import { registered, RawClient } from '../src/raw-client.js';

let server: TestServer;
const clients: RawClient[] = [];

async function track<T extends RawClient>(c: Promise<T>): Promise<T> {
  const client = await c;
  clients.push(client);
  return client;
}

beforeAll(async () => {
  server = await testServer({
    openRooms: ['lobby'],
    limits: { handshakeTimeoutMs: 300, authTimeoutMs: 400, messagesPerSecond: 1, messageBurst: 10 },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

describe('bad input gets a coded error and the server keeps serving', () => {
  it('answers malformed JSON, unknown types and schema violations (with a path), and stays usable', async () => {
    const alice = await track(registered(server.port, 'erin'));
    alice.sendText('{not json');
    expect(await alice.next('error')).toMatchObject({ code: 'MALFORMED_JSON' });
    alice.sendText(JSON.stringify({ type: 'teleport', id: 'x' }));
    expect(await alice.next('error')).toMatchObject({ code: 'UNKNOWN_TYPE', re: 'x' });
    alice.sendText(JSON.stringify({ type: 'send', id: 'x', room: 'lobby', text: 42 }));
    expect(await alice.next('error')).toMatchObject({ code: 'SCHEMA_VIOLATION', path: 'text', re: 'x' });
    // A refused request is answered (`re`), so that its caller does not wait: a room name written with its `#`.
    alice.sendText(JSON.stringify({ type: 'room_join', id: 'j1', room: '#den' }));
    expect(await alice.next('error')).toMatchObject({ code: 'SCHEMA_VIOLATION', path: 'room', re: 'j1' });
    // No well-formed id, nothing to answer.
    alice.sendText(JSON.stringify({ type: 'room_join', id: 7, room: '#den' }));
    expect(await alice.next('error')).not.toHaveProperty('re');
    // Still served after the errors.
    expect((await alice.request({ type: 'room_list' })).type).toBe('rooms');
    expect(alice.isClosed).toBe(false);
  });

  it('refuses a client-chosen sender: `from` is a schema violation, and messages carry the session user', async () => {
    const mallory = await track(registered(server.port, 'mallory'));
    const victim = await track(registered(server.port, 'victim'));
    mallory.sendText(JSON.stringify({ type: 'send', id: 'imp', room: 'lobby', text: 'I am victim', from: 'victim' }));
    const error = await mallory.next('error');
    expect(error).toMatchObject({ code: 'SCHEMA_VIOLATION' });
    const ack = await mallory.expect({ type: 'send', room: 'lobby', text: 'real' }, 'ack');
    const seen = await victim.next((m) => m.type === 'message' && m.msgId === ack.msgId);
    expect(seen).toMatchObject({ from: 'mallory' });
    expect(
      (await server.db.history({ room: 'lobby' }, { limit: 50 })).messages.some((m) => m.kind === 'room' && m.text === 'I am victim'),
    ).toBe(false);
  });

  it('keeps decoding the records behind a bad one in the same TCP chunk', async () => {
    const c = await track(registered(server.port, 'frank'));
    const bad = c.channel.frame([JSON.stringify({ type: 'nope' })]);
    const good = c.channel.frame([{ type: 'room_list', id: 'after-bad' }]);
    c.socket.write(Buffer.concat([...bad, ...good]));
    expect(await c.next('error')).toMatchObject({ code: 'UNKNOWN_TYPE' });
    expect(await c.next((m) => m.type === 'rooms' && m.re === 'after-bad')).toBeTruthy();
  });

  it('answers a request before login with AUTH_REQUIRED', async () => {
    const c = await track(RawClient.connect(server.port));
    expect(await c.request({ type: 'send', room: 'lobby', text: 'hi' })).toMatchObject({ type: 'error', code: 'AUTH_REQUIRED' });
  });

  it('accepts a login pipelined right behind client_finished in the same write', async () => {
    const c = await track(RawClient.raw(server.port));
    // Hand-rolled handshake so client_finished and the sealed register leave in one write.
    const { ClientHandshake } = await import('@hush/crypto');
    const hs = new ClientHandshake({ versions: [...SUPPORTED_VERSIONS] });
    const hello = hs.start();
    c.writePlain({ type: 'client_hello', versions: hello.versions, ephemeral: Buffer.from(hello.ephemeral).toString('base64url') });
    const sh = await c.next('server_hello');
    if (sh.type !== 'server_hello') throw new Error('no hello');
    const u = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
    const { finished, result } = hs.receive({
      version: sh.version,
      versions: sh.versions,
      ephemeral: u(sh.ephemeral),
      identity: u(sh.identity),
      signature: u(sh.signature),
      finished: u(sh.finished),
    });
    const plain = c.channel.frame([{ type: 'client_finished', finished: Buffer.from(finished.finished).toString('base64url') }]);
    c.channel.upgrade(result.cipher);
    c.sessionId = result.sessionId;
    const sealed = c.channel.frame([
      { type: 'register', id: 'pipe', username: 'piper', password: 'correct horse battery', device: c.bundle() },
    ]);
    c.socket.write(Buffer.concat([...plain, ...sealed]));
    expect(await c.next((m) => m.type === 'welcome' && m.re === 'pipe')).toMatchObject({ user: 'piper' });
  });

  it('rate-limits requests with RATE_LIMITED and retryAfterMs, and cuts off persistent flooding', async () => {
    const c = await track(registered(server.port, 'flooder'));
    const burst = Array.from({ length: 14 }, (_, i) => ({ type: 'room_list' as const, id: `f${i}` }));
    c.send(...burst);
    const limited = await c.next((m) => m.type === 'error' && m.code === 'RATE_LIMITED');
    expect(limited).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.type === 'error' && limited.retryAfterMs).toBeGreaterThan(0);
    c.send(...Array.from({ length: 40 }, (_, i) => ({ type: 'room_list' as const, id: `g${i}` })));
    expect(await c.next('goodbye')).toMatchObject({ code: 'RATE_LIMITED' });
    await c.closed;
  });

  it('closes a connection that keeps making errors, and only that one', async () => {
    const noisy = await track(registered(server.port, 'noisy'));
    const calm = await track(registered(server.port, 'calm'));
    for (let i = 0; i < 12; i++) noisy.sendText(JSON.stringify({ type: 'bogus' }));
    expect(await noisy.next('goodbye')).toMatchObject({ code: 'UNKNOWN_TYPE' });
    await noisy.closed;
    expect((await calm.request({ type: 'room_list' })).type).toBe('rooms');
  });

  it('closes on an oversized frame with FRAME_TOO_LARGE', async () => {
    const c = await track(registered(server.port, 'bigmouth'));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(server.config.limits.maxFrameSize + 1);
    c.socket.write(header);
    expect(await c.next('goodbye')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await c.closed;
  });

  it('closes on a tampered record with BAD_RECORD', async () => {
    const c = await track(registered(server.port, 'tamper'));
    const [frame] = c.channel.frame([{ type: 'room_list', id: 't' }]);
    frame![frame!.length - 1]! ^= 1;
    c.socket.write(frame!);
    expect(await c.next('goodbye')).toMatchObject({ code: 'BAD_RECORD' });
    await c.closed;
  });

  it('applies the small frame limit before the handshake', async () => {
    const c = await track(RawClient.raw(server.port));
    c.socket.write(encodeFrame(Buffer.alloc(server.config.limits.handshakeMaxFrameSize + 1, 32)));
    expect(await c.next('goodbye')).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await c.closed;
  });

  it('tells a client that speaks only protocol version 1 to upgrade, in a plaintext goodbye', async () => {
    const c = await track(RawClient.raw(server.port));
    c.writePlain({ type: 'client_hello', versions: [1], ephemeral: Buffer.alloc(32, 7).toString('base64url') });
    const bye = await c.next('goodbye');
    expect(bye).toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    expect(bye.type === 'goodbye' && bye.message).toBe(
      `no protocol version in common (server speaks ${SUPPORTED_VERSIONS.join(', ')}, client 1); the client is older than this server: upgrade the client`,
    );
    await c.closed;
    const newer = await track(RawClient.raw(server.port));
    newer.writePlain({ type: 'client_hello', versions: [99], ephemeral: Buffer.alloc(32, 7).toString('base64url') });
    const later = await newer.next('goodbye');
    expect(later.type === 'goodbye' && later.message).toMatch(
      /client is newer than this server: ask the server operator to upgrade hushd$/,
    );
  });

  it('refuses anything but the handshake first', async () => {
    const c = await track(RawClient.raw(server.port));
    c.writePlain({ type: 'room_list', id: 'early' });
    expect(await c.next('goodbye')).toMatchObject({ code: 'HANDSHAKE_REQUIRED' });
    await c.closed;
  });

  it('closes a connection that does not finish the handshake in time', async () => {
    const before = server.server.connectionCount;
    const c = await track(RawClient.raw(server.port));
    expect(await c.next('goodbye')).toMatchObject({ code: 'HANDSHAKE_TIMEOUT' });
    await c.closed;
    expect(server.server.connectionCount).toBeLessThanOrEqual(before);
  });

  it('closes a connection that does not log in in time', async () => {
    const c = await track(RawClient.connect(server.port));
    expect(await c.next('goodbye')).toMatchObject({ code: 'AUTH_REQUIRED' });
    await c.closed;
  });

  it('answers a wrong password with the generic AUTH_FAILED', async () => {
    await track(registered(server.port, 'gina'));
    const c = await track(RawClient.connect(server.port));
    const wrong = await c.request({ type: 'login', username: 'gina', password: 'not the password', device: c.bundle() });
    expect(wrong).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
    const unknown = await c.request({ type: 'login', username: 'nobody-here', password: 'not the password', device: c.bundle() });
    expect(unknown).toMatchObject({ type: 'error', code: 'AUTH_FAILED' });
  });

  it('rejects an invalid device bundle at login', async () => {
    await track(registered(server.port, 'hank'));
    const c = await track(RawClient.connect(server.port));
    const bundle = { ...c.bundle(), boxKey: Buffer.alloc(32, 7).toString('base64url') };
    const reply = await c.request({ type: 'login', username: 'hank', password: 'correct horse battery', device: bundle });
    expect(reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });
});

// The per-address connection limit is per node, and a node caches address bans for a second.
nodeLocalDescribe('accept-time limits', () => {
  it('limits connections per address and bans addresses at accept', async () => {
    const small = await testServer({ openRooms: ['lobby'], limits: { maxConnectionsPerAddress: 2 } });
    const open: RawClient[] = [];
    try {
      open.push(await RawClient.connect(small.port), await RawClient.connect(small.port));
      const third = await RawClient.raw(small.port);
      open.push(third);
      expect(await third.next('goodbye')).toMatchObject({ code: 'TOO_MANY_CONNECTIONS' });
      await third.closed;
      await open[0]!.close();
      // A slot is free again once a connection is gone.
      await expect.poll(() => small.server.connectionCount).toBe(1);
      const again = await RawClient.connect(small.port);
      open.push(again);

      await small.db.banAddress('127.0.0.1', Date.now() + 60_000, 'test');
      const banned = await RawClient.raw(small.port);
      open.push(banned);
      expect(await banned.next('goodbye')).toMatchObject({ code: 'BANNED' });
    } finally {
      await Promise.all(open.map((c) => c.close()));
      await small.stop();
    }
  });
});
