import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_TYPES, messagesJsonSchema, SERVER_MESSAGE_TYPES } from '../src/index.js';

const committedText = readFileSync(new URL('../schema/messages.schema.json', import.meta.url), 'utf8');

interface Variant {
  properties: { type: { const: string } };
  additionalProperties: boolean;
  required: string[];
}
interface Doc {
  $defs: { ClientMessage: { oneOf: Variant[] }; ServerMessage: { oneOf: Variant[] } };
}

describe('schema/messages.schema.json', () => {
  it('is up to date with the zod schemas (run `pnpm schema` to regenerate)', () => {
    expect(committedText).toBe(`${JSON.stringify(messagesJsonSchema(), null, 2)}\n`);
  });

  it('has one strict variant per message type in each direction', () => {
    const doc = JSON.parse(committedText) as Doc;
    const types = (variants: Variant[]) => variants.map((v) => v.properties.type.const);
    expect(types(doc.$defs.ClientMessage.oneOf)).toEqual(CLIENT_MESSAGE_TYPES);
    expect(types(doc.$defs.ServerMessage.oneOf)).toEqual(SERVER_MESSAGE_TYPES);
    for (const v of [...doc.$defs.ClientMessage.oneOf, ...doc.$defs.ServerMessage.oneOf]) {
      expect(v.additionalProperties).toBe(false);
      expect(v.required).toContain('type');
    }
  });

  it('keeps the bounds of the zod schemas', () => {
    const doc = JSON.parse(committedText) as {
      $defs: { ClientMessage: { oneOf: { properties: Record<string, { maxLength?: number; pattern?: string }> }[] } };
    };
    const send = doc.$defs.ClientMessage.oneOf.find((v) => (v.properties.type as { const?: string }).const === 'send')!;
    expect(send.properties.text!.maxLength).toBe(4000);
    expect(send.properties.room!.pattern).toBe('^[a-z0-9_-]{1,32}$');
    expect('from' in send.properties).toBe(false);
  });
});
