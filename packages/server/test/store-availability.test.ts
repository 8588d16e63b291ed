// Which store failures mean "the database cannot be reached", and how a watched store reports it:
// calls fail with StoreError UNAVAILABLE in words, and only a probe the database answers brings it back.
import { describe, expect, it } from 'vitest';
import type { AsyncStore } from '../src/store/async-store.js';
import { isConnectionError, watchAvailability } from '../src/store/availability.js';
import { StoreError } from '../src/errors.js';

const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it('is true for socket errors, connection and shutdown states, and the client losing its connection', () => {
    for (const err of [
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      coded('ECONNRESET'),
      coded('08006', 'connection failure'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P03', 'the database system is starting up'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
      new StoreError('UNAVAILABLE', 'down'),
    ]) {
      expect(isConnectionError(err), err.message).toBe(true);
    }
  });

  it('is false for refusals the database made, and for anything else', () => {
    for (const err of [
      coded('23505', 'duplicate key value violates unique constraint'),
      coded('42P01', 'relation "users" does not exist'),
      new StoreError('NOT_FOUND', 'no such user'),
      new Error('something else'),
      'a string',
    ]) {
      expect(isConnectionError(err)).toBe(false);
    }
  });
});

describe('watchAvailability', () => {
  it('turns connection failures into UNAVAILABLE, reports the change once each way, recovers by a probe', async () => {
    let down = false;
    const store = {
      getUser: async () => {
        if (down) throw coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
        return undefined;
      },
      createUser: async () => {
        throw new StoreError('ALREADY_EXISTS', 'user already exists');
      },
      // Answered from memory: proves nothing about the database.
      isAddressBanned: async () => false,
    } as unknown as AsyncStore;
    const changes: boolean[] = [];
    const watched = watchAvailability(store, (available) => changes.push(available), 20);
    try {
      await expect(watched.store.createUser('a', null, 'user', 1)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(watched.available).toBe(true);
      down = true;
      await expect(watched.store.getUser('a')).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/cannot reach its database/),
      });
      await expect(watched.store.getUser('a')).rejects.toBeInstanceOf(StoreError);
      expect(await watched.store.isAddressBanned('127.0.0.1', 1)).toBe(false);
      expect(watched.available).toBe(false);
      down = false;
      for (let i = 0; i < 100 && !watched.available; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(watched.available).toBe(true);
      expect(changes).toEqual([false, true]);
    } finally {
      watched.stop();
    }
  });
});
