import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { loggedUrl } from '../logger.js';

/**
 * One JSON line per request: method, redacted and truncated URL, status, duration, remote address. Headers
 * (Authorization, X-Signature) are never logged and secret query values are masked.
 *
 * Written for pino directly rather than with pino-http: pino-http builds child loggers and
 * three listeners per request, which cost more than serving a cached feed or a 304 does.
 */
export function requestLogger(logger: Logger): RequestHandler {
  // The line carries no headers and an already redacted URL, so the process logger's redaction
  // paths never match it; walking them for every request costs a tenth of a 304.
  const accessLog = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!accessLog.isLevelEnabled(level)) return;
      accessLog[level](
        {
          req: { method: req.method, url: loggedUrl(req.originalUrl), remoteAddress: req.ip },
          res: { statusCode: status },
          responseTime: Number(process.hrtime.bigint() - started) / 1e6,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'http: request',
      );
    });
    next();
  };
}
