import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { SourceName } from '../events/types.js';
import { readWebhookBody, type PendingBodyBudget } from './webhook-body.js';

/**
 * POST /webhooks/<source>: check what the head carries (configured source, token or Basic
 * credentials, declared length) before reading the body, read it within the limits, store the
 * raw delivery, answer 202, process from the inbox.
 */
export function webhookHandler(ctx: AppContext, source: SourceName, budget: PendingBodyBudget) {
  return async (req: Request, res: Response) => {
    // Until the body was read in full, any answer closes the connection: the rest of a refused
    // body is never read.
    res.set('Connection', 'close');
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
    res.removeHeader('Connection');
    const { deliveryId } = await ctx.inbox.receive(admission, {
      headers: req.headers,
      body,
      remoteAddress: req.ip,
    });
    res.status(202).json({ status: 'accepted', delivery: deliveryId });
  };
}
