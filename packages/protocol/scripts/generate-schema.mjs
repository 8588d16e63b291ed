// Writes schema/messages.schema.json from the built package (run `pnpm build` first, or `pnpm schema`).
// test/json-schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { messagesJsonSchema } from '../dist/index.js';

const out = fileURLToPath(new URL('../schema/messages.schema.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(messagesJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
