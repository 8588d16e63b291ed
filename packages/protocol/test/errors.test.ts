import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decode,
  FrameDecoder,
  isProtocolError,
  MessageChannel,
  ProtocolError,
  PROTOCOL_ERROR_CODE_LIST,
  PROTOCOL_ERROR_CODES,
  PROTOCOL_VERSION,
  schemas,
  SUPPORTED_VERSIONS,
  validate,
  type ProtocolErrorCode,
  type Sender,
} from '../src/index.js';
import { plainCipher, protocolErrorOf } from './helpers.js';

const frameOf = (text: string | Uint8Array): Buffer => {
  const payload = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
};

function expectError(error: ProtocolError, code: ProtocolErrorCode): void {
  expect(error).toBeInstanceOf(ProtocolError);
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('ProtocolError');
  expect(isProtocolError(error)).toBe(true);
  expect(error.code).toBe(code);
  expect(error.message.startsWith(PROTOCOL_ERROR_CODES[code])).toBe(true);
}

describe('ProtocolError', () => {
  it('uses the table text, appends the detail, keeps cause and path', () => {
    const cause = new Error('inner');
    const e = new ProtocolError('NOT_FOUND', 'room #x', { cause, path: 'room' });
    expect(e.message).toBe('no such room, user or file: room #x');
    expect(e.cause).toBe(cause);
    expect(e.path).toBe('room');
    expect(new ProtocolError('INTERNAL').message).toBe('internal server error');
    expect(isProtocolError(new Error('x'))).toBe(false);
  });

  it('every code has a non-empty description and is usable on the wire', () => {
    for (const code of PROTOCOL_ERROR_CODE_LIST) {
      expect(PROTOCOL_ERROR_CODES[code].length).toBeGreaterThan(0);
      expect(schemas.error.safeParse({ type: 'error', code, message: PROTOCOL_ERROR_CODES[code] }).success).toBe(true);
      expect(schemas.goodbye.safeParse({ type: 'goodbye', code, message: 'bye' }).success).toBe(true);
    }
    expect(schemas.error.safeParse({ type: 'error', code: 'NOPE', message: '' }).success).toBe(false);
  });
});

describe('codes raised by the package', () => {
  it('FRAME_TOO_LARGE: a frame header above the limit', () => {
    const err = protocolErrorOf(() => new FrameDecoder({ maxFrameSize: 10 }).push(frameOf('x'.repeat(11))));
    expectError(err, 'FRAME_TOO_LARGE');
    expect(err.message).toContain('11 > 10');
  });

  it('FRAME_TOO_LARGE: framing a message that can never fit a record', () => {
    const channel = new MessageChannel({ peer: 'client', maxFrameSize: 1024 });
    channel.upgrade(plainCipher);
    const err = protocolErrorOf(() => channel.frame([{ type: 'notice', level: 'info', text: 'x'.repeat(1000) }]));
    expectError(err, 'FRAME_TOO_LARGE');
  });

  it('MALFORMED_JSON: invalid UTF-8, with the decoder error as cause', () => {
    const err = protocolErrorOf(() => decode('client', Uint8Array.of(0x7b, 0xff, 0x7d)));
    expectError(err, 'MALFORMED_JSON');
    expect(err.message).toContain('UTF-8');
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('MALFORMED_JSON: invalid JSON, with the SyntaxError as cause', () => {
    const err = protocolErrorOf(() => decode('client', Buffer.from('{"type":"ping",}')));
    expectError(err, 'MALFORMED_JSON');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('SCHEMA_VIOLATION: a field of the wrong type, with its path', () => {
    const err = protocolErrorOf(() => decode('client', Buffer.from('{"type":"send","id":"1","room":"lobby","text":7}')));
    expectError(err, 'SCHEMA_VIOLATION');
    expect(err.path).toBe('text');
    expect(err.message).toContain('send: text:');
  });

  it('SCHEMA_VIOLATION: a message that is not an object', () => {
    const err = protocolErrorOf(() => decode('server', Buffer.from('[1,2]')));
    expectError(err, 'SCHEMA_VIOLATION');
    expect(err.path).toBe('');
  });

  it('UNKNOWN_TYPE: a type the direction does not have, or none', () => {
    const err = protocolErrorOf(() => decode('server', Buffer.from('{"type":"send","id":"1","room":"a","text":"b"}')));
    expectError(err, 'UNKNOWN_TYPE');
    expect(err.path).toBe('type');
    expect(err.message).toContain('"send"');
    expectError(
      protocolErrorOf(() => decode('client', Buffer.from('{"kind":"ping"}'))),
      'UNKNOWN_TYPE',
    );
    // A long type is quoted and truncated, not echoed whole.
    const long = protocolErrorOf(() => decode('client', Buffer.from(JSON.stringify({ type: 'x'.repeat(5000) }))));
    expect(long.message.length).toBeLessThan(120);
  });

  it('BAD_RECORD: the record layer refused a record, with its error as cause', () => {
    const cause = new Error('tag mismatch');
    const channel = new MessageChannel({ peer: 'client' });
    channel.upgrade({
      seal: (p) => p,
      open: () => {
        throw cause;
      },
    });
    const err = protocolErrorOf(() => channel.receive(frameOf('{"type":"ping"}')));
    expectError(err, 'BAD_RECORD');
    expect(err.cause).toBe(cause);
  });

  it('HANDSHAKE_REQUIRED: several messages in one frame before the handshake', () => {
    const channel = new MessageChannel({ peer: 'client' });
    const err = protocolErrorOf(() => channel.receive(frameOf('{"type":"ping"}\n{"type":"ping"}')));
    expectError(err, 'HANDSHAKE_REQUIRED');
  });
});

describe('PROTOCOL.md', () => {
  const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');

  /** Rows of the table under "## Error codes": | `CODE` | meaning | ... | */
  function documentedCodes(): Map<string, string> {
    const section = doc.split(/^## /m).find((s) => /^(\d+\. )?Error codes/.test(s));
    expect(section, 'PROTOCOL.md has an "## Error codes" section').toBeDefined();
    const rows = new Map<string, string>();
    for (const line of section!.split('\n')) {
      const match = /^\|\s*`([A-Z_]+)`\s*\|\s*([^|]+?)\s*\|/.exec(line);
      if (match) rows.set(match[1]!, match[2]!);
    }
    return rows;
  }

  it('lists exactly the codes of the table in errors.ts, in the same order, with the same text', () => {
    const rows = documentedCodes();
    expect([...rows.keys()]).toEqual(PROTOCOL_ERROR_CODE_LIST);
    for (const code of PROTOCOL_ERROR_CODE_LIST) expect(rows.get(code)).toBe(PROTOCOL_ERROR_CODES[code]);
  });

  it('gives every message a JSON example that its schema accepts', () => {
    const sections = doc.split(/^### /m).filter((s) => /^4\.\d/.test(s));
    const seen: string[] = [];
    for (const section of sections) {
      const directions: Sender[] = section.startsWith('4.2') ? ['client'] : section.startsWith('4.4') ? ['server'] : ['client', 'server'];
      for (const block of section.split(/^#### /m).slice(1)) {
        const type = /^`([a-z_]+)`/.exec(block)?.[1];
        const json = /```json\n(.*)\n```/.exec(block)?.[1];
        expect(json, `example for ${type}`).toBeDefined();
        const value = JSON.parse(json!) as { type: string };
        expect(value.type).toBe(type);
        const known = directions.filter((d) =>
          (d === 'client' ? schemas.CLIENT_MESSAGE_TYPES : schemas.SERVER_MESSAGE_TYPES).includes(value.type as never),
        );
        expect(known.length, `${type} belongs to its section`).toBeGreaterThan(0);
        for (const from of known) expect(validate(from, value)).toEqual(value);
        // A hello copied from here must get through to a hushd of this version.
        if ('versions' in value) expect(value.versions, `${type}'s versions`).toEqual([...SUPPORTED_VERSIONS]);
        if ('version' in value) expect(value.version, `${type}'s version`).toBe(PROTOCOL_VERSION);
        seen.push(type!);
      }
    }
    expect(new Set(seen)).toEqual(new Set([...schemas.CLIENT_MESSAGE_TYPES, ...schemas.SERVER_MESSAGE_TYPES]));
  });

  it('documents every message type of both directions', () => {
    for (const type of [...schemas.CLIENT_MESSAGE_TYPES, ...schemas.SERVER_MESSAGE_TYPES]) {
      expect(doc, `PROTOCOL.md mentions ${type}`).toMatch(new RegExp(`^#### \`${type}\``, 'm'));
    }
  });
});
