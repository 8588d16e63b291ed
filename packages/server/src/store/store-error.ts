// The one error class of the store: stable codes callers (admin CLI, handlers) can branch on.
/** UNAVAILABLE: the store cannot be reached (a database restart or a network cut); retry later. */
export type StoreErrorCode = 'NOT_FOUND' | 'ALREADY_EXISTS' | 'SCHEMA_TOO_NEW' | 'UNAVAILABLE';

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
