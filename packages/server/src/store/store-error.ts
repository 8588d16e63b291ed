// StoreError lives with the server's other error classes (errors.ts); the store's modules import it from here.
export { StoreError, type StoreErrorCode } from '../errors.js';
