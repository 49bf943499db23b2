import express, { type Express } from 'express';
import type { AppContext } from '../context.js';
import { sources } from '../sources/index.js';
import { FEED_FORMATS, feedHandler, singleEventIcsHandler } from './feed-handlers.js';
import { healthHandler } from './health-handlers.js';
import { webhookHandler } from './webhook-handlers.js';

/** The whole URL surface of Marquee, top to bottom. */
export function registerRoutes(app: Express, ctx: AppContext): void {
  const rawBody = express.raw({ type: () => true, limit: ctx.config.bodyLimitBytes });

  for (const adapter of Object.values(sources)) {
    app.post(`/webhooks/${adapter.name}`, rawBody, webhookHandler(ctx, adapter));
  }

  for (const format of Object.values(FEED_FORMATS)) {
    app.get(format.path, feedHandler(ctx, format));
  }
  app.get('/events/:id.ics', singleEventIcsHandler(ctx));

  app.get('/healthz', healthHandler(ctx));
}
