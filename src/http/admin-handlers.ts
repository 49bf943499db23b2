import type { Request, RequestHandler, Response } from 'express';
import type { Eta } from 'eta';
import { LRUCache } from 'lru-cache';
import type { AppContext } from '../context.js';
import { matchesSecret, parseBasicAuth, parseBearerToken } from '../auth/verify.js';
import {
  collectModerationView,
  recordActionAndAnnounce,
  type ModerationView,
} from '../operations/moderation.js';
import { collectStatus } from '../operations/status.js';
import { createTemplates } from '../render/pages/templates.js';
import { ADMIN_PAGE_CSP, renderAdminPage } from './admin-page.js';
import { withDuplicatesSection } from './admin-duplicates-section.js';
import { withWebhookSection } from './admin-webhooks-section.js';
import { notFoundHandler } from './error-handler.js';
import type { Metrics } from './metrics.js';

/** Wrong admin tokens one client may send per minute; beyond, it is answered 429. */
export const ADMIN_FAILURES_PER_MINUTE = 10;
const FAILURE_WINDOW_MS = 60_000;

interface FailureWindow {
  failures: number;
  /** performance.now() at which the window ends. */
  endsAt: number;
}

/** The admin guard; `bearerOnly` guards the JSON API, sharing its count of wrong tokens. */
export type AdminGuard = RequestHandler & { bearerOnly: RequestHandler };

/**
 * Guards /admin: without ADMIN_TOKEN the area does not exist (404); with it, the token is
 * accepted as `Authorization: Bearer <token>` or as the password of HTTP Basic (any user name).
 * Its `bearerOnly` variant (the JSON API under /admin/api/) takes the Bearer header only: a
 * browser sends Basic credentials it remembers (and cookies) with any request, forged ones too,
 * but never an Authorization header a script did not set. A client (by address, see
 * TRUST_PROXY) that sent ADMIN_FAILURES_PER_MINUTE wrong tokens to either is answered 429 until
 * its minute is over, so the token cannot be guessed at line speed; the table of clients is
 * bounded (the least recently seen are forgotten first).
 */
export function adminAuth(
  ctx: AppContext,
  metrics: Pick<Metrics, 'adminAuthFailures'>,
): AdminGuard {
  const failuresByClient = new LRUCache<string, FailureWindow>({
    max: 10_000,
    ttl: FAILURE_WINDOW_MS,
  });
  const guard =
    (schemes: { basic: boolean }): RequestHandler =>
    (req, res, next) => {
      const token = ctx.config.adminToken;
      if (!token) {
        notFoundHandler(req, res, next);
        return;
      }
      res.set({
        'Cache-Control': 'no-store',
        'X-Robots-Tag': 'noindex',
        'X-Frame-Options': 'DENY',
        'Referrer-Policy': 'no-referrer',
      });
      const client = req.ip ?? 'unknown';
      const now = performance.now();
      let window = failuresByClient.get(client);
      if (window !== undefined && window.endsAt <= now) {
        failuresByClient.delete(client);
        window = undefined;
      }
      if (window !== undefined && window.failures >= ADMIN_FAILURES_PER_MINUTE) {
        metrics.adminAuthFailures.inc({ result: 'limited' });
        res
          .status(429)
          .set('Retry-After', String(Math.max(1, Math.ceil((window.endsAt - now) / 1000))))
          .json({ error: 'admin: too many failed attempts; retry later' });
        return;
      }
      const header = req.headers.authorization;
      const candidate =
        parseBearerToken(header) ?? (schemes.basic ? parseBasicAuth(header)?.password : undefined);
      if (!matchesSecret(candidate, [token])) {
        metrics.adminAuthFailures.inc({ result: 'rejected' });
        if (window === undefined) {
          failuresByClient.set(client, { failures: 1, endsAt: now + FAILURE_WINDOW_MS });
        } else {
          window.failures += 1;
        }
        res
          .status(401)
          .set(
            'WWW-Authenticate',
            schemes.basic
              ? 'Basic realm="marquee admin", charset="UTF-8"'
              : 'Bearer realm="marquee admin"',
          )
          .json({
            error: schemes.basic
              ? 'admin: ADMIN_TOKEN required'
              : 'admin: ADMIN_TOKEN required as Authorization: Bearer <token>',
          });
        return;
      }
      next();
    };
  return Object.assign(guard({ basic: true }), { bearerOnly: guard({ basic: false }) });
}

/** GET /admin: the status page. */
export function adminPageHandler(ctx: AppContext) {
  let templates: Eta | null = null;
  return async (req: Request, res: Response) => {
    templates ??= createTemplates();
    const status = await collectStatus(ctx);
    const moderation = await readSection(ctx, 'moderation', EMPTY_MODERATION, () =>
      collectModerationView(ctx.database.db),
    );
    const replayed =
      typeof req.query.replayed === 'string' && /^\d{1,9}$/.test(req.query.replayed)
        ? Number(req.query.replayed)
        : null;
    const html = renderAdminPage(templates, status, moderation, {
      siteTitle: ctx.config.siteTitle,
      timeZone: ctx.config.timeZone,
      notice:
        replayed === null
          ? null
          : `Replayed ${replayed} failed ${replayed === 1 ? 'delivery' : 'deliveries'}.`,
    });
    const withWebhooks = await readSection(ctx, 'webhooks', html, () =>
      withWebhookSection(ctx, html),
    );
    const page = await readSection(ctx, 'duplicates', withWebhooks, () =>
      withDuplicatesSection(ctx, withWebhooks),
    );
    res.set('Content-Security-Policy', ADMIN_PAGE_CSP).type('html').send(page);
  };
}

const EMPTY_MODERATION: ModerationView = {
  blocks: [],
  testDeliveries: [],
  audit: [],
  auditTotal: 0,
};

/**
 * A section of the admin page, or `fallback` when the database cannot give it: on a damaged
 * file the page must still open, its status saying what is wrong (operations/status.ts).
 */
async function readSection<T>(
  ctx: AppContext,
  section: string,
  fallback: T,
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    ctx.logger.warn({ err: error, section }, 'admin: page section unreadable');
    return fallback;
  }
}

/** GET /admin/status.json: the same status as data. */
export function adminStatusHandler(ctx: AppContext) {
  return async (_req: Request, res: Response) => {
    res.json(await collectStatus(ctx));
  };
}

/** True when a browser says the request came from another site (a forged form post). */
function isCrossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    // req.host is the Host header, or X-Forwarded-Host behind a trusted proxy (TRUST_PROXY).
    return new URL(origin).host !== req.host;
  } catch {
    return true;
  }
}

/**
 * POST /admin/replay: queues failed deliveries again and processes them. Browsers send Basic
 * credentials with cross-site form posts too, so those are refused. A form post is answered
 * with a redirect back to the page, anything else with JSON.
 */
export function adminReplayHandler(ctx: AppContext) {
  return async (req: Request, res: Response) => {
    if (isCrossSite(req)) {
      res.status(403).json({ error: 'admin: cross-site request refused' });
      return;
    }
    const replayed = await ctx.inbox.replay({ scope: 'failed', since: null });
    await recordActionAndAnnounce(
      ctx,
      { client: req.ip ?? null },
      {
        action: 'deliveries.replay-failed',
        target: 'failed',
        outcome: 'done',
        detail: { replayed },
      },
    );
    ctx.logger.info({ replayed }, 'admin: failed deliveries replayed');
    if (req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, `/admin?replayed=${replayed}`);
      return;
    }
    res.json({ replayed });
  };
}
