// Fuzzing a live hushd over real sockets with more than 100,000 random and mutated
// frames and messages, before and after the handshake (sealed with real session keys), including
// prototype-pollution keys, deep nesting, huge strings and wrong types. Meanwhile an honest client
// pings and an honest pair chats: the server must not crash, hang or stop serving them, and every
// error it sends must carry a code. Set HUSH_FUZZ_SEED to replay a run.
import { fuzzSuite } from './helpers-net/fuzz-suite.js';

fuzzSuite(
  'fuzzing a live server',
  { minInputs: 100_000, chatMs: 8000, timeoutMs: 120_000 },
  {
    preHandshake: 2000,
    garbage: 40,
    linesPerGarbage: 2000,
    hostile: 12,
    requestsPerHostile: 2500,
    badRecord: 300,
    concurrency: 16,
    connectionTimeoutMs: 5000,
  },
);
