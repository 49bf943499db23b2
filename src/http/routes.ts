import type { Express } from 'express';
import type { AppContext } from '../context.js';
import { SOURCE_NAMES } from '../sources/index.js';
import {
  adminAuditHandler,
  adminDeliveriesHandler,
  adminDeliveryHandler,
  adminDeliveryReplayHandler,
  adminEventActionHandler,
  adminEventsHandler,
  adminOrganizationActionHandler,
  adminOrganizationsHandler,
} from './admin-api-handlers.js';
import {
  adminAuth,
  adminPageHandler,
  adminReplayHandler,
  adminStatusHandler,
} from './admin-handlers.js';
import { registerDuplicateAdminRoutes } from './admin-duplicates-handlers.js';
import { adminSchemaWatchHandler } from './admin-schema-watch.js';
import {
  FEED_FORMATS,
  feedHandler,
  SHORT_FEED_FORMATS,
  shortFeedHandler,
  shortFeedPath,
  singleEventIcsHandler,
  type RequestFilters,
} from './feed-handlers.js';
import { CHANGE_FEED_FORMATS, changeFeedHandler } from './change-feed-handlers.js';
import { healthHandler } from './health-handlers.js';
import { metricsHandler, type Metrics } from './metrics.js';
import { ADMIN_OPENAPI_PATH, adminApiDocument } from './openapi/admin.js';
import { openApiHandler } from './openapi/document.js';
import { PUBLIC_OPENAPI_PATH, publicApiDocument } from './openapi/public.js';
import type { Pages } from './page-handlers.js';
import { PendingBodyBudget } from './webhook-body.js';
import { registerWebhookAdminRoutes } from './webhook-admin-handlers.js';
import { webhookHandler } from './webhook-handlers.js';

/** What the server hands the routes besides the context. */
export interface ServerWiring {
  metrics: Metrics;
  /** True once shutdown began: /healthz answers 503 from then on. */
  isStopping: () => boolean;
}

/** The whole URL surface of Marquee, top to bottom. */
export function registerRoutes(
  app: Express,
  ctx: AppContext,
  http: ServerWiring & { filters: RequestFilters; pages: Pages },
): void {
  const { metrics, isStopping, filters, pages } = http;
  // Bodies are read by the handler, after the checks that need none (webhook-body.ts).
  const pendingBodies = new PendingBodyBudget(ctx.config.webhookPendingBytes);
  for (const source of SOURCE_NAMES) {
    app.post(`/webhooks/${source}`, webhookHandler(ctx, source, pendingBodies));
  }

  for (const format of Object.values(FEED_FORMATS)) {
    app.get(format.path, feedHandler(ctx, filters, format));
  }
  app.get('/events/:id.ics', singleEventIcsHandler(ctx));
  app.get(
    PUBLIC_OPENAPI_PATH,
    openApiHandler(ctx, () => publicApiDocument(ctx.config), {
      cacheControl: 'public, max-age=3600',
      headers: { 'Access-Control-Allow-Origin': '*' },
    }),
  );
  // One entry per published revision of an event, newest first (changes/change-log.ts).
  for (const format of CHANGE_FEED_FORMATS) {
    app.get(format.path, changeFeedHandler(ctx, filters, format));
  }
  // Short URLs of long filters (calendar clients refuse long ones): /f/<id>.ics and so on.
  for (const format of SHORT_FEED_FORMATS) {
    app.get(shortFeedPath(':id', format), shortFeedHandler(ctx, filters, format));
  }

  // HTML pages (after /events/:id.ics, which /events/:id would also match).
  app.get('/', pages.home);
  app.get('/events/:id', pages.event);
  app.get('/embed', pages.embed);
  app.get('/embed.js', pages.assets.embedScript);
  app.get('/assets/:name', pages.assets.handler);

  app.get('/healthz', healthHandler(ctx, isStopping));
  app.get('/metrics', metricsHandler(ctx, metrics));

  // 404 without ADMIN_TOKEN; Bearer or Basic (any user, the token as password) with it;
  // 429 for a client after ADMIN_FAILURES_PER_MINUTE wrong tokens.
  const admin = adminAuth(ctx, metrics);
  app.get('/admin', admin, adminPageHandler(ctx));
  app.get('/admin/status.json', admin, adminStatusHandler(ctx));
  app.post('/admin/replay', admin, adminReplayHandler(ctx));

  // The admin JSON API: Bearer token only (no Basic, no cookies: nothing a browser adds by itself).
  const api = admin.bearerOnly;
  app.get('/admin/api/events', api, adminEventsHandler(ctx));
  app.post('/admin/api/events/:id/hide', api, adminEventActionHandler(ctx, 'hide'));
  app.post('/admin/api/events/:id/unhide', api, adminEventActionHandler(ctx, 'unhide'));
  app.get('/admin/api/organizations', api, adminOrganizationsHandler(ctx));
  const organization = '/admin/api/organizations/:source/:organizationId';
  app.post(`${organization}/block`, api, adminOrganizationActionHandler(ctx, 'block'));
  app.post(`${organization}/unblock`, api, adminOrganizationActionHandler(ctx, 'unblock'));
  app.get('/admin/api/deliveries', api, adminDeliveriesHandler(ctx));
  app.get('/admin/api/deliveries/:id', api, adminDeliveryHandler(ctx));
  app.post('/admin/api/deliveries/:id/replay', api, adminDeliveryReplayHandler(ctx));
  app.get('/admin/api/audit', api, adminAuditHandler(ctx));
  app.get(
    ADMIN_OPENAPI_PATH,
    api,
    openApiHandler(ctx, () => adminApiDocument(ctx.config), { cacheControl: 'no-store' }),
  );
  app.get('/admin/api/schema-watch', admin, adminSchemaWatchHandler(ctx));
  registerWebhookAdminRoutes(app, ctx, admin);
  registerDuplicateAdminRoutes(app, ctx, api);
  // Anything else under /admin/api/ asks for the token too: nothing there shows without it.
  app.use('/admin/api', api);
}
