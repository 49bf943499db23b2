import type { Request, RequestHandler, Response } from 'express';
import type { Eta } from 'eta';
import type { AppContext } from '../context.js';
import { matchesSecret, parseBasicAuth, parseBearerToken } from '../auth/verify.js';
import { collectStatus } from '../operations/status.js';
import { createTemplates } from '../render/pages/templates.js';
import { ADMIN_PAGE_CSP, renderAdminPage } from './admin-page.js';
import { notFoundHandler } from './error-handler.js';

/**
 * Guards /admin: without ADMIN_TOKEN the area does not exist (404); with it, the token is
 * accepted as `Authorization: Bearer <token>` or as the password of HTTP Basic (any user name).
 */
export function adminAuth(ctx: AppContext): RequestHandler {
  return (req, res, next) => {
    const token = ctx.config.adminToken;
    if (!token) {
      notFoundHandler(req, res, next);
      return;
    }
    const header = req.headers.authorization;
    const candidate = parseBearerToken(header) ?? parseBasicAuth(header)?.password;
    res.set({
      'Cache-Control': 'no-store',
      'X-Robots-Tag': 'noindex',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    if (!matchesSecret(candidate, [token])) {
      res
        .status(401)
        .set('WWW-Authenticate', 'Basic realm="marquee admin", charset="UTF-8"')
        .json({ error: 'admin: ADMIN_TOKEN required' });
      return;
    }
    next();
  };
}

/** GET /admin: the status page. */
export function adminPageHandler(ctx: AppContext) {
  let templates: Eta | null = null;
  return async (req: Request, res: Response) => {
    templates ??= createTemplates();
    const status = await collectStatus(ctx);
    const replayed =
      typeof req.query.replayed === 'string' && /^\d{1,9}$/.test(req.query.replayed)
        ? Number(req.query.replayed)
        : null;
    const html = renderAdminPage(templates, status, {
      siteTitle: ctx.config.siteTitle,
      timeZone: ctx.config.timeZone,
      notice:
        replayed === null
          ? null
          : `Replayed ${replayed} failed ${replayed === 1 ? 'delivery' : 'deliveries'}.`,
    });
    res.set('Content-Security-Policy', ADMIN_PAGE_CSP).type('html').send(html);
  };
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
    ctx.logger.info({ replayed }, 'admin: failed deliveries replayed');
    if (req.accepts(['json', 'html']) === 'html') {
      res.redirect(303, `/admin?replayed=${replayed}`);
      return;
    }
    res.json({ replayed });
  };
}
