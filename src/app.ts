import express, { type Express } from 'express';
import type { AppContext } from './context.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { createMetrics, requestMetrics } from './http/metrics.js';
import { createRequestFilters } from './http/feed-handlers.js';
import { createPages } from './http/page-handlers.js';
import { requestLogger } from './http/request-logger.js';
import { registerRoutes } from './http/routes.js';

/** Parses TRUST_PROXY: empty = no proxy, a number = that many hops, true/false, or a list of addresses. */
function trustProxySetting(value: string): boolean | number | string {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** Builds the Express app on a context; never listens (main.ts and tests do). */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // Feeds compute strong ETags from their bytes before rendering; Express's own would be weak and late.
  app.set('etag', false);
  app.set('trust proxy', trustProxySetting(ctx.config.trustProxy));
  app.set('query parser', 'simple');
  app.use(requestLogger(ctx.logger));
  const metrics = createMetrics(ctx);
  app.use(requestMetrics(metrics));
  const filters = createRequestFilters(ctx);
  const pages = createPages(ctx, filters);
  registerRoutes(app, ctx, { metrics, filters, pages });
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger, pages));
  return app;
}
