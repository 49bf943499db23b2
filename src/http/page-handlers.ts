import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Eta } from 'eta';
import { cachedFacets } from './page-caches.js';
import type { AppContext } from '../context.js';
import { InvalidInputError } from '../errors.js';
import { findEvents, findFacets } from '../events/event-repository.js';
import { filterKey, type EventFilter } from '../events/filter.js';
import { CityAliases } from '../events/text-key.js';
import {
  createTemplates,
  embedAccentStyle,
  renderEmbed,
  renderErrorPage,
  renderEventPage,
  renderListPage,
  type EmbedTheme,
  type SiteInfo,
} from '../render/html.js';
import { loadAssets, type Assets } from './asset-handlers.js';
import { FEED_FORMATS, cachedRender, filterFromRequest, findPublicEvent } from './feed-handlers.js';

// Shared links pick these up on the way; a page must not answer them with an error.
const TRACKING_PARAMETERS = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'fbclid',
  'gclid',
  'mc_cid',
  'mc_eid',
  'ref',
];
import { sendCached } from './render-cache.js';

/**
 * HTML pages: GET / (list with filter form and subscribe panel), GET /events/:id, GET /embed,
 * and HTML error pages. Bodies go through the same render cache as feeds (ETag, 304,
 * compression, invalidated by the data version); security headers are precomputed per kind
 * of page and sent only with pages, never with feeds.
 */

const HTML = 'text/html; charset=utf-8';
/** Pages revalidate soon: a 304 is cheap, a stale cancellation is not. */
const PAGE_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=300';
const LIST_PAGE_SIZE = 50;
const MAX_PAGE = 10_000;
const EMBED_LIMIT = 10;
const EMBED_MAX_LIMIT = 100;

const COMMON_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
};

const csp = (frameAncestors: string, styleHash: string | null = null) =>
  [
    "default-src 'self'",
    "img-src 'self' https: data:",
    `style-src 'self'${styleHash ? ` '${styleHash}'` : ''}`,
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');

/** Headers of every normal page: no framing, scripts and styles from this origin only. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON_HEADERS,
  'Content-Security-Policy': csp("'none'"),
  'X-Frame-Options': 'DENY',
};

/** Headers of the embed: any site may frame it. */
export const EMBED_HEADERS: Readonly<Record<string, string>> = {
  ...COMMON_HEADERS,
  'Content-Security-Policy': csp('*'),
};

const embedHeadersByAccent = new Map<string, Record<string, string>>();

/** Embed headers allowing exactly the accent style element the renderer writes. */
function embedHeaders(accent: string | null): Readonly<Record<string, string>> {
  const style = embedAccentStyle(accent);
  if (accent === null || style === null) return EMBED_HEADERS;
  let headers = embedHeadersByAccent.get(accent);
  if (!headers) {
    const hash = `sha256-${createHash('sha256').update(style).digest('base64')}`;
    headers = { ...COMMON_HEADERS, 'Content-Security-Policy': csp('*', hash) };
    // At most 16^6 accents exist; keep the memo small anyway.
    if (embedHeadersByAccent.size >= 1000) embedHeadersByAccent.clear();
    embedHeadersByAccent.set(accent, headers);
  }
  return headers;
}

const PAGE_PATH = /^\/(?:embed|events\/[^/]+)?$/;
const MACHINE_PATH = /^\/(?:api|webhooks|metrics|healthz)(?:\/|$)|\.(?:ics|rss|atom|json|js|css)$/;

function singleParameter(req: Request, name: string): string | null {
  const value = req.query[name];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new InvalidInputError(`filter: "${name}" takes one value`);
  return value;
}

function parsePage(req: Request): number | null {
  const value = singleParameter(req, 'page');
  if (value === null) return null;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_PAGE) {
    throw new InvalidInputError(`filter: "page" must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return Number(value);
}

function parseEmbedTheme(req: Request): EmbedTheme {
  const theme = singleParameter(req, 'theme');
  if (theme !== null && theme !== 'light' && theme !== 'dark') {
    throw new InvalidInputError('embed: "theme" must be light or dark');
  }
  const accent = singleParameter(req, 'accent');
  if (accent !== null && !/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(accent)) {
    throw new InvalidInputError('embed: "accent" must be a hex colour such as #c03 or #cc0033');
  }
  return { theme, accent: accent === null ? null : accent.toLowerCase() };
}

/** The page handlers of one app, sharing one template engine and one set of assets. */
export interface Pages {
  assets: Assets;
  home(req: Request, res: Response): Promise<void>;
  event(req: Request, res: Response): Promise<void>;
  embed(req: Request, res: Response): Promise<void>;
  /** Whether an error on this request should be answered with an HTML page. */
  wantsHtml(req: Request): boolean;
  /** Sends an HTML error page. */
  sendError(
    req: Request,
    res: Response,
    status: number,
    message: string,
    headers: Record<string, string>,
  ): void;
}

const pagesByContext = new WeakMap<AppContext, Pages>();

/** The pages of `ctx`'s app, built once (templates compiled and assets read on first use). */
export function pagesFor(ctx: AppContext): Pages {
  let pages = pagesByContext.get(ctx);
  if (!pages) {
    pages = createPages(ctx, createTemplates(), loadAssets());
    pagesByContext.set(ctx, pages);
  }
  return pages;
}

function createPages(ctx: AppContext, templates: Eta, assets: Assets): Pages {
  const itemCache = ctx.pageCaches.items;
  const facetsFor = () =>
    cachedFacets(ctx.pageCaches, ctx.dataVersion.facets, ctx.now().getTime(), () =>
      findFacets(ctx.database.db, ctx.now()),
    );
  const site: SiteInfo = {
    siteTitle: ctx.config.siteTitle,
    publicUrl: ctx.config.publicUrl,
    timeZone: ctx.config.timeZone,
    assets: {
      siteCss: assets.url('site.css'),
      siteJs: assets.url('site.js'),
      embedCss: assets.url('embed.css'),
      embedFrameJs: assets.url('embed-frame.js'),
    },
    feedPaths: {
      ics: FEED_FORMATS.ics.path,
      rss: FEED_FORMATS.rss.path,
      atom: FEED_FORMATS.atom.path,
      json: FEED_FORMATS.jsonfeed.path,
    },
  };
  const cityAliases = new CityAliases(ctx.config.cityAliases);
  const eventWindow = () => ({
    now: ctx.now(),
    pastDays: ctx.config.pastDays,
    cityAliases,
  });
  const html = (text: string) => Buffer.from(text, 'utf8');

  return {
    assets,

    async home(req, res) {
      const pageNumber = parsePage(req);
      let filter: EventFilter = filterFromRequest(ctx, req, LIST_PAGE_SIZE, [
        'page',
        ...TRACKING_PARAMETERS,
      ]);
      if (pageNumber !== null) {
        if (filter.offset !== 0)
          throw new InvalidInputError('filter: use "page" or "offset", not both');
        filter = { ...filter, offset: (pageNumber - 1) * filter.limit };
      }
      const paging = {
        page: Math.floor(filter.offset / filter.limit) + 1,
        pageSize: filter.limit,
        defaultPageSize: LIST_PAGE_SIZE,
      };
      const entry = await cachedRender(ctx, `html|${filterKey(filter)}`, async () => {
        const page = await findEvents(ctx.database.db, filter, eventWindow(), ctx.eventCache);
        const { facets, validUntil } = await facetsFor();
        return {
          body: html(renderListPage(templates, { site, filter, page, facets, paging }, itemCache)),
          contentType: HTML,
          lastModified: page.lastModified,
          expiresAt: earliest(page.expiresAt, validUntil),
        };
      });
      sendCached(req, res, ctx.renderCache, entry, {
        cacheControl: PAGE_CACHE_CONTROL,
        headers: PAGE_HEADERS,
      });
    },

    async event(req, res) {
      // Query strings (tracking parameters on shared links) do not change the page.
      const id = String(req.params.id);
      const entry = await cachedRender(ctx, `html-event|${id}`, async () => {
        const event = await findPublicEvent(ctx, id);
        return {
          body: html(renderEventPage(templates, { site, event })),
          contentType: HTML,
          lastModified: event.lastChangedAt,
          expiresAt: null,
        };
      });
      sendCached(req, res, ctx.renderCache, entry, {
        cacheControl: PAGE_CACHE_CONTROL,
        headers: PAGE_HEADERS,
      });
    },

    async embed(req, res) {
      const theme = parseEmbedTheme(req);
      const filter = filterFromRequest(ctx, req, EMBED_LIMIT, [
        'theme',
        'accent',
        ...TRACKING_PARAMETERS,
      ]);
      if (filter.limit > EMBED_MAX_LIMIT) {
        throw new InvalidInputError(
          `filter: "limit" must be a whole number from 1 to ${EMBED_MAX_LIMIT} here`,
        );
      }
      const key = `embed|${theme.theme ?? ''}|${theme.accent ?? ''}|${filterKey(filter)}`;
      const entry = await cachedRender(ctx, key, async () => {
        const page = await findEvents(ctx.database.db, filter, eventWindow(), ctx.eventCache);
        return {
          body: html(renderEmbed(templates, { site, filter, page, theme }, itemCache)),
          contentType: HTML,
          lastModified: page.lastModified,
          expiresAt: page.expiresAt,
        };
      });
      sendCached(req, res, ctx.renderCache, entry, {
        cacheControl: PAGE_CACHE_CONTROL,
        headers: embedHeaders(theme.accent),
      });
    },

    wantsHtml(req) {
      if (PAGE_PATH.test(req.path)) return !req.path.endsWith('.ics');
      if (MACHINE_PATH.test(req.path)) return false;
      return (
        (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html'
      );
    },

    sendError(req, res, status, message, headers) {
      const body = renderErrorPage(templates, { site, status, message });
      res
        .status(status)
        .set(headers)
        .set(req.path === '/embed' ? EMBED_HEADERS : PAGE_HEADERS)
        .set('Cache-Control', 'no-cache')
        .type('html')
        .send(body);
    },
  };
}

/** The earlier of two optional instants. */
function earliest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() <= b.getTime() ? a : b;
}
