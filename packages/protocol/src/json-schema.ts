import { z } from 'zod';
import { clientMessageSchema, serverMessageSchema } from './messages.js';
import { PROTOCOL_VERSION } from './version.js';

/**
 * JSON Schema (draft 2020-12) of every message, generated from the zod schemas so the two cannot
 * drift: for implementations in other languages. Committed as schema/messages.schema.json.
 */
export function messagesJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `Hush protocol v${PROTOCOL_VERSION} messages`,
    description:
      'One JSON message of the Hush protocol. ClientMessage is what a client sends, ServerMessage what a server sends; see PROTOCOL.md.',
    $defs: {
      ClientMessage: withoutDialect(z.toJSONSchema(clientMessageSchema)),
      ServerMessage: withoutDialect(z.toJSONSchema(serverMessageSchema)),
    },
    // anyOf, not oneOf: ping and pong exist in both directions.
    anyOf: [{ $ref: '#/$defs/ClientMessage' }, { $ref: '#/$defs/ServerMessage' }],
  };
}

/** A nested schema inherits the document's `$schema`. */
function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
