/**
 * Which database failures mean "try again later" (the disk is full, the file is locked, the
 * server is down or restarting) rather than a bug. The HTTP layer answers them 503 with
 * Retry-After, so senders and load balancers do not read them as Marquee's fault.
 */

/** SQLite result codes (better-sqlite3 `code`), extended codes included by prefix. */
const SQLITE_TEMPORARY = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_PROTOCOL',
  'SQLITE_READONLY',
];

/** Network and file-system errors of the driver's socket or file. */
const SYSTEM_TEMPORARY = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOSPC',
  'EIO',
]);

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 53 (insufficient resources: disk full,
 * out of memory, too many connections), 57P01-57P03 (shut down, crashed, starting), 57014
 * (statement cancelled by a timeout), 40001 and 40P01 (serialization failure, deadlock: the
 * transaction may simply be run again), 55P03 (lock not available).
 */
const POSTGRES_TEMPORARY_CLASSES = ['08', '53'];
const POSTGRES_TEMPORARY = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01', '55P03']);

/** Messages of node-postgres errors that carry no code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'is not queryable',
  'Client was closed',
  'Cannot use a pool after calling end',
];

/** True when `error` (or one of its causes) says the database cannot serve right now. */
export function isTemporaryDatabaseFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (typeof current !== 'object') return false;
    const { code, message, cause } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string') {
      if (SQLITE_TEMPORARY.some((prefix) => code.startsWith(prefix))) return true;
      if (SYSTEM_TEMPORARY.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code)) {
        if (POSTGRES_TEMPORARY.has(code)) return true;
        if (POSTGRES_TEMPORARY_CLASSES.includes(code.slice(0, 2))) return true;
      }
    }
    if (
      typeof message === 'string' &&
      PG_CONNECTION_MESSAGES.some((known) => message.includes(known))
    ) {
      return true;
    }
    // AggregateError (a connection refused on every address) holds the reasons in `errors`.
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.some((inner) => isTemporaryDatabaseFailure(inner)))
      return true;
    current = cause;
  }
  return false;
}
