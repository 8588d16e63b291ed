// What a bot reads when its login is refused, and how it joins a room that may not exist yet.
import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { HushError, isHushError } from '../src/errors.js';
import { Fixture } from './helpers.js';

describe('a refused login in words, the same for an unknown user and a wrong password', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  it('login() of an unknown user and of a wrong password reject alike: AUTH_FAILED with words, not the code again', async () => {
    const owner = await fx.connect(server);
    await owner.register('wordsmith', 'wordsmith-password-1');
    const refusal = async (user: string): Promise<HushError> => {
      const bot = await fx.connect(server);
      const error = await bot.login(user, 'not-the-password-9').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HushError);
      return error as HushError;
    };
    const unknown = await refusal('nosuchbot');
    const wrong = await refusal('wordsmith');
    expect(unknown.code).toBe('AUTH_FAILED');
    expect(unknown.message).toBe('invalid username or password');
    expect([wrong.code, wrong.message]).toEqual([unknown.code, unknown.message]);
  });

  it('register of a name that breaks the rule says the rule; logins past the back-off say how long to wait', async () => {
    const own = fx.stopAfter(await startTestServer());
    const bot = await fx.connect(own);
    await expect(bot.register('Bad Name', 'badname-password-1')).rejects.toMatchObject({
      code: 'USERNAME_INVALID',
      message: 'username must use only a-z, 0-9, _ and -',
    });
    await expect(bot.register('ab', 'badname-password-1')).rejects.toMatchObject({
      code: 'USERNAME_INVALID',
      message: 'username must be at least 3 characters',
    });
    await bot.register('lockout', 'lockout-password-1');
    const guesser = await fx.connect(own); // no device of lockout here: every login takes the password
    let refusal: HushError | undefined;
    for (let i = 0; i < 20 && refusal?.code !== 'RATE_LIMITED'; i++) {
      refusal = await guesser.login('lockout', 'not-the-password-9').then(
        () => undefined,
        (e: unknown) => e as HushError,
      );
    }
    expect(refusal?.code).toBe('RATE_LIMITED');
    expect(refusal?.retryAfterMs).toBeGreaterThan(0);
    expect(refusal?.message).toBe(`too many failed logins: try again in ${Math.ceil(refusal!.retryAfterMs! / 1000)} s`);
  });

  it("joinRoom of a room that does not exist rejects NOT_FOUND; the README's join-or-create joins it either way", async () => {
    // As the SDK README says (and as hush's /join does).
    const joinOrCreate = async (client: HushClient, room: string): Promise<void> => {
      try {
        await client.joinRoom(room);
      } catch (error) {
        if (!isHushError(error, 'NOT_FOUND')) throw error;
        await client.createRoom(room);
        if (!client.rooms.has(room)) await client.joinRoom(room);
      }
    };
    const bot = await fx.connect(server);
    await bot.register('roombot', 'roombot-password-1');
    await expect(bot.joinRoom('botroom')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no room #botroom' });
    await joinOrCreate(bot, 'botroom'); // created, end-to-end, with the bot in it
    expect(bot.rooms.get('botroom')?.kind).toBe('e2e');
    const other = await fx.connect(server);
    await other.register('roombot2', 'roombot2-password-1');
    await joinOrCreate(other, 'botroom'); // exists: joined
    expect(other.rooms.has('botroom')).toBe(true);
    expect((await bot.members('botroom')).map((m) => m.user).sort()).toEqual(['roombot', 'roombot2']);
  });
});
