// The one error class of the store: stable codes callers (admin CLI, handlers) can branch on.
export type StoreErrorCode = 'NOT_FOUND' | 'ALREADY_EXISTS' | 'SCHEMA_TOO_NEW';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
