import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';

/**
 * Rendered responses cached in memory, keyed by what was asked (format + canonical filter) and
 * valid while the data version is unchanged and no shown event has left the window. A hit costs
 * about what serving a static string costs: the body, its strong ETag and its compressed forms
 * are computed once.
 */

export interface Rendered {
  body: Buffer;
  contentType: string;
  lastModified: Date;
  /** When the result changes without a write (an event leaves the window); null: never. */
  expiresAt: Date | null;
}

export interface CachedResponse extends Rendered {
  etag: string;
  lastModifiedHeader: string;
  dataVersion: number;
  gzip?: Buffer;
  brotli?: Buffer;
}

/** Bodies below this size are sent uncompressed: compression would cost more than it saves. */
const COMPRESS_MIN_BYTES = 1024;

/** A bounded LRU of rendered responses. */
export class RenderCache {
  private readonly entries = new Map<string, CachedResponse>();
  /** Ready header lines per cached response (see sendCached). */
  readonly headerLines = new WeakMap<CachedResponse, Map<string, HeaderLines>>();
  private bytes = 0;
  /** Renders under way, by key: concurrent requests for one missing key share a render. */
  private readonly rendering = new Map<string, Promise<CachedResponse>>();
  /** Hits and misses, read by metrics. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly maxBytes = 128 * 1024 * 1024) {}

  /**
   * The cached response for `key`, rendering it once when the data changed. The request that
   * finds the data changed waits for the new render; requests arriving while it runs get the
   * previous response at once rather than queueing behind it (stale by one render at most).
   */
  async getOrRender(
    key: string,
    dataVersion: number,
    now: Date,
    render: () => Promise<Rendered>,
  ): Promise<CachedResponse> {
    const hit = this.get(key, dataVersion, now);
    if (hit) return hit;
    const running = this.rendering.get(key);
    if (running) return this.entries.get(key) ?? running;
    const work = render()
      .then((rendered) => this.set(key, dataVersion, rendered))
      .finally(() => this.rendering.delete(key));
    this.rendering.set(key, work);
    return work;
  }

  /** The cached response for `key` if still valid for `dataVersion` at `now`. */
  get(key: string, dataVersion: number, now: Date): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (
      !entry ||
      entry.dataVersion !== dataVersion ||
      (entry.expiresAt && entry.expiresAt.getTime() <= now.getTime())
    ) {
      this.stats.misses += 1;
      return undefined;
    }
    // Re-insert to mark as most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.stats.hits += 1;
    return entry;
  }

  /** Stores a freshly rendered response and returns its cached form. */
  set(key: string, dataVersion: number, rendered: Rendered): CachedResponse {
    const previous = this.entries.get(key);
    if (previous) this.remove(key, previous);
    const entry = prepare(rendered, dataVersion);
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldKey, oldEntry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.remove(oldKey, oldEntry);
    }
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(key: string, entry: CachedResponse): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length + (entry.gzip?.length ?? 0) + (entry.brotli?.length ?? 0);
  }

  /** Compressed bytes are computed on first demand and counted against the size bound. */
  compressed(entry: CachedResponse, encoding: 'br' | 'gzip'): Buffer {
    if (encoding === 'br') {
      if (!entry.brotli) {
        entry.brotli = brotliCompressSync(entry.body, {
          params: {
            [zlib.BROTLI_PARAM_QUALITY]: 5,
            [zlib.BROTLI_PARAM_SIZE_HINT]: entry.body.length,
          },
        });
        this.bytes += entry.brotli.length;
      }
      return entry.brotli;
    }
    if (!entry.gzip) {
      entry.gzip = gzipSync(entry.body, { level: 6 });
      this.bytes += entry.gzip.length;
    }
    return entry.gzip;
  }
}

function prepare(rendered: Rendered, dataVersion: number): CachedResponse {
  const hash = createHash('sha256').update(rendered.body).digest('base64url').slice(0, 32);
  // HTTP dates have second precision; round down so If-Modified-Since compares equal.
  const lastModified = new Date(Math.floor(rendered.lastModified.getTime() / 1000) * 1000);
  return {
    ...rendered,
    lastModified,
    etag: `"${hash}"`,
    lastModifiedHeader: lastModified.toUTCString(),
    dataVersion,
  };
}

/** Picks br or gzip from Accept-Encoding; q=0 excludes. */
export function negotiateEncoding(header: string | undefined): 'br' | 'gzip' | null {
  if (!header) return null;
  let brotli = false;
  let gzip = false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)?.[1]).find(Boolean);
    if (q !== undefined && Number(q) === 0) continue;
    if (name === 'br') brotli = true;
    else if (name === 'gzip' || name === 'x-gzip' || name === '*') gzip = true;
  }
  return brotli ? 'br' : gzip ? 'gzip' : null;
}

/** The ETag of each encoding: compressed bytes are different bytes, so they get their own tag. */
function etagFor(entry: CachedResponse, encoding: 'br' | 'gzip' | null): string {
  return encoding ? `${entry.etag.slice(0, -1)}-${encoding}"` : entry.etag;
}

/** True when the client's validators show it already has this response. */
export function isNotModified(req: Request, entry: CachedResponse): boolean {
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    const base = entry.etag.slice(1, -1);
    return ifNoneMatch.split(',').some((tag) => {
      const value = tag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
      return value === base || value === `${base}-br` || value === `${base}-gzip`;
    });
  }
  const ifModifiedSince = req.headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    return !Number.isNaN(since) && entry.lastModified.getTime() <= since;
  }
  return false;
}

export interface SendOptions {
  cacheControl: string;
  /** Extra headers for this kind of response (CORS for feeds, CSP for pages). */
  headers?: Record<string, string>;
}

/** The header lines of a response, as `[name, value, name, value...]` for writeHead. */
interface HeaderLines {
  notModified: string[];
  ok: string[] | null;
}

const headersKeys = new WeakMap<Record<string, string>, string>();

function headersKey(headers: Record<string, string> | undefined): string {
  if (!headers) return '';
  let key = headersKeys.get(headers);
  if (key === undefined) {
    key = JSON.stringify(headers);
    headersKeys.set(headers, key);
  }
  return key;
}

/**
 * Header lines per entry, encoding and options, built once: a poll answered 304 then costs one
 * writeHead with a ready array instead of a setHeader call (with its checks) per header.
 */
function headerLines(
  cache: WeakMap<CachedResponse, Map<string, HeaderLines>>,
  entry: CachedResponse,
  encoding: 'br' | 'gzip' | null,
  options: SendOptions,
): HeaderLines {
  let perEntry = cache.get(entry);
  if (!perEntry) cache.set(entry, (perEntry = new Map()));
  const key = `${encoding ?? ''}\n${options.cacheControl}\n${headersKey(options.headers)}`;
  let lines = perEntry.get(key);
  if (!lines) {
    const common = [
      'Cache-Control',
      options.cacheControl,
      'Vary',
      'Accept-Encoding',
      'ETag',
      etagFor(entry, encoding),
      'Last-Modified',
      entry.lastModifiedHeader,
      ...Object.entries(options.headers ?? {}).flat(),
    ];
    lines = { notModified: common, ok: null };
    if (perEntry.size >= 16) perEntry.clear();
    perEntry.set(key, lines);
  }
  return lines;
}

/** Sends a cached response: 304 when the client is current, else the body in the best encoding. */
export function sendCached(
  req: Request,
  res: Response,
  cache: RenderCache,
  entry: CachedResponse,
  options: SendOptions,
): void {
  const encoding =
    entry.body.length >= COMPRESS_MIN_BYTES
      ? negotiateEncoding(req.headers['accept-encoding'])
      : null;
  const lines = headerLines(cache.headerLines, entry, encoding, options);
  if (isNotModified(req, entry)) {
    res.writeHead(304, lines.notModified);
    res.end();
    return;
  }
  const body = encoding ? cache.compressed(entry, encoding) : entry.body;
  lines.ok ??= [
    ...lines.notModified,
    'Content-Type',
    entry.contentType,
    'Content-Length',
    String(body.length),
    ...(encoding ? ['Content-Encoding', encoding] : []),
  ];
  res.writeHead(200, lines.ok);
  res.end(req.method === 'HEAD' ? undefined : body);
}
