// @hush/bench (private): the benchmark harness. `src/main.ts` is the `pnpm bench` command; these are
// the pieces the smoke test and other tools use.
export { runBench, describeMachine, SCENARIOS } from './bench.js';
export { FULL, QUICK, SMOKE, windowFor } from './profiles.js';
export { checkTargets, renderTables, renderMachine } from './report.js';
export { startRawServer } from './raw-server.js';
export { HushLoadClient } from './hush-client.js';
export { RawLoadClient } from './raw-client.js';
export { countLines, readStamps, stampedText } from './deliveries.js';
export { summariseProfile } from './profile.js';

export type { BenchResults, RunOptions, ScenarioName, Machine } from './bench.js';
export type { BenchProfile } from './profiles.js';
export type { TargetCheck } from './report.js';
export type { RawServer, RawServerOptions } from './raw-server.js';
export type { LoadClient } from './load-client.js';
export type { FanoutResult, FanoutSide } from './scenarios/fanout.js';
export type { HandshakeResults, RateResult } from './scenarios/handshakes.js';
export type { MemoryStep } from './scenarios/memory.js';
export type { HistoryResult } from './scenarios/history.js';
export type { FileResult } from './file-transfer.js';
