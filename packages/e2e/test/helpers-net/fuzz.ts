// Input generators for the fuzzing attack. Seeded, so a failing run can be
// replayed: random bytes, random JSON, mutations of valid messages (text and structure), the
// prototype-pollution keys, deep nesting, huge strings, wrong types; and schema-valid but hostile
// requests that reach the server's handlers.
import type { DeviceIdentity } from '@hush/crypto';
import { fileNameProblem, PROTOCOL_VERSION } from '@hush/protocol';
import { directEnvelope } from './raw-client.js';

/** mulberry32: small, fast, seeded. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const KEY = 'A'.repeat(43);
const SIG = 'B'.repeat(86);
const BUNDLE = { signKey: KEY, boxKey: KEY, signature: SIG };

/** One valid client message of every type (ids filled in by callers). */
export const VALID_MESSAGES: ReadonlyArray<Record<string, unknown>> = [
  { type: 'client_hello', versions: [PROTOCOL_VERSION], ephemeral: KEY },
  { type: 'client_finished', finished: SIG },
  { type: 'register', id: 'x', username: 'someone', password: 'password123', device: BUNDLE },
  { type: 'login', id: 'x', username: 'someone', password: 'password123', device: BUNDLE },
  { type: 'device_login', id: 'x', username: 'someone', signKey: KEY, signature: SIG },
  { type: 'logout', id: 'x' },
  { type: 'room_create', id: 'x', room: 'abc', topic: 't' },
  { type: 'room_join', id: 'x', room: 'abc' },
  { type: 'room_part', id: 'x', room: 'abc' },
  { type: 'room_list', id: 'x' },
  { type: 'room_topic', id: 'x', room: 'abc', topic: 'hello' },
  { type: 'room_members', id: 'x', room: 'abc' },
  { type: 'users_list', id: 'x' },
  { type: 'send', id: 'x', room: 'abc', text: 'hi', action: false },
  { type: 'dm_send', id: 'x', to: 'someone', envelope: 'AAAA' },
  { type: 'keys_get', id: 'x', user: 'someone' },
  { type: 'presence_set', id: 'x', state: 'away', status: 'brb' },
  { type: 'typing', target: { room: 'abc' }, active: true },
  { type: 'read', id: 'x', target: { user: 'someone' }, msgId: '12' },
  { type: 'history', id: 'x', target: { room: 'abc' }, before: '10', limit: 50 },
  { type: 'file_offer', id: 'x', target: { room: 'abc' }, size: 10, name: 'a.txt' },
  { type: 'file_accept', id: 'x', fileId: 'abcdefgh' },
  { type: 'file_decline', id: 'x', fileId: 'abcdefgh' },
  { type: 'file_chunk', id: 'x', fileId: 'abcdefgh', index: 0, data: 'AAAA', final: true },
  { type: 'file_cancel', id: 'x', fileId: 'abcdefgh', reason: 'no' },
  { type: 'files_pending', id: 'x' },
  { type: 'kick', id: 'x', room: 'abc', user: 'someone', reason: 'r' },
  { type: 'ban', id: 'x', user: 'someone', seconds: 60 },
  { type: 'unban', id: 'x', address: '1.2.3.4' },
  { type: 'mute', id: 'x', room: 'abc', user: 'someone', seconds: 5 },
  { type: 'unmute', id: 'x', room: 'abc', user: 'someone' },
  { type: 'role_set', id: 'x', room: 'abc', user: 'someone', role: 'op' },
  { type: 'ping', nonce: 'n' },
  { type: 'pong' },
];

const EVIL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'from', '__defineGetter__', 'then'];
const STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u001b[2J\u001b]0;pwn\u0007',
  '\u202e',
  '\u200b',
  '\ud800',
  '\udfff',
  '💥',
  'A'.repeat(5000),
  '../../etc/passwd',
  '%s%s%n',
  '${jndi:x}',
  "' OR 1=1 --",
  'NaN',
  '1e400',
  '-0',
  'null',
  'undefined',
  '\\',
  '"',
  'lobby',
  'LOBBY',
  '#lobby',
];

/** Deep nesting of arrays or objects, as JSON text. */
export function deepJson(rng: Rng, depth: number): string {
  return rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** A random JSON value (depth-bounded) as text. */
function randomValue(rng: Rng, depth = 0): string {
  const kind = rng.int(depth > 3 ? 6 : 9);
  switch (kind) {
    case 0:
      return 'null';
    case 1:
      return rng.chance(0.5) ? 'true' : 'false';
    case 2:
      return rng.pick([
        '0',
        '-1',
        '1e308',
        '-1e-308',
        '9007199254740993',
        '1.5',
        '4294967296',
        '1e400',
        '-0',
        '123456789012345678901234567890',
      ]);
    case 3:
      return JSON.stringify(rng.pick(STRINGS));
    case 4:
      return JSON.stringify(rng.bytes(rng.int(40)).toString('latin1'));
    case 5:
      return JSON.stringify(rng.pick(EVIL_KEYS));
    case 6:
      return `[${Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1)).join(',')}]`;
    case 7:
      return `{${Array.from({ length: rng.int(4) }, () => `${JSON.stringify(rng.pick([...EVIL_KEYS, 'type', 'id', 'room', 'x']))}:${randomValue(rng, depth + 1)}`).join(',')}}`;
    default:
      return deepJson(rng, 1 + rng.int(200));
  }
}

function withId(m: Record<string, unknown>, rng: Rng): Record<string, unknown> {
  return 'id' in m ? { ...m, id: `f${rng.int(1e9)}` } : { ...m };
}

/** JSON text of an object with one more key (possibly `__proto__`, which literals cannot add). */
function addKey(json: string, key: string, value: string): string {
  const body = json.slice(1, -1);
  return `{${JSON.stringify(key)}:${value}${body.length > 0 ? ',' : ''}${body}}`;
}

/**
 * One hostile line (no newline inside unless `allowNewline`): random bytes, random JSON, or a
 * mutated valid message. Most are schema violations; a few happen to be valid.
 */
export function garbageLine(rng: Rng, options: { maxHuge?: number } = {}): string {
  const base = withId(rng.pick(VALID_MESSAGES), rng);
  const json = JSON.stringify(base);
  const keys = Object.keys(base);
  switch (rng.int(14)) {
    case 0:
      return rng
        .bytes(1 + rng.int(60))
        .toString('latin1')
        .replace(/\n/g, ' ');
    case 1:
      return randomValue(rng);
    case 2: {
      // flip a character
      const i = rng.int(json.length);
      return json.slice(0, i) + String.fromCharCode(rng.int(128)).replace('\n', ' ') + json.slice(i + 1);
    }
    case 3:
      return json.slice(0, rng.int(json.length)); // truncated
    case 4: {
      // a key dropped
      const copy = { ...base };
      delete copy[rng.pick(keys)];
      return JSON.stringify(copy);
    }
    case 5: {
      // a field of the wrong type
      const key = rng.pick(keys);
      const rest = { ...base };
      delete rest[key];
      return addKey(JSON.stringify(rest), key, randomValue(rng));
    }
    case 6:
      return addKey(json, rng.pick(EVIL_KEYS), `{"polluted":"yes","isAdmin":true}`);
    case 7:
      return addKey(json, '__proto__', `{"polluted":"yes"}`);
    case 8:
      return `{"type":${JSON.stringify(rng.pick([...EVIL_KEYS, 'admin', 'SEND', 'send ', 'server_hello', 'welcome', 'goodbye', 'message', 'dm']))},"id":"x"}`;
    case 9: {
      // deep nesting in a field
      const key = rng.pick(keys.filter((k) => k !== 'type').concat(['extra']));
      const rest = { ...base };
      delete rest[key];
      return addKey(JSON.stringify(rest), key, deepJson(rng, 100 + rng.int(options.maxHuge ? 5000 : 1000)));
    }
    case 10: {
      // huge string in a field
      const key = rng.pick(keys.filter((k) => k !== 'type').concat(['text']));
      const rest = { ...base };
      delete rest[key];
      return addKey(JSON.stringify(rest), key, JSON.stringify('x'.repeat(1000 + rng.int(options.maxHuge ?? 20_000))));
    }
    case 11:
      return rng.pick([
        '[]',
        '[{"type":"ping"}]',
        '"ping"',
        '0',
        'null',
        'true',
        '{}',
        '{"type":null}',
        '{"type":1}',
        '{"type":["ping"]}',
        '',
      ]);
    case 12:
      return addKey(json, 'constructor', `{"prototype":{"polluted":"yes"}}`);
    default:
      return json; // the unmutated message: valid for the schema (it may still be refused)
  }
}

/**
 * A schema-valid request a logged-in user may legitimately send, with hostile values: these reach
 * the handlers (and the database) rather than stopping at the schema. Avoids the few requests the
 * server counts as abuse (so the connection is not cut before its batch is done) and logout.
 */
export function hostileRequest(
  rng: Rng,
  ctx: { ownRoom: string; victim: string; me: string; device: DeviceIdentity },
): Record<string, unknown> {
  const id = `h${rng.int(1e9)}`;
  const room = rng.pick([ctx.ownRoom, 'lobby', 'nope', `r${rng.int(1e6)}`, 'a', 'z'.repeat(32), '-', '_']);
  const user = rng.pick([ctx.victim, ctx.me, 'nobody', `u${rng.int(1e6)}x`, 'admin', 'root']);
  const target = rng.chance(0.5) ? { room } : { user };
  const msgId = rng.pick(['0', '1', '99999999999999999999', String(rng.int(1e6)), '00000000000000000001']);
  const text = rng.pick([...STRINGS.filter((s) => s.length > 0), rng.bytes(20).toString('latin1') || 'x', 'x'.repeat(4000)]);
  switch (rng.int(20)) {
    case 0:
      return { type: 'room_join', id, room: rng.pick(['nope', `r${rng.int(1e6)}`, ctx.ownRoom]) };
    case 1:
      return { type: 'room_part', id, room: rng.pick(['nope', `r${rng.int(1e6)}`]) };
    case 2:
      return { type: 'room_list', id };
    case 3:
      return { type: 'room_members', id, room };
    case 4:
      return { type: 'users_list', id };
    case 5:
      return { type: 'history', id, target, limit: 1 + rng.int(500), ...(rng.chance(0.5) ? { before: msgId } : { after: msgId }) };
    case 6:
      return { type: 'keys_get', id, user };
    case 7:
      return { type: 'presence_set', id, state: rng.pick(['online', 'away']), status: text.slice(0, 100) };
    case 8:
      return { type: 'typing', target, active: rng.chance(0.5) };
    case 9:
      return { type: 'read', id, target: rng.chance(0.5) ? { room: ctx.ownRoom } : { user }, msgId };
    case 10:
      // Its own room is end to end (an opaque envelope only); text goes to the open lobby.
      return rng.chance(0.5)
        ? { type: 'send', id, room: 'lobby', text, action: rng.chance(0.2) }
        : { type: 'send', id, room: ctx.ownRoom, envelope: rng.bytes(1 + rng.int(2048)).toString('base64url') };
    case 11:
      // Well framed (a malformed framing is refused as abuse), with random bytes for the session message.
      return {
        type: 'dm_send',
        id,
        to: rng.pick([ctx.victim, 'nobody']),
        envelope: directEnvelope(ctx.device, [[ctx.device, rng.bytes(rng.int(300))]]),
      };
    case 12: {
      // As a real client offers: a file to an open room (the lobby here) with its name and hash; a
      // direct file and a file to an end-to-end room (its own) with neither (they travel inside the
      // end-to-end envelope). A name no one could save under would be refused as a bad request,
      // which counts as abuse.
      const size = rng.pick([0, 1, 2 ** 40, 10 * 1024 * 1024 + 1, rng.int(1e6)]);
      const name = fileNameProblem(text.slice(0, 255)) === undefined ? text.slice(0, 255) : `${rng.int(1e6)}.bin`;
      return rng.pick([
        { type: 'file_offer', id, target: { room: 'lobby' }, size, name, sha512: rng.bytes(64).toString('base64url') },
        { type: 'file_offer', id, target: { room: ctx.ownRoom }, size },
        { type: 'file_offer', id, target: { user: ctx.victim }, size },
      ]);
    }
    case 13:
      return {
        type: 'file_chunk',
        id,
        fileId: rng.bytes(12).toString('base64url'),
        index: rng.int(2 ** 32),
        data: rng.bytes(rng.int(100)).toString('base64url'),
        final: rng.chance(0.5),
      };
    case 14:
      return { type: rng.pick(['file_accept', 'file_decline', 'file_cancel']), id, fileId: rng.bytes(12).toString('base64url') };
    case 15:
      return { type: 'files_pending', id };
    case 16:
      return { type: 'room_topic', id, room: ctx.ownRoom, topic: text.slice(0, 300) };
    case 17:
      return { type: rng.pick(['mute', 'unmute', 'kick']), id, room: ctx.ownRoom, user: rng.pick([ctx.victim, 'nobody']) };
    case 18:
      return {
        type: 'device_login',
        id,
        username: user,
        signKey: rng.bytes(32).toString('base64url'),
        signature: rng.bytes(64).toString('base64url'),
      };
    default:
      return { type: 'ping', nonce: String(rng.int(1e9)) };
  }
}

/** One pre-handshake attack: the bytes a hostile peer writes right after connecting. */
export function preHandshakeBytes(rng: Rng): Buffer {
  const frame = (payload: Buffer): Buffer => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(payload.length, 0);
    return Buffer.concat([h, payload]);
  };
  switch (rng.int(8)) {
    case 0:
      return rng.bytes(1 + rng.int(300)); // unframed noise
    case 1:
      return frame(rng.bytes(rng.int(4096))); // framed noise
    case 2: {
      // an oversized or absurd length header
      const h = Buffer.alloc(4);
      h.writeUInt32BE(rng.pick([4097, 65536, 0x7fffffff, 0xffffffff, 4096 + rng.int(1e9)]), 0);
      return Buffer.concat([h, rng.bytes(rng.int(64))]);
    }
    case 3:
      return frame(Buffer.from(garbageLine(rng).slice(0, 4000), 'latin1'));
    case 4: {
      // a valid hello followed by garbage in place of client_finished
      const hello = frame(
        Buffer.from(JSON.stringify({ type: 'client_hello', versions: [PROTOCOL_VERSION], ephemeral: rng.bytes(32).toString('base64url') })),
      );
      return Buffer.concat([hello, frame(Buffer.from(garbageLine(rng).slice(0, 4000), 'latin1'))]);
    }
    case 5:
      return frame(
        Buffer.from(
          JSON.stringify({
            type: 'client_hello',
            versions: rng.pick([[], [0], [65536], [1, 1], Array(17).fill(1), ['1'], [1.5], [-1]]),
            ephemeral: rng.bytes(rng.pick([31, 32, 33])).toString('base64url'),
          }),
        ),
      );
    case 6:
      return frame(Buffer.from(deepJson(rng, 1 + rng.int(2000)).slice(0, 4096)));
    default:
      return Buffer.concat([frame(Buffer.from('{"type":"ping"}')), rng.bytes(rng.int(100))]); // a valid message, wrong phase
  }
}
