import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import type { SourceName } from '../events/types.js';

/** What a job reports: counts and facts for its log line, the admin page and the CLI. */
export type JobResult = Record<string, unknown>;

/** One scheduled job: a name, its cron schedule from the configuration, and what it does. */
export interface JobDefinition {
  name: string;
  /** One line for the admin page and `--help`. */
  description: string;
  /** A cron expression (node-cron syntax), or `off`. */
  schedule(config: Config): string;
  /**
   * Run by every instance sharing a database, not by one elected per schedule: for jobs that
   * only look and keep what they saw in this process's memory.
   */
  everyInstance?: boolean;
  run(ctx: AppContext): Promise<JobResult>;
}

/** The outcome of one run, kept per job for the admin page and returned by `runJob`. */
export interface JobRun {
  name: string;
  trigger: 'schedule' | 'direct';
  status: 'ok' | 'failed' | 'skipped';
  startedAt: Date;
  durationMs: number;
  result: JobResult | null;
  error: string | null;
}

/** An organization's full-sync freshness, as the sync watchdog judged it. */
export interface OrganizationFreshness {
  source: SourceName;
  id: string;
  name: string | null;
  lastSyncAt: Date | null;
  lastSyncEventCount: number | null;
  stale: boolean;
}

export interface SyncWatchResult {
  checkedAt: Date;
  staleAfterHours: number;
  organizations: OrganizationFreshness[];
  stale: OrganizationFreshness[];
}

/** In-memory job state of one process (or one test app): nothing here needs to survive a restart. */
export interface JobState {
  /** Runs in progress by job name: a job never overlaps itself. */
  running: Map<string, Promise<JobRun>>;
  lastRuns: Map<string, JobRun>;
  /** The latest sync-watchdog verdict, shown by /healthz and the admin page. */
  syncWatch: SyncWatchResult | null;
}

/** Empty job state for a new context. */
export function createJobState(): JobState {
  return { running: new Map(), lastRuns: new Map(), syncWatch: null };
}
