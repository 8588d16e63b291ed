// The shared test harness, loaded as TypeScript source by vitest (this package is never built).
export { HUSH_CLI, HushTui, inputLine, removeWhileWritten } from './tmux.js';
export type { HushTuiOptions } from './tmux.js';
export { ClientFixture, e2eRoom, eventWaiters, passwordOf, sharedServer } from './client-fixture.js';
export { closedPort } from './ports.js';
export { CutProxy } from './cut-proxy.js';
export { smallDisk } from './small-disk.js';
export type { SmallDisk } from './small-disk.js';
export { until } from './until.js';
export type {
  AdminableServer,
  BaseConnectOptions,
  ClientPaths,
  EventSource,
  EventWaiters,
  FixtureClient,
  ServerAddress,
} from './client-fixture.js';
export { makeCa, startPostgres } from './postgres.js';
export type { TestPostgres } from './postgres.js';
export { startNats } from './nats.js';
export type { TestNats } from './nats.js';
export { startTcpBalancer } from './tcp-balancer.js';
export type { TcpBalancer } from './tcp-balancer.js';
