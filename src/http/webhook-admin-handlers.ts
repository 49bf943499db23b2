import express, { type Express, type Request, type Response } from 'express';
import { countChangesAfter, latestChangeId, parseStoredFilter } from '../changes/change-log.js';
import { changeIdOfMessage, webhookMessageId } from '../changes/webhook-sender.js';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
  normalizeWebhookUrl,
  recentAttempts,
  rewindSubscription,
  type WebhookAttempt,
  type WebhookSubscription,
} from '../changes/webhook-repository.js';
import { generateWebhookSecret } from '../changes/webhook-signature.js';
import type { AppContext } from '../context.js';
import { HttpError, InvalidInputError } from '../errors.js';
import { filterQueryString } from '../events/filter.js';
import { CityAliases } from '../events/text-key.js';
import { recordAudit } from '../operations/audit-log.js';

/**
 * /admin/api/webhooks: outgoing webhook subscriptions (Standard Webhooks). Behind the admin
 * API's Bearer guard; creating, deleting and resending land in the audit log. Bodies must be JSON, which a browser cannot send to another site without a CORS
 * preflight (that Marquee never answers), so a forged cross-site request cannot create, delete
 * or resend.
 */

/** A subscription as the API and the admin page show it: never its secret. */
export interface SubscriptionView {
  id: string;
  url: string;
  filter: string;
  createdAt: string;
  /** The last message delivered or given up on (`msg_<n>`), null before the first. */
  cursor: string | null;
  /** Messages waiting for this subscription. */
  backlog: number;
  /** Failed attempts at the next message in a row. */
  failures: number;
  failingSince: string | null;
  nextAttemptAt: string | null;
  /** When the subscriber asked to stop (410 Gone); null while enabled. */
  disabledAt: string | null;
  disabledReason: string | null;
  recent: AttemptView[];
}

interface AttemptView {
  message: string;
  attemptedAt: string;
  outcome: WebhookAttempt['outcome'];
  status: number | null;
  error: string | null;
  durationMs: number;
}

function attemptView(attempt: WebhookAttempt): AttemptView {
  return {
    message: webhookMessageId(attempt.changeId),
    attemptedAt: attempt.attemptedAt.toISOString(),
    outcome: attempt.outcome,
    status: attempt.status,
    error: attempt.error,
    durationMs: attempt.durationMs,
  };
}

/** The view of every subscription with its backlog and `recentCount` latest attempts. */
export async function subscriptionViews(
  ctx: AppContext,
  recentCount = 10,
): Promise<SubscriptionView[]> {
  const subscriptions = await listSubscriptions(ctx.database.db);
  return Promise.all(subscriptions.map((each) => subscriptionView(ctx, each, recentCount)));
}

async function subscriptionView(
  ctx: AppContext,
  subscription: WebhookSubscription,
  recentCount: number,
): Promise<SubscriptionView> {
  const { db } = ctx.database;
  const backlog = await countChangesAfter(db, subscription.cursor, {
    filter: parseStoredFilter(subscription.filter, ctx.config.timeZone),
    cityAliases: new CityAliases(ctx.config.cityAliases),
    timeZone: ctx.config.timeZone,
    now: ctx.now(),
  });
  return {
    id: subscription.id,
    url: subscription.url,
    filter: subscription.filter,
    createdAt: subscription.createdAt.toISOString(),
    cursor: subscription.cursor > 0 ? webhookMessageId(subscription.cursor) : null,
    backlog,
    failures: subscription.failures,
    failingSince: subscription.failingSince?.toISOString() ?? null,
    nextAttemptAt: subscription.nextAttemptAt?.toISOString() ?? null,
    disabledAt: subscription.disabledAt?.toISOString() ?? null,
    disabledReason: subscription.disabledReason,
    recent: (await recentAttempts(db, subscription.id, recentCount)).map(attemptView),
  };
}

/** Records a subscription action in the audit log, as every admin action is. */
async function auditWebhookAction(
  ctx: AppContext,
  req: Request,
  action: string,
  target: string,
  outcome: 'done' | 'not-found',
  detail: unknown = null,
): Promise<void> {
  await recordAudit(ctx.database.db, {
    at: ctx.now().toISOString(),
    action,
    target,
    outcome,
    detail,
    client: req.ip ?? null,
  });
}

function requireJson(req: Request): Record<string, unknown> {
  if (!req.is('application/json')) {
    throw new HttpError(415, 'webhooks: send the request body as application/json');
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError('webhooks: the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function webhookUrl(value: unknown): string {
  const url = typeof value === 'string' ? normalizeWebhookUrl(value) : null;
  if (url === null) {
    throw new InvalidInputError('webhooks: "url" must be an http(s) URL without credentials');
  }
  return url;
}

async function requireSubscription(ctx: AppContext, id: string): Promise<WebhookSubscription> {
  const subscription = await findSubscription(ctx.database.db, id);
  if (!subscription) throw new HttpError(404, 'webhooks: no such subscription');
  return subscription;
}

/** POST /admin/api/webhooks: `{ url, filter? }`; answers 201 with the secret, shown only here. */
function createHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const body = requireJson(req);
    const url = webhookUrl(body.url);
    if (body.filter !== undefined && typeof body.filter !== 'string') {
      throw new InvalidInputError('webhooks: "filter" must be a query string such as city=Berlin');
    }
    const filter = filterQueryString(parseStoredFilter(body.filter ?? '', ctx.config.timeZone));
    const { db } = ctx.database;
    const subscription = await insertSubscription(db, {
      url,
      filter,
      secret: generateWebhookSecret(),
      // Only changes from now on: a new subscriber is not sent the whole log.
      cursor: await latestChangeId(db),
      now: ctx.now(),
    });
    await auditWebhookAction(ctx, req, 'webhook.create', subscription.id, 'done', { url, filter });
    ctx.logger.info({ subscription: subscription.id, url }, 'webhooks: subscription created');
    res.status(201).json({
      ...(await subscriptionView(ctx, subscription, 0)),
      secret: subscription.secret,
    });
  };
}

/**
 * POST /admin/api/webhooks/:id/resend: `{ from: "msg_<n>" }` sends that message and every later
 * one again, in order; without `from`, a disabled subscription goes on from where it stopped, any
 * other from the latest message given up on. A disabled subscription is enabled again.
 */
function resendHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const body = requireJson(req);
    const id = String(req.params.id);
    const subscription = await findSubscription(ctx.database.db, id);
    if (!subscription) {
      await auditWebhookAction(ctx, req, 'webhook.resend', id, 'not-found');
      throw new HttpError(404, 'webhooks: no such subscription');
    }
    let from: number | null;
    if (body.from === undefined && subscription.disabledAt !== null) {
      from = subscription.cursor + 1;
    } else if (body.from === undefined) {
      const [givenUp] = await recentAttempts(ctx.database.db, subscription.id, 1, 'given_up');
      if (!givenUp) throw new InvalidInputError('webhooks: nothing was given up; name "from"');
      from = givenUp.changeId;
    } else {
      from = changeIdOfMessage(String(body.from));
      if (from === null || from < 1) {
        throw new InvalidInputError('webhooks: "from" must be a message id such as msg_42');
      }
    }
    await rewindSubscription(ctx.database.db, subscription.id, from - 1);
    await auditWebhookAction(ctx, req, 'webhook.resend', subscription.id, 'done', {
      from: webhookMessageId(from),
    });
    ctx.webhooks.notify();
    ctx.logger.info(
      { subscription: subscription.id, from, enabled: subscription.disabledAt !== null },
      'webhooks: messages sent again',
    );
    const rewound = await requireSubscription(ctx, subscription.id);
    res.json(await subscriptionView(ctx, rewound, 0));
  };
}

/** Registers /admin/api/webhooks (routes.ts guards all of /admin/api/ with the Bearer token). */
export function registerWebhookAdminRoutes(app: Express, ctx: AppContext) {
  const json = express.json({ limit: '16kb' });
  app.get('/admin/api/webhooks', async (_req, res) => {
    res.json({ subscriptions: await subscriptionViews(ctx) });
  });
  app.post('/admin/api/webhooks', json, createHandler(ctx));
  app.get('/admin/api/webhooks/:id', async (req, res) => {
    const subscription = await requireSubscription(ctx, String(req.params.id));
    res.json(await subscriptionView(ctx, subscription, 50));
  });
  app.delete('/admin/api/webhooks/:id', async (req, res) => {
    const id = String(req.params.id);
    const deleted = await deleteSubscription(ctx.database.db, id);
    await auditWebhookAction(ctx, req, 'webhook.delete', id, deleted ? 'done' : 'not-found');
    if (!deleted) throw new HttpError(404, 'webhooks: no such subscription');
    ctx.logger.info({ subscription: id }, 'webhooks: subscription deleted');
    res.status(204).end();
  });
  app.post('/admin/api/webhooks/:id/resend', json, resendHandler(ctx));
}
