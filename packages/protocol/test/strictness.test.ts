import { describe, expect, it } from 'vitest';
import { decode, MAX_ENVELOPE_BYTES, MAX_TEXT_LENGTH, MessageChannel, validate } from '../src/index.js';
import { plainCipher, protocolErrorOf } from './helpers.js';

const violation = (from: 'client' | 'server', value: unknown) => {
  const err = protocolErrorOf(() => validate(from, value));
  expect(err.code).toBe('SCHEMA_VIOLATION');
  return err;
};
const key = 'A'.repeat(43);
const sig = 'B'.repeat(86);

describe('schema strictness', () => {
  it('refuses unknown keys, at top level and nested, and names the key as the path', () => {
    expect(violation('client', { type: 'ping', extra: 1 }).path).toBe('extra');
    const nested = violation('client', {
      type: 'login',
      id: '1',
      username: 'alice',
      password: 'pw',
      device: { signKey: key, boxKey: key, signature: sig, admin: true },
    });
    expect(nested.path).toBe('device.admin');
    expect(nested.message).toContain('unknown key "admin"');
    expect(violation('client', { type: 'typing', target: { room: 'a', user: 'bob' }, active: true }).path).toBe('target');
  });

  it('says a length out of bounds in words: how many characters or items at most or at least', () => {
    expect(violation('client', { type: 'presence_set', id: '1', state: 'away', status: 'x'.repeat(101) }).message).toBe(
      'message does not match its schema: presence_set: status: expected at most 100 characters',
    );
    expect(
      violation('client', { type: 'login', id: '1', username: '', password: 'pw', device: { signKey: key, boxKey: key, signature: sig } })
        .message,
    ).toBe('message does not match its schema: login: username: expected at least 1 character');
    expect(violation('client', { type: 'client_hello', versions: [], ephemeral: key }).message).toBe(
      'message does not match its schema: client_hello: versions: expected at least 1 item',
    );
  });

  it('refuses a client send that names its sender, on the wire too', () => {
    const err = violation('client', { type: 'send', id: '1', room: 'lobby', text: 'hi', from: 'mallory' });
    expect(err.path).toBe('from');
    const server = new MessageChannel({ peer: 'client' });
    server.upgrade(plainCipher);
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(plainCipher);
    const forged = JSON.stringify({ type: 'send', id: '1', room: 'lobby', text: 'hi', from: 'mallory' });
    expect(protocolErrorOf(() => server.receive(client.frame([forged])[0]!)).path).toBe('from');
    // The same message from the server (a relayed `message`) does carry `from`.
    expect(validate('server', { type: 'message', room: 'lobby', msgId: '1', ts: 1, from: 'alice', text: 'hi', action: false }).type).toBe(
      'message',
    );
  });

  it('refuses oversized strings and lists', () => {
    validate('client', { type: 'send', id: '1', room: 'lobby', text: 'x'.repeat(MAX_TEXT_LENGTH) });
    expect(violation('client', { type: 'send', id: '1', room: 'lobby', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }).path).toBe('text');
    expect(violation('client', { type: 'send', id: 'i'.repeat(65), room: 'lobby', text: 'x' }).path).toBe('id');
    expect(violation('client', { type: 'room_join', id: '1', room: 'r'.repeat(33) }).path).toBe('room');
    expect(
      violation('client', { type: 'dm_send', id: '1', to: 'bob', envelope: 'A'.repeat(Math.ceil((MAX_ENVELOPE_BYTES * 4) / 3) + 1) }).path,
    ).toBe('envelope');
    expect(violation('client', { type: 'client_hello', versions: Array.from({ length: 17 }, () => 1), ephemeral: key }).path).toBe(
      'versions',
    );
    expect(
      violation('client', {
        type: 'login',
        id: '1',
        username: 'u'.repeat(65),
        password: 'p',
        device: { signKey: key, boxKey: key, signature: sig },
      }).path,
    ).toBe('username');
  });

  it('bounds the idempotency key of send and dm_send', () => {
    validate('client', { type: 'send', id: '1', room: 'lobby', text: 'hi', key: 'k_0-ABCDz' });
    validate('client', { type: 'dm_send', id: '1', to: 'bob', envelope: 'AAAA', key: 'x'.repeat(64) });
    for (const bad of ['short7_', 'x'.repeat(65), 'has space', 'dot.key.1', 'é'.repeat(10)]) {
      expect(violation('client', { type: 'send', id: '1', room: 'lobby', text: 'hi', key: bad }).path).toBe('key');
      expect(violation('client', { type: 'dm_send', id: '1', to: 'bob', envelope: 'AAAA', key: bad }).path).toBe('key');
    }
  });

  it('requires the session limits in welcome, strictly', () => {
    const limits = { messagesPerSecond: 20, messageBurst: 60, signalsPerSecond: 10, signalBurst: 30, maxTextLength: MAX_TEXT_LENGTH };
    const welcome = { type: 'welcome', re: '1', user: 'alice', role: 'user', rooms: [], deviceBound: false, serverTime: 1 };
    expect(validate('server', { ...welcome, limits })).toEqual({ ...welcome, limits });
    expect(violation('server', welcome).path).toBe('limits');
    expect(violation('server', { ...welcome, limits: { ...limits, signalBurst: 0 } }).path).toBe('limits.signalBurst');
    expect(violation('server', { ...welcome, limits: { ...limits, messageBurst: 1.5 } }).path).toBe('limits.messageBurst');
    expect(violation('server', { ...welcome, limits: { ...limits, messagesPerSecond: 0 } }).path).toBe('limits.messagesPerSecond');
    expect(violation('server', { ...welcome, limits: { ...limits, maxTextLength: MAX_TEXT_LENGTH + 1 } }).path).toBe(
      'limits.maxTextLength',
    );
    expect(violation('server', { ...welcome, limits: { ...limits, extra: 1 } }).path).toBe('limits.extra');
  });

  it('reports the path of deep violations', () => {
    const err = violation('server', {
      type: 'history_page',
      re: '1',
      target: { room: 'lobby' },
      hasMore: false,
      messages: [
        { type: 'message', room: 'lobby', msgId: '1', ts: 1, from: 'alice', text: 'ok', action: false },
        { type: 'message', room: 'lobby', msgId: '2', ts: -1, from: 'alice', text: 'bad ts', action: false },
      ],
    });
    expect(err.path).toBe('messages.1.ts');
    expect(err.message).toContain('history_page: messages.1.ts:');
  });

  it('refuses wrong formats: base64url keys, usernames, room names, ids, numbers', () => {
    expect(violation('client', { type: 'client_hello', versions: [2], ephemeral: `${'A'.repeat(42)}=` }).path).toBe('ephemeral');
    expect(violation('client', { type: 'keys_get', id: '1', user: 'Alice' }).path).toBe('user');
    expect(violation('client', { type: 'room_join', id: '1', room: '#lobby' }).path).toBe('room');
    expect(violation('client', { type: 'read', id: '1', target: { room: 'a' }, msgId: '12a' }).path).toBe('msgId');
    expect(violation('client', { type: 'history', id: '1', target: { room: 'a' }, limit: 1.5 }).path).toBe('limit');
    expect(violation('client', { type: 'history', id: '1', target: { room: 'a' }, limit: 501 }).path).toBe('limit');
    expect(violation('client', { type: 'client_hello', versions: [0], ephemeral: key }).path).toBe('versions.0');
  });

  it('bounds what it reports about a hostile key', () => {
    const err = violation('client', { type: 'ping', ['k'.repeat(10_000)]: 1 });
    expect(err.path!.length).toBeLessThanOrEqual(200);
    expect(err.message.length).toBeLessThanOrEqual(500);
  });

  it('refuses __proto__ and constructor keys without touching prototypes', () => {
    for (const text of [
      '{"type":"ping","__proto__":{"polluted":true}}',
      '{"type":"ping","constructor":{"prototype":{"polluted":true}}}',
      '{"type":"typing","target":{"room":"a","__proto__":{"polluted":true}},"active":true}',
    ]) {
      expect(protocolErrorOf(() => decode('client', Buffer.from(text))).code).toBe('SCHEMA_VIOLATION');
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('returns plain objects, not the parsed input', () => {
    const input = JSON.parse('{"type":"room_join","id":"1","room":"dev"}') as object;
    const out = validate('client', input);
    expect(out).toEqual(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('the channel is failed after the first error: no message after a bad one is delivered', () => {
    const server = new MessageChannel({ peer: 'client' });
    server.upgrade(plainCipher);
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(plainCipher);
    const bad = client.frame(['{"type":"ping","x":1}'])[0]!;
    const good = client.frame([{ type: 'ping' }])[0]!;
    const first = protocolErrorOf(() => server.receive(Buffer.concat([bad, good])));
    expect(protocolErrorOf(() => server.receive(good))).toBe(first);
  });
});
