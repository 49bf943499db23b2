import { checkIntegrity } from '../db/integrity.js';
import { checkpointWal, fileSize, optimizeDatabase } from '../db/maintenance.js';
import type { JobDefinition } from './types.js';

/** Above this size the WAL is checkpointed and truncated; SQLite's own checkpoints never shrink it. */
export const WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;

/**
 * `PRAGMA integrity_check` (its verdict is reported in /healthz and the admin page), `PRAGMA
 * optimize`, and a truncating WAL checkpoint when the -wal file grew past 64 MB.
 */
export const maintenanceJob: JobDefinition = {
  name: 'maintenance',
  description: 'PRAGMA integrity_check and optimize; checkpoint and truncate a WAL file over 64 MB',
  schedule: (config) => config.schedules.maintenance,
  async run(ctx) {
    const handle = ctx.database;
    // PostgreSQL's autovacuum keeps statistics and space in order by itself.
    if (handle.dialect !== 'sqlite') return { skipped: 'PostgreSQL maintains itself (autovacuum)' };
    const integrity = checkIntegrity(handle, 'full', ctx.now());
    const problems = integrity?.problems ?? [];
    if (problems.length > 0) {
      ctx.logger.error(
        { problems },
        'db: the database file is damaged (PRAGMA integrity_check): restore a backup',
      );
    }
    optimizeDatabase(handle);
    const walFile = `${handle.path}-wal`;
    const walBytes = fileSize(walFile);
    if (walBytes <= WAL_CHECKPOINT_BYTES)
      return { integrityProblems: problems.length, optimized: true, walBytes, checkpointed: false };
    const checkpoint = checkpointWal(handle);
    if (checkpoint.busy)
      ctx.logger.warn(
        { walBytes },
        'jobs: WAL checkpoint was blocked by a reader; retrying next run',
      );
    return {
      integrityProblems: problems.length,
      optimized: true,
      walBytes,
      checkpointed: checkpoint.busy === 0,
      walBytesAfter: fileSize(walFile),
    };
  },
};
