import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { LRUCache } from 'lru-cache';
import type { AppContext } from '../context.js';
import { InvalidInputError } from '../errors.js';
import { findFacets } from '../events/event-facets.js';
import { findShownPrimaryOf } from '../events/duplicates.js';
import { findEvents } from '../events/event-reads.js';
import { filterKey, filterQueryString, type EventFilter } from '../events/filter.js';
import { EVENT_ID_PATTERN } from '../events/types.js';
import { embedAccentStyle, renderEmbed, type EmbedTheme } from '../render/pages/embed-page.js';
import { renderErrorPage } from '../render/pages/error-page.js';
import { eventPagePath } from '../render/event-url.js';
import { renderEventPage } from '../render/pages/event-page.js';
import { renderListPage, subscribeShortQueries } from '../render/pages/home-page.js';
import { createTemplates, type SiteInfo } from '../render/pages/templates.js';
import { loadAssets, type Assets } from './asset-handlers.js';
import type { HtmlErrorPages } from './error-handler.js';
import {
  FEED_FORMATS,
  cachedRender,
  findPublicEvent,
  installedAt,
  type RequestFilters,
} from './feed-handlers.js';
import { sendCached } from './send-cached.js';

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

/** Embed headers allowing exactly the accent style element the renderer writes. */
function embedHeadersFor(accent: string): Readonly<Record<string, string>> {
  const style = embedAccentStyle(accent);
  if (style === null) return EMBED_HEADERS;
  const hash = `sha256-${createHash('sha256').update(style).digest('base64')}`;
  return { ...COMMON_HEADERS, 'Content-Security-Policy': csp('*', hash) };
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
export interface Pages extends HtmlErrorPages {
  assets: Assets;
  home(req: Request, res: Response): Promise<void>;
  event(req: Request, res: Response): Promise<void>;
  embed(req: Request, res: Response): Promise<void>;
}

/**
 * The pages of one app (built once in createApp): templates compiled and assets read here, and
 * the request filters shared with the feeds.
 */
export function createPages(ctx: AppContext, filters: RequestFilters): Pages {
  const templates = createTemplates();
  const assets = loadAssets(ctx.caches.responses);
  const { caches } = ctx;
  const facetsFor = () =>
    caches.facets.get(caches.dataVersion.facets, ctx.now().getTime(), () =>
      findFacets(ctx.database.db, ctx.now()),
    );
  // At most 16^6 accents exist; keep the headers of the recent ones.
  const embedHeadersByAccent = new LRUCache<string, Readonly<Record<string, string>>>({
    max: 1000,
  });
  const embedHeaders = (accent: string | null): Readonly<Record<string, string>> => {
    if (accent === null) return EMBED_HEADERS;
    let headers = embedHeadersByAccent.get(accent);
    if (!headers) {
      headers = embedHeadersFor(accent);
      embedHeadersByAccent.set(accent, headers);
    }
    return headers;
  };
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
  const { cityAliases } = filters;
  const eventWindow = () => ({
    now: ctx.now(),
    pastDays: ctx.config.pastDays,
    timeZone: ctx.config.timeZone,
    cityAliases,
    installedAt: installedAt(ctx),
  });
  const html = (text: string) => Buffer.from(text, 'utf8');

  return {
    assets,

    async home(req, res) {
      const pageNumber = parsePage(req);
      let filter: EventFilter = filters.copy(req, LIST_PAGE_SIZE, ['page', ...TRACKING_PARAMETERS]);
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
      // The page shows the filter's canonical URLs: one body per canonical query string.
      const canonical = filterQueryString(filter, { limit: true, offset: true });
      const entry = await cachedRender(ctx, `html|${filterKey(filter)}|${canonical}`, async () => {
        const page = await findEvents(ctx.database.db, filter, eventWindow(), caches.rows);
        const { facets, validUntil } = await facetsFor();
        // Subscribe links too long for calendar clients point to short feed URLs, stored here.
        const shortIds = new Map<string, string | null>();
        for (const query of subscribeShortQueries(site, filter)) {
          shortIds.set(query, await filters.shortFeeds.idFor(query));
        }
        const input = {
          site,
          filter,
          page,
          facets,
          paging,
          shortIds: (query: string) => shortIds.get(query) ?? null,
        };
        return {
          body: html(renderListPage(templates, input, caches.listItems)),
          contentType: HTML,
          lastModified: page.lastModified,
          expiresAt: earliest(page.expiresAt, validUntil),
        };
      });
      sendCached(req, res, caches.responses, entry, {
        cacheControl: PAGE_CACHE_CONTROL,
        headers: PAGE_HEADERS,
      });
    },

    async event(req, res) {
      // Query strings (tracking parameters on shared links) do not change the page.
      const id = String(req.params.id);
      // A record merged into another event: that one is its page now.
      const primary = EVENT_ID_PATTERN.test(id)
        ? await findShownPrimaryOf(ctx.database.db, id)
        : null;
      if (primary !== null) {
        res.set('Cache-Control', 'no-cache').redirect(301, eventPagePath(primary));
        return;
      }
      const entry = await cachedRender(ctx, `html-event|${id}`, async () => {
        const event = await findPublicEvent(ctx, id);
        return {
          body: html(renderEventPage(templates, { site, event })),
          contentType: HTML,
          lastModified: event.lastChangedAt,
          expiresAt: null,
        };
      });
      sendCached(req, res, caches.responses, entry, {
        cacheControl: PAGE_CACHE_CONTROL,
        headers: PAGE_HEADERS,
      });
    },

    async embed(req, res) {
      const theme = parseEmbedTheme(req);
      const filter = filters.copy(req, EMBED_LIMIT, ['theme', 'accent', ...TRACKING_PARAMETERS]);
      if (filter.limit > EMBED_MAX_LIMIT) {
        throw new InvalidInputError(
          `filter: "limit" must be a whole number from 1 to ${EMBED_MAX_LIMIT} here`,
        );
      }
      const key = `embed|${theme.theme ?? ''}|${theme.accent ?? ''}|${filterKey(filter)}`;
      const entry = await cachedRender(ctx, key, async () => {
        const page = await findEvents(ctx.database.db, filter, eventWindow(), caches.rows);
        return {
          body: html(renderEmbed(templates, { site, filter, page, theme }, caches.listItems)),
          contentType: HTML,
          lastModified: page.lastModified,
          expiresAt: page.expiresAt,
        };
      });
      sendCached(req, res, caches.responses, entry, {
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
