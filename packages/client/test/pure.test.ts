import { inspect } from 'node:util';
import { DeviceIdentity } from '@hush/crypto';
import type { ServerMessageOf } from '@hush/protocol';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';
import { Cursors } from '../src/catch-up.js';
import { conversationKey } from '../src/conversation.js';
import { decodeBody, encodeBody } from '../src/direct-body.js';
import { keySetDigest } from '../src/direct-messages.js';
import { HushError, isHushError } from '../src/errors.js';
import { JoinedRooms } from '../src/joined-rooms.js';
import { compareIds, SeenIds } from '../src/message-ids.js';
import { fingerprintMatches } from '../src/server-pin.js';

describe('reconnect backoff', () => {
  it('grows exponentially with jitter in [d/2, d] and caps at 10 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(125);
    expect(backoffDelay(0, () => 1)).toBe(250);
    expect(backoffDelay(3, () => 1)).toBe(2000);
    expect(backoffDelay(3, () => 0)).toBe(1000);
    expect(backoffDelay(20, () => 1)).toBe(10_000);
    expect(backoffDelay(1000, () => 0.5)).toBe(7500);
    for (let a = 0; a < 50; a++) {
      const d = backoffDelay(a);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('catch-up bookkeeping', () => {
  it('compares decimal ids numerically', () => {
    expect(compareIds('9', '10')).toBe(-1);
    expect(compareIds('100', '99')).toBe(1);
    expect(compareIds('007', '7')).toBe(0);
    expect(compareIds('18446744073709551615', '18446744073709551614')).toBe(1);
  });

  it('SeenIds forgets the oldest beyond its capacity', () => {
    const seen = new SeenIds(2);
    expect(seen.add('1')).toBe(true);
    expect(seen.add('1')).toBe(false);
    seen.add('2');
    seen.add('3');
    expect(seen.has('1')).toBe(false);
    expect(seen.toArray()).toEqual(['2', '3']);
  });

  it('cursors only move forward', () => {
    const c = new Cursors();
    c.advance({ room: 'a' }, '5');
    c.advance({ room: 'a' }, '40');
    c.advance({ room: 'a' }, '7');
    c.advance({ user: 'a' }, '3');
    expect(c.get({ room: 'a' })).toBe('40');
    expect(c.get({ room: 'b' })).toBeUndefined();
    expect(c.directTargets()).toEqual([{ user: 'a' }]);
    expect(conversationKey({ room: 'a' })).toBe('#a');
    expect(conversationKey({ user: 'bob' })).toBe('@bob');
  });
});

describe('direct message bodies', () => {
  it('round-trips text and file bodies and refuses anything else', () => {
    expect(decodeBody(encodeBody({ text: 'hi', action: true }))).toEqual({ text: 'hi', action: true });
    const file = { fileId: 'abcdefgh', name: 'a.txt', size: 3, sha512: 'x', key: 'k', noncePrefix: 'n' };
    expect(decodeBody(encodeBody({ file }))).toEqual({ file });
    expect(decodeBody('not json')).toBeUndefined();
    expect(decodeBody('{"text":""}')).toBeUndefined();
    expect(decodeBody('{"text":5}')).toBeUndefined();
    expect(decodeBody('null')).toBeUndefined();
    expect(decodeBody(JSON.stringify({ file: { ...file, size: -1 } }))).toBeUndefined();
    expect(decodeBody(JSON.stringify({ text: 'x'.repeat(4001) }))).toBeUndefined();
  });

  it('key-set digests ignore order and change when a device is added', () => {
    const a = DeviceIdentity.generate().bundle();
    const b = DeviceIdentity.generate().bundle();
    expect(keySetDigest([a, b])).toBe(keySetDigest([b, a]));
    expect(keySetDigest([a])).not.toBe(keySetDigest([a, b]));
  });
});

describe('expected fingerprints', () => {
  it('accepts the full form, the bare base64 and the short digits, nothing else', () => {
    const full = 'SHA512:abc';
    const short = '01234 56789 01234 56789 01234 56789';
    expect(fingerprintMatches('SHA512:abc', full, short)).toBe(true);
    expect(fingerprintMatches(' abc ', full, short)).toBe(true);
    expect(fingerprintMatches('012345678901234567890123456789', full, short)).toBe(true);
    expect(fingerprintMatches('SHA512:abd', full, short)).toBe(false);
    expect(fingerprintMatches('01234', full, short)).toBe(false);
    expect(fingerprintMatches('', full, short)).toBe(false);
  });
});

describe('HushError', () => {
  it('carries a stable code, a default message, retryAfterMs and cause', () => {
    const cause = new Error('x');
    const e = new HushError('RATE_LIMITED', undefined, { retryAfterMs: 500, cause });
    expect(e.message).toBe('too many requests, slow down');
    expect(e.retryAfterMs).toBe(500);
    expect(e.cause).toBe(cause);
    expect(isHushError(e, 'RATE_LIMITED')).toBe(true);
    expect(isHushError(e, 'TIMEOUT')).toBe(false);
    expect(new HushError('SERVER_KEY_CHANGED').message).toMatch(/changed/);
    // As an uncaught error prints it: nothing said of a retry or a cause it does not have.
    const plain = inspect(new HushError('DEVICE_IN_USE', 'a hush client is already running'));
    expect(plain).toContain("code: 'DEVICE_IN_USE'");
    expect(plain).not.toMatch(/retryAfterMs|\[cause\]/);
    expect(inspect(e)).toMatch(/retryAfterMs: 500[\s\S]*\[cause\]: Error: x/);
  });
});

describe('README error table', () => {
  it('lists every client error code with its message', async () => {
    const { readFile } = await import('node:fs/promises');
    const { CLIENT_ERROR_CODES } = await import('../src/errors.js');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const [code, message] of Object.entries(CLIENT_ERROR_CODES)) expect(readme).toContain(`| \`${code}\` | ${message} |`);
  });
});

describe('joined rooms', () => {
  const event = (e: Partial<ServerMessageOf<'room_event'>>): ServerMessageOf<'room_event'> =>
    ({ type: 'room_event', room: 'den', event: 'join', user: 'bob', ts: 1, ...e }) as ServerMessageOf<'room_event'>;

  it('follows joins, parts, topics and roles, and asks for a refresh when this user joined a room elsewhere', () => {
    const rooms = new JoinedRooms();
    rooms.replace([
      { room: 'den', topic: '', kind: 'e2e', members: 2, joined: true, role: 'member' },
      { room: 'far', topic: '', kind: 'open', members: 9, joined: false },
    ]);
    expect(rooms.names()).toEqual(['den']);
    expect(rooms.apply(event({ event: 'join' }), false)).toBe(false);
    expect(rooms.view.get('den')?.members).toBe(3);
    rooms.apply(event({ event: 'kick' }), false);
    rooms.apply(event({ event: 'topic', topic: 'tea' }), false);
    rooms.apply(event({ event: 'role', role: 'op' }), true);
    expect(rooms.view.get('den')).toEqual({ room: 'den', topic: 'tea', kind: 'e2e', members: 2, joined: true, role: 'op' });
    expect(rooms.apply(event({ room: 'new', event: 'join' }), true)).toBe(true);
    rooms.apply(event({ event: 'part' }), true);
    expect(rooms.names()).toEqual([]);
  });
});
