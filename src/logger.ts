import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/** Names of query (and path) parameters that carry secrets, lower case; never logged. */
const SECRET_PARAMS = new Set(['accesstoken', 'access_token', 'token', 'key', 'signature']);

/** A parameter name as a server decodes it (`access%54oken` is `accessToken`). */
function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * The URL with secret parameter values replaced, for log lines. Names are compared decoded, as
 * the query parser reads them, and `;name=value` path parameters count too.
 */
export function redactUrl(url: string): string {
  const start = url.search(/[?;]/);
  if (start < 0) return url;
  return (
    url.slice(0, start) +
    url
      .slice(start)
      .replace(/([?&;])([^=&;]*)=([^&;]*)/g, (whole, separator, name) =>
        SECRET_PARAMS.has(decodedName(name as string))
          ? `${separator as string}${name as string}=[redacted]`
          : whole,
      )
  );
}

/** Longest URL written to a log line; the rest is cut (a hostile query string is not logged). */
export const MAX_LOGGED_URL_LENGTH = 512;

/** The URL as a log line carries it: secrets redacted, then cut to MAX_LOGGED_URL_LENGTH. */
export function loggedUrl(url: string): string {
  const redacted = redactUrl(url.length > 64 * 1024 ? url.slice(0, 64 * 1024) : url);
  if (redacted.length <= MAX_LOGGED_URL_LENGTH) return redacted;
  return `${redacted.slice(0, MAX_LOGGED_URL_LENGTH)}…[${url.length} chars]`;
}

/** Removes every configured secret from a string (belt and braces for error messages). */
export function secretScrubber(config: Config): (text: string) => string {
  const secrets = [
    ...config.stager.signingKeys,
    ...config.eventport.tokens,
    ...config.eventport.basicAuth.flatMap((pair) => [
      pair.password,
      `${pair.user}:${pair.password}`,
    ]),
    ...(config.adminToken ? [config.adminToken] : []),
    ...(config.metricsToken ? [config.metricsToken] : []),
  ].filter((secret) => secret.length >= 4);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** The process logger: JSON lines, secrets redacted by path and by value. */
export function createLogger(config: Config, destination?: pino.DestinationStream): Logger {
  const scrub = secretScrubber(config);
  return pino(
    {
      level: config.logLevel,
      base: undefined,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers["x-signature"]',
          'req.query.accessToken',
          'headers.authorization',
          'headers["x-signature"]',
        ],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg)) as Parameters<
              typeof method
            >,
          );
        },
      },
      serializers: {
        err: (error: unknown) => {
          if (!(error instanceof Error)) return scrub(String(error));
          const serialized = pino.stdSerializers.err(error);
          return {
            ...serialized,
            message: scrub(serialized.message ?? ''),
            stack: scrub(serialized.stack ?? ''),
          };
        },
      },
    },
    destination ?? batchedStdout(),
  );
}

/**
 * Standard output in 4 KB writes: one write() per request line costs more than serving a cached
 * feed. main.ts flushes on shutdown; a crash may lose the last few lines, never data. Batched
 * lines still reach the log within a quarter second when traffic is low.
 */
function batchedStdout(): ReturnType<typeof pino.destination> {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => flushBatched(stream), 250).unref();
  return stream;
}

/**
 * Writes out what a batching destination holds. The stream's own flush, without a callback:
 * pino's `logger.flush()` passes one, and each adds a drain and an error listener that stay until
 * the stream drains, so under steady logging they piled up past Node's warning limit
 * ("MaxListenersExceededWarning ... [SonicBoom]").
 */
export function flushBatched(stream: ReturnType<typeof pino.destination>): void {
  try {
    stream.flush();
  } catch {
    // Closed at shutdown, after main.ts wrote the last lines: nothing left to write.
  }
}
