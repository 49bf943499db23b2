import type { AppContext } from '../context.js';
import { appliedSchemaVersion } from '../db/connection.js';
import { measureDatabase, type DatabaseSize } from '../db/maintenance.js';
import { countEventsByStatus } from '../events/event-facets.js';
import {
  countDeliveries,
  countPendingDeliveries,
  lastDeliveryTimes,
  listDeliveries,
} from '../inbox/inbox-repository.js';
import { JOBS, nextRunOf } from '../jobs/scheduler.js';
import { checkSyncFreshness } from '../jobs/sync-watchdog.js';
import { MARQUEE_VERSION } from '../version.js';
import { collectSchemaWatch, type SourceSchemaWatch } from './schema-watch.js';

/** Everything an operator asks "is it working?" about, for GET /admin, /admin/status.json and `marquee status`. */
export interface OperationsStatus {
  generatedAt: string;
  /** Marquee's version (package.json) and the database's schema version (latest migration applied). */
  version: { marquee: string; schema: string | null };
  sources: SourceStatus[];
  organizations: {
    source: string;
    id: string;
    name: string | null;
    lastSyncAt: string | null;
    lastSyncEventCount: number | null;
    stale: boolean;
  }[];
  staleAfterHours: number;
  inboxBacklog: number;
  events: { visibility: string; status: string; count: number }[];
  jobs: {
    name: string;
    description: string;
    schedule: string;
    nextRunAt: string | null;
    running: boolean;
    lastRun: {
      status: string;
      trigger: string;
      startedAt: string;
      durationMs: number;
      result: unknown;
      error: string | null;
    } | null;
  }[];
  jobsEnabled: boolean;
  scheduleTimeZone: string;
  database: DatabaseSize;
  /** The latest integrity check of the SQLite file; null on PostgreSQL or before one ran. */
  integrity: { mode: string; checkedAt: string; problems: string[] } | null;
  /** What the senders sent that the adapters do not read or know (GET /admin/api/schema-watch). */
  schemaWatch: SourceSchemaWatch[];
}

export interface SourceStatus {
  name: string;
  configured: boolean;
  lastDeliveryAt: string | null;
  /** Deliveries received in the last 24 hours. `accepted` is everything answered 202. */
  last24h: {
    accepted: number;
    rejected: number;
    processed: number;
    failed: number;
    ignored: number;
    pending: number;
  };
  /** The newest failed or rejected deliveries, with their reasons. */
  recentErrors: {
    delivery: number;
    receivedAt: string;
    status: string;
    messageType: string | null;
    error: string | null;
  }[];
}

const DAY_MS = 86_400_000;

/** Gathers the operations status from the database and the in-memory job state. */
export async function collectStatus(ctx: AppContext): Promise<OperationsStatus> {
  const db = ctx.database.db;
  const now = ctx.now();
  // On a file the integrity check found damaged, a read that hits the damage gives an empty
  // part: the status (and the admin page showing it) must still say the file is damaged.
  const damaged = (ctx.database.integrity?.problems.length ?? 0) > 0;
  const readable = <T>(read: Promise<T>, fallback: T): Promise<T> =>
    damaged ? read.catch(() => fallback) : read;
  const [counts, lastTimes, backlog, events, freshness, schema, schemaWatch] = await Promise.all([
    readable(countDeliveries(db, new Date(now.getTime() - DAY_MS)), []),
    readable(lastDeliveryTimes(db), new Map<string, Date>()),
    readable(countPendingDeliveries(db), 0),
    readable(countEventsByStatus(db), []),
    readable(checkSyncFreshness(ctx), {
      checkedAt: now,
      staleAfterHours: ctx.config.syncStaleHours,
      organizations: [],
      stale: [],
    }),
    // A damaged file may fail this read even when the check has not run yet.
    appliedSchemaVersion(db).catch(() => null),
    readable(collectSchemaWatch(db, ctx.inbox.sources), []),
  ]);
  const sourceStatuses: SourceStatus[] = [];
  for (const adapter of Object.values(ctx.inbox.sources)) {
    const mine = counts.filter((row) => row.source === adapter.name);
    const count = (status: string) =>
      mine.filter((row) => row.status === status).reduce((sum, row) => sum + row.count, 0);
    const errors = await readable(
      listDeliveries(db, { source: adapter.name, status: ['failed', 'rejected'], limit: 10 }),
      [],
    );
    sourceStatuses.push({
      name: adapter.name,
      configured: adapter.isConfigured(),
      lastDeliveryAt: lastTimes.get(adapter.name)?.toISOString() ?? null,
      last24h: {
        accepted: count('pending') + count('processed') + count('failed') + count('ignored'),
        rejected: count('rejected'),
        processed: count('processed'),
        failed: count('failed'),
        ignored: count('ignored'),
        pending: count('pending'),
      },
      recentErrors: errors.map((delivery) => ({
        delivery: delivery.id,
        receivedAt: delivery.receivedAt.toISOString(),
        status: delivery.status,
        messageType: delivery.messageType,
        error: delivery.error,
      })),
    });
  }
  const { timeZone } = ctx.config.schedules;
  return {
    generatedAt: now.toISOString(),
    version: { marquee: MARQUEE_VERSION, schema },
    sources: sourceStatuses,
    organizations: freshness.organizations.map((organization) => ({
      source: organization.source,
      id: organization.id,
      name: organization.name,
      lastSyncAt: organization.lastSyncAt?.toISOString() ?? null,
      lastSyncEventCount: organization.lastSyncEventCount,
      stale: organization.stale,
    })),
    staleAfterHours: freshness.staleAfterHours,
    inboxBacklog: backlog,
    events,
    jobs: JOBS.map((job) => {
      const schedule = job.schedule(ctx.config);
      const lastRun = ctx.jobs.lastRun(job.name);
      return {
        name: job.name,
        description: job.description,
        schedule,
        nextRunAt: ctx.config.jobsEnabled
          ? (nextRunOf(schedule, timeZone)?.toISOString() ?? null)
          : null,
        running: ctx.jobs.isRunning(job.name),
        lastRun: lastRun
          ? {
              status: lastRun.status,
              trigger: lastRun.trigger,
              startedAt: lastRun.startedAt.toISOString(),
              durationMs: lastRun.durationMs,
              result: lastRun.result,
              error: lastRun.error,
            }
          : null,
      };
    }),
    jobsEnabled: ctx.config.jobsEnabled,
    scheduleTimeZone: timeZone,
    database: await measureDatabase(ctx.database),
    integrity: ctx.database.integrity
      ? {
          mode: ctx.database.integrity.mode,
          checkedAt: ctx.database.integrity.checkedAt.toISOString(),
          problems: ctx.database.integrity.problems,
        }
      : null,
    schemaWatch,
  };
}
