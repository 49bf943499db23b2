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
