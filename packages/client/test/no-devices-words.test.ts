// A user an admin added who never logged in has no device keys: E2E_NO_DEVICES says so in words,
// with what works once they have logged in, from sendDirect, safetyNumber and verifyContact alike.
import { afterEach, describe, expect, it } from 'vitest';
import { Fixture } from './helpers.js';

describe('a user who has not logged in on any device yet', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('is said to be one, with what works once they have', async () => {
    const server = await fx.unthrottledServer();
    const alice = await fx.user(server, 'alice');
    await server.db.createUser('henry', null, 'user', Date.now()); // as `hushd user add` makes it
    const notYet = (then: string) => ({ code: 'E2E_NO_DEVICES', message: `henry has not logged in on any device yet: ${then}` });
    await expect(alice.sendDirect('henry', 'hello')).rejects.toMatchObject(notYet('messages can be sent once they have'));
    await expect(alice.safetyNumber('henry')).rejects.toMatchObject(notYet('there is no safety number to compare until they have'));
    await expect(alice.verifyContact('henry')).rejects.toMatchObject(notYet('there is nothing to verify until they have'));
    expect(alice.isVerified('henry')).toBe(false);
  });
});
