import type { Logger } from 'pino';
import type { SourceName } from '../events/types.js';

/** What a job reports: counts and facts for its log line, the admin page and the CLI. */
export type JobResult = Record<string, unknown>;

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

/**
 * The jobs of one process (or one test app) and what they left in memory: runs in progress, the
 * last run of each job, and the sync watchdog's latest verdict. Nothing here survives a restart.
 */
export class Jobs {
  private readonly running = new Map<string, Promise<JobRun>>();
  private readonly lastRunByName = new Map<string, JobRun>();
  private latestSyncWatch: SyncWatchResult | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly now: () => Date,
  ) {}

  /**
   * Runs `work` as the job `name` and logs its outcome (name, duration, result counts). A job
   * never overlaps itself: while it runs, another run is skipped and logged. Failures are logged
   * and returned, not thrown.
   */
  async run(
    name: string,
    trigger: JobRun['trigger'],
    work: () => Promise<JobResult>,
  ): Promise<JobRun> {
    const { logger } = this;
    const startedAt = this.now();
    if (this.running.has(name)) {
      logger.warn({ job: name, trigger }, `jobs: ${name} is still running; this run is skipped`);
      return {
        name,
        trigger,
        status: 'skipped',
        startedAt,
        durationMs: 0,
        result: null,
        error: null,
      };
    }
    const started = performance.now();
    const execution = (async (): Promise<JobRun> => {
      try {
        const result = await work();
        const durationMs = Math.round(performance.now() - started);
        logger.info({ job: name, trigger, durationMs, result }, `jobs: ${name} finished`);
        return { name, trigger, status: 'ok', startedAt, durationMs, result, error: null };
      } catch (error) {
        const durationMs = Math.round(performance.now() - started);
        logger.error({ job: name, trigger, durationMs, err: error }, `jobs: ${name} failed`);
        return {
          name,
          trigger,
          status: 'failed',
          startedAt,
          durationMs,
          result: null,
          error: error instanceof Error ? error.message : String(error),
        };
      }
    })();
    this.running.set(name, execution);
    try {
      const run = await execution;
      this.lastRunByName.set(name, run);
      return run;
    } finally {
      this.running.delete(name);
    }
  }

  /** True while a run of the job `name` is in progress. */
  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** The last finished run of the job `name`, if it ran in this process. */
  lastRun(name: string): JobRun | undefined {
    return this.lastRunByName.get(name);
  }

  /** The last finished run of every job that ran in this process. */
  lastRuns(): JobRun[] {
    return [...this.lastRunByName.values()];
  }

  /** Resolves once every run in progress has finished. */
  async finished(): Promise<void> {
    await Promise.allSettled(this.running.values());
  }

  /** The sync watchdog's latest verdict, shown by /healthz, /metrics and the admin page. */
  get syncWatch(): SyncWatchResult | null {
    return this.latestSyncWatch;
  }

  /** Keeps the sync watchdog's newest verdict. */
  recordSyncWatch(result: SyncWatchResult): void {
    this.latestSyncWatch = result;
  }
}
