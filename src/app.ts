import express, { type Express, type RequestHandler } from 'express';
import type { AppContext } from './context.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { requestMetrics } from './http/metrics.js';
import { createRequestFilters, type RequestFilters } from './http/feed-handlers.js';
import { createPages } from './http/page-handlers.js';
import { requestLogger } from './http/request-logger.js';
import { registerRoutes, type ServerWiring } from './http/routes.js';

/** Parses TRUST_PROXY: empty = no proxy, a number = that many hops, true/false, or a list of addresses. */
function trustProxySetting(value: string): boolean | number | string {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * Longest query string served (characters after `?`). Every filter Marquee offers fits in far
 * less; longer ones are refused with 414 before any parsing, caching or rendering.
 */
export const MAX_QUERY_LENGTH = 4096;

/** Refuses request targets whose query string is longer than MAX_QUERY_LENGTH (414). */
const limitQueryLength: RequestHandler = (req, res, next) => {
  const queryStart = req.originalUrl.indexOf('?');
  if (queryStart >= 0 && req.originalUrl.length - queryStart - 1 > MAX_QUERY_LENGTH) {
    res
      .status(414)
      .json({ error: `http: query string longer than ${MAX_QUERY_LENGTH} characters` });
    return;
  }
  next();
};

/**
 * Answers 404 to a path holding an encoded NUL (`%00`): no page, feed or id has one, and
 * PostgreSQL refuses NUL in text, so a parameter carrying it would fail its query as a 500.
 */
const refuseNulInPath: RequestHandler = (req, res, next) => {
  if (req.path.includes('%00')) notFoundHandler(req, res, next);
  else next();
};

/**
 * Builds the Express app on a context and the server's metrics and state (and the filter reader,
 * when the server shares it); never listens.
 */
export function createApp(
  ctx: AppContext,
  server: ServerWiring,
  filters: RequestFilters = createRequestFilters(ctx),
): Express {
  const app = express();
  app.disable('x-powered-by');
  // Feeds compute strong ETags from their bytes before rendering; Express's own would be weak and late.
  app.set('etag', false);
  app.set('trust proxy', trustProxySetting(ctx.config.trustProxy));
  app.set('query parser', 'simple');
  app.use(requestLogger(ctx.logger));
  app.use(requestMetrics(server.metrics));
  app.use(limitQueryLength);
  app.use(refuseNulInPath);
  const pages = createPages(ctx, filters);
  registerRoutes(app, ctx, { ...server, filters, pages });
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger, pages));
  return app;
}
