import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { Fixture } from './helpers.js';

describe('a request the server cannot parse', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  it('is refused at once with the rule it breaks, not left to time out', async () => {
    const client = await fx.user(server, 'hashjoin');
    const started = Date.now();
    const refused = await client.joinRoom('#den').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'SCHEMA_VIOLATION', message: expect.stringContaining('expected a room name') });
    expect(Date.now() - started).toBeLessThan(5000); // the request timeout is 15 s
    await client.createRoom('den'); // and the connection serves on
  });
});
