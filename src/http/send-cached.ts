import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Request, Response } from 'express';
import fresh from 'fresh';
import Negotiator from 'negotiator';
import type { CachedResponse, Rendered, ResponseStore } from '../cache/response-store.js';

/**
 * HTTP conditional logic for rendered responses: strong ETags, 304 for clients that are current
 * (the `fresh` package), the response encoding from Accept-Encoding (the `negotiator` package),
 * and writing a cached response. The bytes themselves are kept by the response store.
 */

/** Bodies below this size are sent uncompressed: compression would cost more than it saves. */
const COMPRESS_MIN_BYTES = 1024;

/** A rendered response with its validators: a strong ETag of its bytes and Last-Modified. */
export function prepareResponse(rendered: Rendered): CachedResponse {
  const hash = createHash('sha256').update(rendered.body).digest('base64url').slice(0, 32);
  // HTTP dates have second precision; round down so If-Modified-Since compares equal.
  const lastModified = new Date(Math.floor(rendered.lastModified.getTime() / 1000) * 1000);
  return {
    ...rendered,
    lastModified,
    etag: `"${hash}"`,
    lastModifiedHeader: lastModified.toUTCString(),
  };
}

type Encoding = 'br' | 'gzip';

const ENCODINGS = ['br', 'gzip', 'identity'] as const;

// negotiator 1.1 breaks ties between equally acceptable encodings by `preferred`; its types
// (@types/negotiator 0.6) predate that option.
type PreferringEncodings = (
  available: readonly string[],
  options: { preferred: readonly string[] },
) => string[];

/**
 * The encoding to send from an Accept-Encoding header, by its q-values (q=0 excludes); brotli
 * before gzip when the client likes both as much. Null: send the bytes as they are.
 */
export function negotiateEncoding(header: string | undefined): Encoding | null {
  if (!header) return null;
  const negotiator = new Negotiator({ headers: { 'accept-encoding': header } });
  const [best] = (negotiator.encodings as PreferringEncodings).call(negotiator, ENCODINGS, {
    preferred: ENCODINGS,
  });
  return best === 'br' || best === 'gzip' ? best : null;
}

/** The ETag of each encoding: compressed bytes are different bytes, so they get their own tag. */
function etagFor(entry: CachedResponse, encoding: Encoding | null): string {
  return encoding ? `${entry.etag.slice(0, -1)}-${encoding}"` : entry.etag;
}

/**
 * True when the client's validators show it already has this response (If-None-Match lists,
 * weak comparison, If-Modified-Since, as `fresh` decides). A tag of any encoding of these bytes
 * matches: the encodings differ in transfer only.
 */
export function isNotModified(req: Request, entry: CachedResponse): boolean {
  // Only the validators: this is the origin, so a request's Cache-Control: no-cache (which fetch()
  // adds to every conditional request) is for caches on the way and still allows a 304 here.
  const validators = {
    'if-none-match': req.headers['if-none-match'],
    'if-modified-since': req.headers['if-modified-since'],
  };
  const lastModified = entry.lastModifiedHeader;
  if (validators['if-none-match'] === undefined) {
    return fresh(validators, { 'last-modified': lastModified });
  }
  return (
    fresh(validators, { etag: entry.etag, 'last-modified': lastModified }) ||
    fresh(validators, { etag: etagFor(entry, 'br'), 'last-modified': lastModified }) ||
    fresh(validators, { etag: etagFor(entry, 'gzip'), 'last-modified': lastModified })
  );
}

export interface SendOptions {
  cacheControl: string;
  /** Extra headers for this kind of response (CORS for feeds, CSP for pages). */
  headers?: Readonly<Record<string, string>>;
}

/** The header lines of a response, as `[name, value, name, value...]` for writeHead. */
interface HeaderLines {
  notModified: string[];
  ok: string[] | null;
}

// Header lines per response, built once: a poll answered 304 then costs one writeHead with a
// ready array. Weakly keyed by the response, they live exactly as long as it does.
const headerLinesByResponse = new WeakMap<CachedResponse, Map<string, HeaderLines>>();

// A stable string per extra-headers object (most are constants) for the key of the lines above;
// weakly keyed, so it keeps nothing alive.
const headersKeys = new WeakMap<Readonly<Record<string, string>>, string>();

function headersKey(headers: Readonly<Record<string, string>> | undefined): string {
  if (!headers) return '';
  let key = headersKeys.get(headers);
  if (key === undefined) {
    key = JSON.stringify(headers);
    headersKeys.set(headers, key);
  }
  return key;
}

function headerLines(
  entry: CachedResponse,
  encoding: Encoding | null,
  options: SendOptions,
): HeaderLines {
  let perEntry = headerLinesByResponse.get(entry);
  if (!perEntry) headerLinesByResponse.set(entry, (perEntry = new Map()));
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

function compress(body: Buffer, encoding: Encoding): Buffer {
  if (encoding === 'gzip') return gzipSync(body, { level: 6 });
  return brotliCompressSync(body, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: 5,
      [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
}

/** Sends a cached response: 304 when the client is current, else the body in the best encoding. */
export function sendCached(
  req: Request,
  res: Response,
  store: ResponseStore,
  entry: CachedResponse,
  options: SendOptions,
): void {
  const encoding =
    entry.body.length >= COMPRESS_MIN_BYTES
      ? negotiateEncoding(req.headers['accept-encoding'])
      : null;
  const lines = headerLines(entry, encoding, options);
  if (isNotModified(req, entry)) {
    res.writeHead(304, lines.notModified);
    res.end();
    return;
  }
  const body = encoding
    ? store.encodedBody(entry, encoding, (bytes) => compress(bytes, encoding))
    : entry.body;
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
