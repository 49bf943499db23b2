import type SqliteDatabase from 'better-sqlite3';

/**
 * Who needs an fsync per commit. Inbox writes do: a 2xx promises the delivery is on disk.
 * Processing does not: if its commit is lost to a power cut, the delivery is still pending and
 * is processed again at start. So processing runs with `synchronous=NORMAL` (no fsync; the next
 * inbox commit's fsync covers it, since WAL is append-only), and inbox writes wait while it does.
 */
export class DurabilityGate {
  private relaxedRuns: Promise<unknown> | null = null;

  constructor(private readonly sqlite: SqliteDatabase.Database) {}

  /** Runs `work` with fsync-free commits. Calls must not overlap (the processor is serial). */
  async relaxed<T>(work: () => Promise<T>): Promise<T> {
    this.sqlite.pragma('synchronous = NORMAL');
    const run = (async () => {
      try {
        return await work();
      } finally {
        this.sqlite.pragma('synchronous = FULL');
      }
    })();
    this.relaxedRuns = run;
    try {
      return await run;
    } finally {
      if (this.relaxedRuns === run) this.relaxedRuns = null;
    }
  }

  /** Resolves once no relaxed work is running, so the next commit is a durable one. */
  async durable(): Promise<void> {
    while (this.relaxedRuns) await this.relaxedRuns.catch(() => undefined);
  }
}
