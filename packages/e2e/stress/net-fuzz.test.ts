// Stress variant of test/net-fuzz.test.ts: about 600,000 hostile inputs against one live server.
import { fuzzSuite } from '../test/helpers-net/fuzz-suite.js';

fuzzSuite(
  'stress fuzzing',
  { minInputs: 500_000, chatMs: 10_000, timeoutMs: 600_000 },
  {
    preHandshake: 10_000,
    garbage: 200,
    linesPerGarbage: 2000,
    hostile: 50,
    requestsPerHostile: 4000,
    badRecord: 2000,
    concurrency: 24,
    connectionTimeoutMs: 8000,
  },
);
