import type { z } from 'zod';
import { ProtocolError } from './errors.js';
import { requestId } from './fields.js';
import {
  CLIENT_MESSAGE_TYPES,
  clientMessageSchema,
  SERVER_MESSAGE_TYPES,
  serverMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';

/** Who sent the bytes being decoded: decides which schemas apply. */
export type Sender = 'client' | 'server';
export type MessageFrom<S extends Sender> = S extends 'client' ? ClientMessage : ServerMessage;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const known = { client: new Set<string>(CLIENT_MESSAGE_TYPES), server: new Set<string>(SERVER_MESSAGE_TYPES) };
const schemas = { client: clientMessageSchema, server: serverMessageSchema } as const;

/** JSON text of one message. Serialise once, then reuse the string for every recipient. */
export function serialize(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}

/** Record payload holding one or more messages (or their pre-serialised text). */
export function encode(messages: ClientMessage | ServerMessage | ReadonlyArray<ClientMessage | ServerMessage | string>): Buffer {
  const list = Array.isArray(messages) ? messages : [messages];
  return Buffer.from(list.map((m) => (typeof m === 'string' ? m : serialize(m))).join('\n'), 'utf8');
}

/** Checks an already-parsed value against the schemas of `from`. Throws ProtocolError. */
export function validate<S extends Sender>(from: S, value: unknown): MessageFrom<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('SCHEMA_VIOLATION', 'a message must be a JSON object', { path: '' });
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !known[from].has(type)) {
    throw new ProtocolError('UNKNOWN_TYPE', typeof type === 'string' ? printable(type) : 'missing "type"', {
      path: 'type',
      re: refusedId(value),
    });
  }
  const result = (schemas[from] as z.ZodType).safeParse(value);
  if (!result.success) {
    const { path, problem } = describe(result.error.issues[0]);
    throw new ProtocolError('SCHEMA_VIOLATION', `${type}: ${path || '(message)'}: ${problem}`, { path, re: refusedId(value) });
  }
  return result.data as MessageFrom<S>;
}

/** A refused request's id when well-formed: its error answers it (`re`), so the caller does not wait. */
function refusedId(value: object): string | undefined {
  const id = (value as { id?: unknown }).id;
  return requestId.safeParse(id).success ? (id as string) : undefined;
}

/** Decodes a record payload into its validated messages. Throws ProtocolError. */
export function decode<S extends Sender>(from: S, payload: Uint8Array): MessageFrom<S>[] {
  return decodeEach(from, payload).map((item) => {
    if (item instanceof ProtocolError) throw item;
    return item;
  });
}

/**
 * Like `decode`, but each line that fails yields its ProtocolError in place and the other lines
 * still decode. A payload that is not UTF-8 is one error.
 */
export function decodeEach<S extends Sender>(from: S, payload: Uint8Array): Array<MessageFrom<S> | ProtocolError> {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch (cause) {
    return [new ProtocolError('MALFORMED_JSON', 'invalid UTF-8', { cause })];
  }
  const out: Array<MessageFrom<S> | ProtocolError> = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    out.push(parseLine(from, text.slice(start, end)));
    start = end + 1;
  }
  return out;
}

function parseLine<S extends Sender>(from: S, line: string): MessageFrom<S> | ProtocolError {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    return new ProtocolError('MALFORMED_JSON', undefined, { cause });
  }
  try {
    return validate(from, value);
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
}

/**
 * Path and text of the first issue, bounded so that they fit an `error` reply (path <= 200,
 * message <= 500). An unknown key is reported at its own path (`from`, not the enclosing object),
 * and a key the peer chose is quoted and truncated, never echoed whole.
 */
function describe(issue: z.core.$ZodIssue | undefined): { path: string; problem: string } {
  if (!issue) return { path: '', problem: 'invalid' };
  const segments = issue.path.map(String);
  let problem = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    segments.push(key.length > 40 ? `${key.slice(0, 40)}...` : key);
    problem = `unknown key ${printable(key)}`;
  } else if ((issue.code === 'too_big' || issue.code === 'too_small') && (issue.origin === 'string' || issue.origin === 'array')) {
    // In the protocol's words (a length a person can act on), not zod's "Too big: expected string to have <=100 characters".
    const n = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
    const unit = issue.origin === 'string' ? 'character' : 'item';
    problem = `expected ${issue.code === 'too_big' ? 'at most' : 'at least'} ${n} ${unit}${n === 1 ? '' : 's'}`;
  }
  const path = clip(segments.join('.'), 200);
  return { path, problem: clip(problem, 200) };
}

function clip(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 3)}...` : value;
}

function printable(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}
