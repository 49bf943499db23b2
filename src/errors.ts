/**
 * Errors with a meaning the HTTP layer maps to a status code. Anything else is a bug and
 * becomes a logged 500 with no detail leaked.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** A request parameter the caller can fix: answered 400 with the message. */
export class InvalidInputError extends HttpError {
  constructor(message: string) {
    super(400, message);
    this.name = 'InvalidInputError';
  }
}

/**
 * A condition that passes by itself (the database is locked, down or out of space): answered
 * 503 with Retry-After, never 500, so senders and load balancers try again rather than blame a bug.
 */
export class UnavailableError extends HttpError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, message, { 'Retry-After': String(retryAfterSeconds) });
    this.name = 'UnavailableError';
  }
}
