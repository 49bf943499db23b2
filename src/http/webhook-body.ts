import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { HttpError } from '../errors.js';

/**
 * Reads webhook bodies as they stream in, without holding more than the settings allow: the
 * declared length is checked before the first byte, the decoded bytes against BODY_LIMIT, the
 * whole body against a deadline, and the bytes of requests whose credentials depend on the body
 * (a Stager signature) against one budget shared by all requests.
 */

/** Bytes held at once for bodies not yet authenticated, shared by every request of one app. */
export class PendingBodyBudget {
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.maxBytes) return false;
    this.held += bytes;
    return true;
  }

  /** Gives back bytes taken before. */
  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.held;
  }
}

export interface BodyReadOptions {
  /** BODY_LIMIT, in decoded bytes. */
  limitBytes: number;
  /** The time the whole body has to arrive in. */
  timeoutMs: number;
  /** The budget the held bytes count against, or null when the request is already authenticated. */
  budget: PendingBodyBudget | null;
  /** Sees each decoded chunk as it arrives (a signature computed while streaming). */
  onChunk(chunk: Buffer): void;
}

/** Seconds a sender is asked to wait when the budget is spent: the time a body has to arrive. */
const budgetRetryAfter = (options: BodyReadOptions) =>
  String(Math.max(1, Math.ceil(options.timeoutMs / 1000)));

/** The decoding stream for a Content-Encoding; undefined for identity, null when unsupported. */
function decoderFor(
  encoding: string,
): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | null | undefined {
  switch (encoding) {
    case 'identity':
      return undefined;
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return null;
  }
}

/** The declared Content-Length, or null when absent (chunked) or unreadable. */
function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  if (header === undefined || !/^\d+$/.test(header)) return null;
  return Number(header);
}

/**
 * Checks what can be checked of a body before reading it: a declared length over BODY_LIMIT
 * (413) and an unsupported Content-Encoding (415).
 */
export function checkBodyHead(req: IncomingMessage, limitBytes: number): void {
  const length = declaredLength(req);
  if (length !== null && length > limitBytes) {
    throw new HttpError(413, 'request body is larger than BODY_LIMIT');
  }
  const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
  if (decoderFor(encoding) === null) {
    throw new HttpError(415, 'unsupported content encoding');
  }
}

/**
 * Reads the whole (decoded) body of `req`. Rejects with an HttpError: 413 beyond BODY_LIMIT, 415
 * for an unknown Content-Encoding, 400 for a body that cannot be decoded or an aborted upload,
 * 408 when the body does not arrive within the deadline, 503 (with Retry-After) when the budget
 * of unauthenticated bytes is spent. Whatever was taken from the budget is given back when the
 * read ends, successful or not; on failure nothing read is kept.
 */
export function readWebhookBody(req: IncomingMessage, options: BodyReadOptions): Promise<Buffer> {
  checkBodyHead(req, options.limitBytes);
  const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
  const decoder = decoderFor(encoding) ?? undefined;
  const declared = declaredLength(req);
  const { budget } = options;
  let taken = 0;
  /** Makes sure `bytes` in all are taken from the budget; false when they do not fit. */
  const holdAtLeast = (bytes: number): boolean => {
    if (budget === null || bytes <= taken) return true;
    if (!budget.take(bytes - taken)) return false;
    taken = bytes;
    return true;
  };

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const source: Readable = decoder ?? req;

    const finish = (error: HttpError | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('close', onClose);
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onDecodeError);
      if (decoder) {
        req.unpipe(decoder);
        decoder.destroy();
      }
      budget?.release(taken);
      taken = 0;
      if (error) {
        chunks.length = 0;
        // The rest of the body is not wanted: nothing more is kept (see webhook-handlers.ts).
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, received));
      }
    };

    const onData = (chunk: Buffer) => {
      if (settled) return;
      received += chunk.length;
      if (received > options.limitBytes) {
        finish(new HttpError(413, 'request body is larger than BODY_LIMIT'));
        return;
      }
      if (!holdAtLeast(received)) {
        finish(
          new HttpError(503, 'webhook: too many unauthenticated bodies in flight; retry later', {
            'Retry-After': budgetRetryAfter(options),
          }),
        );
        return;
      }
      options.onChunk(chunk);
      chunks.push(chunk);
    };
    const onEnd = () => finish(null);
    const onDecodeError = () =>
      finish(new HttpError(400, 'request body could not be decoded (Content-Encoding)'));
    const onClose = () => {
      if (!req.complete) finish(new HttpError(400, 'request aborted'));
    };

    const timer = setTimeout(
      () =>
        finish(
          new HttpError(
            408,
            `request body not received within ${Math.round(options.timeoutMs / 1000)} s`,
          ),
        ),
      options.timeoutMs,
    );

    // A declared length is taken from the budget at once, so that a request that cannot fit is
    // refused before its first byte rather than after filling the budget for others.
    if (declared !== null && decoder === undefined && !holdAtLeast(declared)) {
      finish(
        new HttpError(503, 'webhook: too many unauthenticated bodies in flight; retry later', {
          'Retry-After': budgetRetryAfter(options),
        }),
      );
      return;
    }

    req.on('close', onClose);
    source.on('data', onData);
    source.on('end', onEnd);
    if (decoder) {
      decoder.on('error', onDecodeError);
      req.pipe(decoder);
    }
  });
}
