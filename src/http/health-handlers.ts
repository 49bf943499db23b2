import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { appliedSchemaVersion, pingDatabase } from '../db/connection.js';
import { countPendingDeliveries } from '../inbox/inbox-repository.js';
import { currentSyncWatch } from '../jobs/sync-watchdog.js';
import { MARQUEE_VERSION } from '../version.js';

/** A database that has not answered `select 1` by then counts as unreachable. */
const PROBE_TIMEOUT_MS = 2_000;
/** Probes are shared for this long: a load balancer polling hard costs one query a second. */
const PROBE_CACHE_MS = 1_000;

/** Resolves with `work`'s value, or rejects once `ms` passed without one. */
async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`health: ${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A cheap `select 1` with a short timeout, its answer shared for a second (by wall time, not the
 * injected clock, which tests pin). Connections may die at any moment (PostgreSQL restarted):
 * the next probe after the server is back answers ok, with nothing to reset.
 */
function databaseProbe(ctx: AppContext): () => Promise<boolean> {
  let last: { at: number; result: Promise<boolean> } | null = null;
  return () => {
    const at = Date.now();
    if (last && at - last.at < PROBE_CACHE_MS) return last.result;
    const result = withTimeout(pingDatabase(ctx.database.db), PROBE_TIMEOUT_MS, 'select 1')
      .then(() => true)
      .catch((error: unknown) => {
        ctx.logger.error({ err: error }, 'health: database check failed');
        return false;
      });
    last = { at, result };
    return result;
  };
}

/**
 * GET /healthz: 200 while the database answers, 503 otherwise, when the file failed its
 * integrity check, or once shutdown began. Stale organizations are reported (the sync watchdog's
 * latest verdict) but do not fail the check: the process itself is healthy.
 */
export function healthHandler(ctx: AppContext, isStopping: () => boolean) {
  const probe = databaseProbe(ctx);
  return async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    if (isStopping()) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    if (!(await probe())) {
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    const integrity = ctx.database.integrity;
    if (integrity && integrity.problems.length > 0) {
      res.status(503).json({
        status: 'degraded',
        database: 'damaged',
        reason: `PRAGMA ${integrity.mode === 'quick' ? 'quick_check' : 'integrity_check'} found problems; restore a backup`,
        checkedAt: integrity.checkedAt.toISOString(),
        problems: integrity.problems,
      });
      return;
    }
    let backlog: number;
    let schema: string | null;
    try {
      [backlog, schema] = await withTimeout(
        Promise.all([
          countPendingDeliveries(ctx.database.db),
          // Reported, not judged: the backlog count alone decides whether the database answers.
          appliedSchemaVersion(ctx.database.db).catch(() => null),
        ]),
        PROBE_TIMEOUT_MS,
        'the backlog count',
      );
    } catch (error) {
      ctx.logger.error({ err: error }, 'health: database check failed');
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    const watch = await currentSyncWatch(ctx).catch(() => null);
    res.json({
      status: 'ok',
      database: 'ok',
      version: MARQUEE_VERSION,
      schema,
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
