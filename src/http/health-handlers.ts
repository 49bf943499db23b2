import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { countPendingDeliveries } from '../inbox/inbox-repository.js';
import { currentSyncWatch } from '../jobs/sync-watchdog.js';

/**
 * GET /healthz: 200 while the database answers, 503 otherwise or once shutdown began. Stale
 * organizations are reported (the sync watchdog's latest verdict) but do not fail the check: the
 * process itself is healthy.
 */
export function healthHandler(ctx: AppContext, isStopping: () => boolean) {
  return async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    if (isStopping()) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    let backlog: number;
    try {
      backlog = await countPendingDeliveries(ctx.database.db);
    } catch (error) {
      ctx.logger.error({ err: error }, 'health: database check failed');
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    const watch = await currentSyncWatch(ctx).catch(() => null);
    res.json({
      status: 'ok',
      database: 'ok',
      inboxBacklog: backlog,
      staleOrganizations: (watch?.stale ?? []).map((organization) => ({
        source: organization.source,
        id: organization.id,
        name: organization.name,
        lastSyncAt: organization.lastSyncAt?.toISOString() ?? null,
      })),
    });
  };
}
