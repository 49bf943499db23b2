import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/connection.js';
import type { DataVersion } from '../cache/data-version.js';
import type { JobResult, Jobs } from './jobs.js';

/** The services a job uses; the app context provides them. */
export interface JobContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  now: () => Date;
  /** Names this process among instances sharing a database (run claims, change announcements). */
  instanceId: string;
  /** Jobs that change events bump the data version, so cached outputs are rendered again. */
  caches: { dataVersion: DataVersion };
  jobs: Jobs;
}

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
  run(ctx: JobContext): Promise<JobResult>;
}
