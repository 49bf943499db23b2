import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { collectSchemaWatch } from '../operations/schema-watch.js';

/**
 * GET /admin/api/schema-watch: per source, the payload keys its adapter does not read, unknown
 * message types and statuses, and the envelope forms seen (behind adminAuth, as all of /admin).
 */
export function adminSchemaWatchHandler(ctx: AppContext) {
  return async (_req: Request, res: Response) => {
    const sources = await collectSchemaWatch(ctx.database.db, ctx.inbox.sources);
    res.json({ generatedAt: ctx.now().toISOString(), sources });
  };
}
