import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from '../context.js';
import { countEventsByStatus } from '../events/event-facets.js';
import { countPendingDeliveries } from '../inbox/inbox-repository.js';
import type { ProcessedDelivery } from '../inbox/processor.js';
import { matchesSecret, parseBearerToken } from '../auth/verify.js';
import { isSourceName } from '../sources/index.js';

/** The Prometheus metrics of one app. A registry per app, so test apps in one process never clash. */
export interface Metrics {
  registry: Registry;
  webhookRequests: Counter<'source' | 'status'>;
  feedRequests: Counter<'format' | 'status'>;
  /** Refused admin requests: `rejected` (wrong or missing token), `limited` (429). */
  adminAuthFailures: Counter<'result'>;
  /** WebSub hub pings by outcome (server.ts wires the WebSub service's `pinged`). */
  websubPings: Counter<'outcome'>;
  /** Counts one processed delivery and its duration (server.ts wires the inbox's `processed`). */
  observeProcessed(processed: ProcessedDelivery): void;
  /** Counts one outgoing webhook attempt by outcome (server.ts wires the sender's `attempted`). */
  observeWebhookAttempt(attempt: { outcome: string; seconds: number }): void;
}

/** Creates the registry and its metrics; gauges query the database only when scraped. */
export function createMetrics(ctx: AppContext): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const log = (what: string) => (error: unknown) =>
    ctx.logger.warn({ err: error }, `metrics: ${what} not collected`);

  const webhookRequests = new Counter({
    name: 'marquee_webhook_requests_total',
    help: 'Webhook requests by source and HTTP status (202 stored, 400 not JSON, 401 bad credentials, 413 too large, 503 not configured).',
    labelNames: ['source', 'status'] as const,
    registers: [registry],
  });
  const processed = new Counter({
    name: 'marquee_deliveries_processed_total',
    help: 'Stored deliveries processed, by source and outcome (processed, ignored, failed).',
    labelNames: ['source', 'outcome'] as const,
    registers: [registry],
  });
  const processingSeconds = new Histogram({
    name: 'marquee_delivery_processing_seconds',
    help: 'Time to process one stored delivery into events.',
    labelNames: ['source'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  new Gauge({
    name: 'marquee_inbox_backlog',
    help: 'Deliveries stored but not yet processed.',
    registers: [registry],
    async collect() {
      await countPendingDeliveries(ctx.database.db).then(
        (count) => this.set(count),
        log('inbox backlog'),
      );
    },
  });
  new Gauge({
    name: 'marquee_events',
    help: 'Stored events by visibility and status.',
    labelNames: ['visibility', 'status'] as const,
    registers: [registry],
    async collect() {
      await countEventsByStatus(ctx.database.db).then((rows) => {
        this.reset();
        for (const row of rows)
          this.set({ visibility: row.visibility, status: row.status }, row.count);
      }, log('events by status'));
    },
  });
  new Gauge({
    name: 'marquee_stale_organizations',
    help: 'Organizations whose last full sync is older than SYNC_STALE_HOURS, as of the last watchdog run.',
    registers: [registry],
    collect() {
      this.set(ctx.jobs.syncWatch?.stale.length ?? 0);
    },
  });
  new Gauge({
    name: 'marquee_job_last_success_timestamp_seconds',
    help: 'When each scheduled job last finished without error (Unix time).',
    labelNames: ['job'] as const,
    registers: [registry],
    collect() {
      for (const run of ctx.jobs.lastRuns()) {
        if (run.status === 'ok')
          this.set({ job: run.name }, (run.startedAt.getTime() + run.durationMs) / 1000);
      }
    },
  });
  new Counter({
    name: 'marquee_render_cache_requests_total',
    help: 'Render cache lookups by result (hit, miss).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'hit' }, ctx.caches.responses.stats.hits);
      this.inc({ result: 'miss' }, ctx.caches.responses.stats.misses);
    },
  });

  const feedRequests = new Counter({
    name: 'marquee_feed_requests_total',
    help: 'Public feed and page requests by format and HTTP status (304 = answered from the client cache).',
    labelNames: ['format', 'status'] as const,
    registers: [registry],
  });
  const adminAuthFailures = new Counter({
    name: 'marquee_admin_auth_failures_total',
    help: 'Refused admin requests: rejected (wrong or missing ADMIN_TOKEN), limited (429 after too many failures from one client).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'marquee_outgoing_webhook_attempts_total',
    help: 'Outgoing webhook attempts by outcome: delivered (2xx), failed (retried later), given_up (failing for 24 hours, skipped).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookSeconds = new Histogram({
    name: 'marquee_outgoing_webhook_seconds',
    help: 'Time a subscriber took to answer an outgoing webhook (or to fail).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const websubPings = new Counter({
    name: 'marquee_websub_pings_total',
    help: 'Publish pings to the WebSub hub (WEBSUB_HUB_URL) by outcome: sent (2xx), retrying (failed, tried again later), failed (given up).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'marquee_websub_tracked_feeds',
    help: 'Filtered and short feed URLs remembered as fetched, whose changes are announced to the WebSub hub.',
    registers: [registry],
    collect() {
      this.set(ctx.websub.trackedFeeds);
    },
  });
  return {
    registry,
    webhookRequests,
    feedRequests,
    adminAuthFailures,
    websubPings,
    observeProcessed({ source, outcome, seconds }) {
      processed.inc({ source, outcome });
      processingSeconds.observe({ source }, seconds);
    },
    observeWebhookAttempt({ outcome, seconds }) {
      webhookDeliveries.inc({ outcome });
      webhookSeconds.observe(seconds);
    },
  };
}

/** The format label of a public path, or null for paths that are not feeds or pages. */
export function feedFormatOf(path: string): string | null {
  switch (path) {
    case '/':
      return 'html';
    case '/events.ics':
      return 'ics';
    case '/events.rss':
      return 'rss';
    case '/events.atom':
      return 'atom';
    case '/events.json':
      return 'jsonfeed';
    case '/api/events':
      return 'api';
    case '/embed':
      return 'embed';
  }
  if (path.startsWith('/events/') && path.length > 8 && !path.includes('/', 8)) {
    return path.endsWith('.ics') ? 'ics-single' : 'html';
  }
  return null;
}

/**
 * Counts webhook and feed requests by status once the response is finished (so 304s, 401s and
 * body-limit 413s are seen as sent). Other paths cost one string comparison.
 */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const path = req.path;
    if (req.method === 'POST' && path.startsWith('/webhooks/')) {
      const source = path.slice('/webhooks/'.length);
      if (isSourceName(source)) {
        res.on('finish', () =>
          metrics.webhookRequests.inc({ source, status: String(res.statusCode) }),
        );
      }
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      const format = feedFormatOf(path);
      if (format)
        res.on('finish', () =>
          metrics.feedRequests.inc({ format, status: String(res.statusCode) }),
        );
    }
    next();
  };
}

/** GET /metrics: Prometheus text format; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`. */
export function metricsHandler(ctx: AppContext, metrics: Metrics) {
  return async (req: Request, res: Response) => {
    const token = ctx.config.metricsToken;
    if (token) {
      if (!matchesSecret(parseBearerToken(req.headers.authorization), [token])) {
        res
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="marquee metrics"')
          .json({ error: 'metrics: bearer token required' });
        return;
      }
    }
    res.set('Cache-Control', 'no-store');
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
