import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AppContext } from '../context.js';
import { HttpError } from '../errors.js';
import type { SourceAdapter } from '../sources/types.js';
import { parseJsonBody } from './processor.js';

/** Headers worth keeping with a delivery. Authorization and X-Signature never are. */
const KEPT_HEADERS = [
  'content-type',
  'content-encoding',
  'content-length',
  'user-agent',
  'x-request-id',
  'x-forwarded-for',
];

function keptHeaders(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  authMethod: string,
): Record<string, string> {
  const kept: Record<string, string> = { 'x-marquee-auth': authMethod };
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value.slice(0, 500);
  }
  if (remoteAddress) kept['x-marquee-remote-address'] = remoteAddress;
  return kept;
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: Buffer;
  remoteAddress: string | undefined;
}

/**
 * The receiving use case: authenticate, store the raw delivery durably, then queue it. Anything
 * authenticated is stored, even when it is not JSON (kept as rejected, answered 400).
 */
export async function receiveDelivery(
  ctx: AppContext,
  adapter: SourceAdapter,
  request: ReceivedRequest,
): Promise<{ deliveryId: number }> {
  if (!adapter.isConfigured(ctx.config)) {
    throw new HttpError(
      503,
      `${adapter.name}: webhook not configured; set ${adapter.secretVariables.join(' or ')} to receive deliveries`,
    );
  }
  const auth = adapter.authenticate(request, ctx.config);
  if (!auth.ok) {
    throw new HttpError(
      401,
      `${adapter.name}: authentication failed`,
      adapter.name === 'eventport' ? { 'WWW-Authenticate': 'Basic realm="marquee"' } : {},
    );
  }
  let payload: unknown;
  let parseError: string | null = null;
  try {
    payload = parseJsonBody(request.body);
  } catch (error) {
    parseError = `body is not JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
  const contentType =
    typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : null;
  const deliveryId = await ctx.recorder.recordDelivery({
    source: adapter.name,
    receivedAt: ctx.now(),
    contentType,
    headers: keptHeaders(request.headers, request.remoteAddress, auth.method),
    body: request.body,
    bodySha256: createHash('sha256').update(request.body).digest('hex'),
    status: parseError ? 'rejected' : 'pending',
    error: parseError,
  });
  if (parseError) {
    throw new HttpError(400, `${adapter.name}: ${parseError} (kept as delivery ${deliveryId})`);
  }
  ctx.processor.notify(deliveryId, payload);
  return { deliveryId };
}
