/**
 * Failure types of a per-date activity. Names listed here are non-retryable: retrying bad SQL, a
 * schema mismatch or a date whose input does not exist only burns warehouse time.
 */
export const NON_RETRYABLE_ERROR_TYPES = ['BadSqlError', 'SchemaError', 'MissingInputError', 'UnknownProcessorError', 'WarehouseRefusedError'] as const;

/** Retryable: rate limits, backend errors, time-outs, lock contention. */
export const TRANSIENT_ERROR_TYPE = 'TransientWarehouseError';
