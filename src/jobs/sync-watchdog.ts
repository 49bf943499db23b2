import { listOrganizations, type OrganizationSync } from '../events/organization-repository.js';
import type { OrganizationFreshness, SyncWatchResult } from './jobs.js';
import type { JobContext, JobDefinition } from './types.js';

const HOUR_MS = 3_600_000;

/** Judges each organization: stale when its last full sync is older than `staleAfterHours` (or never). */
export function assessSyncFreshness(
  organizations: readonly OrganizationSync[],
  now: Date,
  staleAfterHours: number,
): SyncWatchResult {
  const limit = now.getTime() - staleAfterHours * HOUR_MS;
  const judged: OrganizationFreshness[] = organizations.map((organization) => ({
    ...organization,
    stale: organization.lastSyncAt === null || organization.lastSyncAt.getTime() < limit,
  }));
  return {
    checkedAt: now,
    staleAfterHours,
    organizations: judged,
    stale: judged.filter((organization) => organization.stale),
  };
}

type WatchContext = Pick<JobContext, 'config' | 'database' | 'now' | 'jobs'>;

/** Checks every organization now; the jobs service keeps the verdict for /healthz and /admin. */
export async function checkSyncFreshness(ctx: WatchContext): Promise<SyncWatchResult> {
  const result = assessSyncFreshness(
    await listOrganizations(ctx.database.db),
    ctx.now(),
    ctx.config.syncStaleHours,
  );
  ctx.jobs.recordSyncWatch(result);
  return result;
}

/** The watchdog's latest verdict, checked afresh when there is none younger than `maxAgeMs`. */
export async function currentSyncWatch(
  ctx: WatchContext,
  maxAgeMs = 5 * 60_000,
): Promise<SyncWatchResult> {
  const latest = ctx.jobs.syncWatch;
  if (latest && ctx.now().getTime() - latest.checkedAt.getTime() <= maxAgeMs) return latest;
  return checkSyncFreshness(ctx);
}

const label = (organization: OrganizationFreshness) => `${organization.source}/${organization.id}`;

/**
 * Flags organizations whose nightly full sync (Stager sends ORGANIZATION_SYNC at 02:00 CET)
 * stopped arriving: their removed events would otherwise stay in the feeds unnoticed.
 */
export const syncWatchdogJob: JobDefinition = {
  name: 'sync-watchdog',
  description: `flag organizations whose last full sync is older than SYNC_STALE_HOURS`,
  schedule: (config) => config.schedules.syncWatchdog,
  // Its verdict feeds this process's /healthz, which each instance answers for itself.
  everyInstance: true,
  async run(ctx) {
    const before = new Set((ctx.jobs.syncWatch?.stale ?? []).map(label));
    const result = await checkSyncFreshness(ctx);
    const after = new Set(result.stale.map(label));
    const newlyStale = result.stale.filter((organization) => !before.has(label(organization)));
    const recovered = [...before].filter((name) => !after.has(name));
    // Warn once when an organization turns stale, not every quarter hour after.
    if (newlyStale.length > 0) {
      ctx.logger.warn(
        {
          staleAfterHours: result.staleAfterHours,
          organizations: newlyStale.map((organization) => ({
            organization: label(organization),
            name: organization.name,
            lastSyncAt: organization.lastSyncAt?.toISOString() ?? null,
          })),
        },
        'jobs: organization sync is stale',
      );
    }
    if (recovered.length > 0)
      ctx.logger.info({ organizations: recovered }, 'jobs: organization sync recovered');
    return {
      organizations: result.organizations.length,
      stale: result.stale.length,
      newlyStale: newlyStale.length,
      recovered: recovered.length,
    };
  },
};
