export { CommitSequencer } from './commit-sequencer.js';
export { LocalBus } from './local-bus.js';
export { NatsBus } from './nats-bus.js';
export type { NatsBusOptions } from './nats-bus.js';
export type { Bus, BusHandlers, BusSignal, BusState, FillGap, JsonValue, SignalTopic } from './types.js';
