// kill -9 of hushd in the middle of heavy traffic, then a restart on the same data
// directory and port. Every acknowledged message is in history exactly once, the database is
// intact, and the SDK clients reconnect by themselves and catch up with no gap and no duplicate.
import { crashSuite } from './helpers-net/crash.js';

crashSuite(
  'crash safety',
  'kill -9 mid-traffic, restart: acked messages kept once, database intact, clients catch up',
  { senders: 4, window: 16, trafficMs: 3000, rounds: 1 },
  200,
  90_000,
);
