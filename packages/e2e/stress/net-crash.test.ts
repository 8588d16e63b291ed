// Stress variant of test/net-crash.test.ts: more senders, three kill -9 / restart rounds.
import { crashSuite } from '../test/helpers-net/crash.js';

crashSuite(
  'crash safety (stress)',
  'three kill -9 rounds under heavier traffic',
  { senders: 8, window: 32, trafficMs: 2000, rounds: 3 },
  1000,
  600_000,
);
