import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { countPendingDeliveries } from '../inbox/inbox-repository.js';

/** GET /healthz: 200 while the database answers, 503 otherwise. */
export function healthHandler(ctx: AppContext) {
  return async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    try {
      const backlog = await countPendingDeliveries(ctx.database.db);
      res.json({ status: 'ok', database: 'ok', inboxBacklog: backlog });
    } catch (error) {
      ctx.logger.error({ err: error }, 'health: database check failed');
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    }
  };
}
