// One Bus contract, run on the in-process bus and on NATS (a real nats-server).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { LocalBus, NatsBus } from '../src/bus/index.js';
import { busContract } from './helpers/bus-contract.js';
import { startNats, type TestNats } from './helpers/nats.js';

describe('LocalBus', () => {
  busContract(async (handlers) => new LocalBus(handlers, { graceMs: 20 }));
});

describe('NatsBus', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(() => nats.stop());
  busContract((handlers) => NatsBus.connect({ servers: nats.url, subject: `t${randomUUID().slice(0, 8)}`, graceMs: 20 }, handlers));
});
