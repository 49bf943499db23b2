import { checkpointWal, fileSize, optimizeDatabase } from '../db/maintenance.js';
import type { JobDefinition } from './types.js';

/** Above this size the WAL is checkpointed and truncated; SQLite's own checkpoints never shrink it. */
export const WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024;

/** `PRAGMA optimize`, and a truncating WAL checkpoint when the -wal file grew past 64 MB. */
export const maintenanceJob: JobDefinition = {
  name: 'maintenance',
  description: 'PRAGMA optimize; checkpoint and truncate a WAL file over 64 MB',
  schedule: (config) => config.schedules.maintenance,
  async run(ctx) {
    const handle = ctx.database;
    // PostgreSQL's autovacuum keeps statistics and space in order by itself.
    if (handle.dialect !== 'sqlite') return { skipped: 'PostgreSQL maintains itself (autovacuum)' };
    optimizeDatabase(handle);
    const walFile = `${handle.path}-wal`;
    const walBytes = fileSize(walFile);
    if (walBytes <= WAL_CHECKPOINT_BYTES) return { optimized: true, walBytes, checkpointed: false };
    const checkpoint = checkpointWal(handle);
    if (checkpoint.busy)
      ctx.logger.warn(
        { walBytes },
        'jobs: WAL checkpoint was blocked by a reader; retrying next run',
      );
    return {
      optimized: true,
      walBytes,
      checkpointed: checkpoint.busy === 0,
      walBytesAfter: fileSize(walFile),
    };
  },
};
