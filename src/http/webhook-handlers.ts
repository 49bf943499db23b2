import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { SourceName } from '../events/types.js';
import { readWebhookBody, type PendingBodyBudget } from './webhook-body.js';

/**
 * How long the rest of a body answered early (401, 408, 413, 503) is read and dropped before the
 * connection is closed. Closing at once, with the sender's bytes unread, would reset the
 * connection and the sender could lose the answer; reading on forever would let a trickle hold it.
 */
export const DISCARD_REST_MS = 2000;

function discardRestAfterAnswer(req: Request, res: Response): void {
  res.once('finish', () => {
    if (req.complete) return;
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), DISCARD_REST_MS);
    timer.unref();
    const stop = () => clearTimeout(timer);
    req.once('end', stop);
    req.once('close', stop);
  });
}

/**
 * POST /webhooks/<source>: check what the head carries (configured source, token or Basic
 * credentials, declared length) before reading the body, read it within the limits, store the
 * raw delivery, answer 202, process from the inbox.
 */
export function webhookHandler(ctx: AppContext, source: SourceName, budget: PendingBodyBudget) {
  return async (req: Request, res: Response) => {
    discardRestAfterAnswer(req, res);
    const admission = ctx.inbox.admit(source, {
      headers: req.headers,
      query: req.query as Record<string, unknown>,
    });
    const body = await readWebhookBody(req, {
      limitBytes: ctx.config.bodyLimitBytes,
      timeoutMs: ctx.config.webhookBodyTimeoutMs,
      budget: admission.authenticated ? null : budget,
      onChunk: (chunk) => admission.update(chunk),
    });
    const { deliveryId } = await ctx.inbox.receive(admission, {
      headers: req.headers,
      body,
      remoteAddress: req.ip,
    });
    res.status(202).json({ status: 'accepted', delivery: deliveryId });
  };
}
