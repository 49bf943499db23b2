import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import { countChangesAfter, latestChangeId, parseStoredFilter } from '../changes/change-log.js';
import { changeIdOfMessage, webhookMessageId } from '../changes/webhook-sender.js';
import {
  deleteSubscription,
  findSubscription,
  insertSubscription,
  listSubscriptions,
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

/**
 * /admin/api/webhooks: outgoing webhook subscriptions (Standard Webhooks). Behind the admin
 * guard; bodies must be JSON, which a browser cannot send to another site without a CORS
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
    recent: (await recentAttempts(db, subscription.id, recentCount)).map(attemptView),
  };
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
  if (typeof value !== 'string' || value.length > 2000) {
    throw new InvalidInputError('webhooks: "url" must be an http(s) URL');
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidInputError('webhooks: "url" must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidInputError('webhooks: "url" must be an http(s) URL');
  }
  return url.href;
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
    ctx.logger.info({ subscription: subscription.id, url }, 'webhooks: subscription created');
    res.status(201).json({
      ...(await subscriptionView(ctx, subscription, 0)),
      secret: subscription.secret,
    });
  };
}

/**
 * POST /admin/api/webhooks/:id/resend: `{ from: "msg_<n>" }` sends that message and every later
 * one again, in order; without `from`, from the latest message given up on.
 */
function resendHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    const body = requireJson(req);
    const subscription = await requireSubscription(ctx, String(req.params.id));
    let from: number | null;
    if (body.from === undefined) {
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
    ctx.webhooks.notify();
    ctx.logger.info({ subscription: subscription.id, from }, 'webhooks: messages sent again');
    const rewound = await requireSubscription(ctx, subscription.id);
    res.json(await subscriptionView(ctx, rewound, 0));
  };
}

/** Registers /admin/api/webhooks behind `admin` (the admin guard). */
export function registerWebhookAdminRoutes(app: Express, ctx: AppContext, admin: RequestHandler) {
  const json = express.json({ limit: '16kb' });
  app.get('/admin/api/webhooks', admin, async (_req, res) => {
    res.json({ subscriptions: await subscriptionViews(ctx) });
  });
  app.post('/admin/api/webhooks', admin, json, createHandler(ctx));
  app.get('/admin/api/webhooks/:id', admin, async (req, res) => {
    const subscription = await requireSubscription(ctx, String(req.params.id));
    res.json(await subscriptionView(ctx, subscription, 50));
  });
  app.delete('/admin/api/webhooks/:id', admin, async (req, res) => {
    if (!(await deleteSubscription(ctx.database.db, String(req.params.id)))) {
      throw new HttpError(404, 'webhooks: no such subscription');
    }
    ctx.logger.info({ subscription: req.params.id }, 'webhooks: subscription deleted');
    res.status(204).end();
  });
  app.post('/admin/api/webhooks/:id/resend', admin, json, resendHandler(ctx));
}
