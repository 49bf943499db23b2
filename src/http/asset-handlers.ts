import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { VIEWS_DIR } from '../render/pages/templates.js';
import type { CachedResponse, ResponseStore } from '../cache/response-store.js';
import { prepareResponse, sendCached } from './send-cached.js';

/**
 * The pages' stylesheets and scripts (views/assets/), read once at startup and served from
 * memory with strong ETags and compression. Pages link them with `?v=<content hash>`, so a
 * versioned URL can be cached for a year; `/embed.js` keeps one URL for host sites and a
 * short cache.
 */

const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  // Documents the feeds link to, such as the JSON Feed extension's `about`.
  '.html': 'text/html; charset=utf-8',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';
/** Host sites include /embed.js by a fixed URL: revalidate within the hour. */
const EMBED_SCRIPT_CACHE = 'public, max-age=3600, stale-while-revalidate=86400';

export const ASSET_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export interface Assets {
  /** The versioned root-relative URL of an asset: `/assets/site.css?v=…`. */
  url(name: string): string;
  /** GET /assets/:name */
  handler(req: Request, res: Response, next: NextFunction): void;
  /** GET /embed.js: the host-page script, at a stable URL. */
  embedScript(req: Request, res: Response): void;
}

interface Asset {
  entry: CachedResponse;
  version: string;
}

/**
 * Loads every asset of `dir` into memory; their compressed forms are kept in `store` beside the
 * rendered responses.
 */
export function loadAssets(
  store: ResponseStore,
  dir: string = path.join(VIEWS_DIR, 'assets'),
): Assets {
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (!contentType) continue;
    const file = path.join(dir, name);
    const entry = prepareResponse({
      body: fs.readFileSync(file),
      contentType,
      lastModified: fs.statSync(file).mtime,
      expiresAt: null,
    });
    assets.set(name, { entry, version: entry.etag.slice(1, 13) });
  }
  const get = (name: string): Asset => {
    const asset = assets.get(name);
    if (!asset) throw new Error(`assets: no asset named ${name} in ${dir}`);
    return asset;
  };
  get('embed.js');
  return {
    url(name) {
      return `/assets/${name}?v=${get(name).version}`;
    },
    handler(req, res, next) {
      const asset = assets.get(String(req.params.name));
      if (!asset) {
        next();
        return;
      }
      const versioned = req.query.v === asset.version;
      sendCached(req, res, store, asset.entry, {
        cacheControl: versioned ? IMMUTABLE : SHORT,
        headers: ASSET_HEADERS,
      });
    },
    embedScript(req, res) {
      sendCached(req, res, store, get('embed.js').entry, {
        cacheControl: EMBED_SCRIPT_CACHE,
        headers: ASSET_HEADERS,
      });
    },
  };
}
