import express, { type Express } from 'express';
import type { AppContext } from '../context.js';
import { sources } from '../sources/index.js';
import {
  adminAuth,
  adminPageHandler,
  adminReplayHandler,
  adminStatusHandler,
} from './admin-handlers.js';
import {
  FEED_FORMATS,
  feedHandler,
  singleEventIcsHandler,
  type RequestFilters,
} from './feed-handlers.js';
import { healthHandler } from './health-handlers.js';
import { metricsHandler, type Metrics } from './metrics.js';
import type { Pages } from './page-handlers.js';
import { webhookHandler } from './webhook-handlers.js';

/** The whole URL surface of Marquee, top to bottom. */
export function registerRoutes(
  app: Express,
  ctx: AppContext,
  http: { metrics: Metrics; filters: RequestFilters; pages: Pages },
): void {
  const { metrics, filters, pages } = http;
  const rawBody = express.raw({ type: () => true, limit: ctx.config.bodyLimitBytes });

  for (const adapter of Object.values(sources)) {
    app.post(`/webhooks/${adapter.name}`, rawBody, webhookHandler(ctx, adapter));
  }

  for (const format of Object.values(FEED_FORMATS)) {
    app.get(format.path, feedHandler(ctx, filters, format));
  }
  app.get('/events/:id.ics', singleEventIcsHandler(ctx));

  // HTML pages (after /events/:id.ics, which /events/:id would also match).
  app.get('/', pages.home);
  app.get('/events/:id', pages.event);
  app.get('/embed', pages.embed);
  app.get('/embed.js', pages.assets.embedScript);
  app.get('/assets/:name', pages.assets.handler);

  app.get('/healthz', healthHandler(ctx));
  app.get('/metrics', metricsHandler(ctx, metrics));

  // 404 without ADMIN_TOKEN; Bearer or Basic (any user, the token as password) with it.
  const admin = adminAuth(ctx);
  app.get('/admin', admin, adminPageHandler(ctx));
  app.get('/admin/status.json', admin, adminStatusHandler(ctx));
  app.post('/admin/replay', admin, adminReplayHandler(ctx));
}
