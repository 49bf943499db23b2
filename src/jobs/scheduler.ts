import { createTask, type RunCoordinator, type ScheduledTask } from 'node-cron';
import { backupJob } from './backup.js';
import { claimJobRun } from './job-claims.js';
import { maintenanceJob } from './maintenance.js';
import { retentionJob } from './retention.js';
import { syncWatchdogJob } from './sync-watchdog.js';
import type { JobRun } from './jobs.js';
import type { JobContext, JobDefinition } from './types.js';

/** Every scheduled job, one per file beside this one. Schedules come from SCHEDULE_* variables. */
export const JOBS: readonly JobDefinition[] = [
  retentionJob,
  backupJob,
  syncWatchdogJob,
  maintenanceJob,
];

export const JOB_NAMES = JOBS.map((job) => job.name);

/** The job called `name`, or undefined. */
export function findJob(name: string): JobDefinition | undefined {
  return JOBS.find((job) => job.name === name);
}

/**
 * Runs one job now through the jobs service, which logs and records its outcome and never lets
 * a job overlap itself. Failures are returned, not thrown; an unknown name throws.
 */
export async function runJob(
  ctx: JobContext,
  name: string,
  trigger: JobRun['trigger'] = 'direct',
): Promise<JobRun> {
  const job = findJob(name);
  if (!job) throw new Error(`jobs: no job named ${name} (known: ${JOB_NAMES.join(', ')})`);
  return ctx.jobs.run(name, trigger, () => job.run(ctx));
}

export interface Scheduler {
  /** Stops scheduling and waits for running jobs to finish. */
  stop(): Promise<void>;
}

/** Schedules every job whose schedule is not `off`, in SCHEDULE_TIMEZONE. */
export function startScheduler(ctx: JobContext): Scheduler {
  const { timeZone } = ctx.config.schedules;
  const cronLogger = ctx.logger.child({ component: 'node-cron' });
  const logger = {
    info: (message: string) => cronLogger.debug(message),
    warn: (message: string) => cronLogger.warn(message),
    error: (message: string | Error, err?: Error) =>
      cronLogger.error({ err: err ?? message }, 'jobs: scheduler error'),
    debug: (message: string | Error) => cronLogger.debug(String(message)),
  };
  const tasks: ScheduledTask[] = [];
  for (const job of JOBS) {
    const expression = job.schedule(ctx.config);
    if (expression === 'off') continue;
    const task = createTask(expression, () => runJob(ctx, job.name, 'schedule'), {
      name: taskName(job.name),
      timezone: timeZone,
      logger,
      ...(job.everyInstance
        ? {}
        : { distributed: true, runCoordinator: claimingCoordinator(ctx, job.name) }),
    });
    void task.start();
    tasks.push(task);
  }
  ctx.logger.info(
    { timeZone, jobs: JOBS.map((job) => ({ job: job.name, schedule: job.schedule(ctx.config) })) },
    'jobs: scheduler started',
  );
  let stopping: Promise<void> | null = null;
  return {
    stop() {
      stopping ??= (async () => {
        for (const task of tasks) await task.destroy();
        await ctx.jobs.finished();
      })();
      return stopping;
    },
  };
}

const taskName = (job: string) => `marquee-${job}`;

/**
 * Elects one instance per scheduled run through a claim row in the shared database. node-cron
 * asks with `<task name>:<scheduled time>`; a failing claim skips the run (node-cron fails
 * closed), and the next schedule tries again.
 */
function claimingCoordinator(ctx: JobContext, job: string): RunCoordinator {
  return {
    async shouldRun(key) {
      const scheduledFor = new Date(key.slice(taskName(job).length + 1));
      if (Number.isNaN(scheduledFor.getTime())) throw new Error(`jobs: unexpected run key ${key}`);
      const claimed = await claimJobRun(ctx.database.db, {
        job,
        scheduledFor,
        instance: ctx.instanceId,
        now: ctx.now(),
      });
      if (!claimed) ctx.logger.debug({ job }, `jobs: ${job} is run by another instance`);
      return claimed;
    },
  };
}

/** When a job would next run, for the admin page; null when off or not scheduled here. */
export function nextRunOf(expression: string, timeZone: string): Date | null {
  if (expression === 'off') return null;
  const task = createTask(expression, () => undefined, { timezone: timeZone });
  try {
    return task.getNextRuns(1)[0] ?? null;
  } finally {
    void task.destroy();
  }
}
