import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/** Query parameters and headers that carry secrets; never logged. */
const SECRET_PARAMS = /([?&](?:accessToken|access_token|token|key|signature)=)[^&#]*/gi;

/** The URL with secret query values replaced, for log lines. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
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
  const logger = pino(
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
    // Lines are batched into 4 KB writes: one write() per request line costs more than serving
    // a cached feed. main.ts flushes on shutdown; a crash may lose the last few lines, never data.
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
  if (!destination) {
    // Batched lines still reach the log within a quarter second when traffic is low.
    setInterval(() => logger.flush(), 250).unref();
  }
  return logger;
}
