import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { SourceName } from '../events/types.js';

/** POST /webhooks/<source>: store the raw delivery, answer 202, process from the inbox. */
export function webhookHandler(ctx: AppContext, source: SourceName) {
  return async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const { deliveryId } = await ctx.inbox.receive(source, {
      headers: req.headers,
      query: req.query as Record<string, unknown>,
      body,
      remoteAddress: req.ip,
    });
    res.status(202).json({ status: 'accepted', delivery: deliveryId });
  };
}
