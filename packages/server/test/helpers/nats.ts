// The throwaway nats-server lives in the shared test kit (the bench starts it too).
export { startNats, type TestNats } from '../../../test-kit/src/nats.js';
