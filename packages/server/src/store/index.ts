export { SqliteStore } from './sqlite.js';
export { conversationKey } from './rows.js';
export { StoreError } from './store-error.js';
export type { StoreErrorCode } from './store-error.js';
export { SCHEMA_VERSION } from './schema.js';
export type * from './types.js';
