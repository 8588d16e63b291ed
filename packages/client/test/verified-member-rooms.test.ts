import { passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { isHushError } from '../src/errors.js';
import { Fixture, nextEvent } from './helpers.js';

// A verification gates what is said to that person, not who reads a room: when a contact bob
// verified adds a device, bob still posts in the rooms they share (his sender key reaches the new
// device too), is told of the change, and his direct messages to them wait for a new verification.

describe('a verified room member adds a device', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it("bob's #lobby message reaches alice's new device and carol; his direct message to alice is refused", async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    const carol = await fx.user(s, 'carol');
    expect(bob.rooms.get('lobby')?.kind).toBe('e2e');
    await bob.verifyContact('alice');
    const before = nextEvent(alice, 'message', (m) => m.text === 'before the laptop');
    await bob.send('lobby', 'before the laptop');
    await before;

    const changed = nextEvent(bob, 'keyChange', (k) => k.user === 'alice');
    const laptop = await fx.connect(s);
    await laptop.login('alice', passwordOf('alice'));
    expect((await changed)[0]).toEqual({ user: 'alice', verified: true });
    expect(bob.isVerified('alice')).toBe(false);

    const onLaptop = nextEvent(laptop, 'message', (m) => m.text === 'after the laptop');
    const atCarol = nextEvent(carol, 'message', (m) => m.text === 'after the laptop');
    const atAlice = nextEvent(alice, 'message', (m) => m.text === 'after the laptop');
    await bob.send('lobby', 'after the laptop');
    const [[seen]] = await Promise.all([onLaptop, atCarol, atAlice]);
    expect(seen).toMatchObject({ from: 'bob', room: 'lobby', mine: false });

    const refused = await bob.sendDirect('alice', 'private words').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isHushError(refused, 'E2E_KEY_CHANGED')).toBe(true);
    // Verified again: direct messages go out (to both of alice's devices).
    await bob.verifyContact('alice');
    const dmOnLaptop = nextEvent(laptop, 'message', (m) => m.text === 'verified again');
    await bob.sendDirect('alice', 'verified again');
    await dmOnLaptop;
  });
});
