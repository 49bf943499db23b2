import type { DatabaseHandle } from './connection.js';

/**
 * Who needs an fsync per commit. Inbox writes do: a 2xx promises the delivery is on disk.
 * Processing does not: if its commit is lost to a power cut, the delivery is still pending and
 * is processed again at start. On SQLite, processing runs with `synchronous=NORMAL` (no fsync; the
 * next inbox commit's fsync covers it, since WAL is append-only), and inbox writes wait while it
 * does, because the setting is per connection. PostgreSQL sets it per transaction
 * (`synchronous_commit = off` in the processing transaction), so there is nothing to gate.
 */
export class DurabilityGate {
  private relaxedRuns: Promise<unknown> | null = null;

  constructor(private readonly handle: DatabaseHandle) {}

  /** Runs `work` with fsync-free commits. Calls must not overlap (the processor is serial). */
  async relaxed<T>(work: () => Promise<T>): Promise<T> {
    const { handle } = this;
    if (handle.dialect !== 'sqlite') return work();
    handle.sqlite.pragma('synchronous = NORMAL');
    const run = (async () => {
      try {
        return await work();
      } finally {
        handle.sqlite.pragma('synchronous = FULL');
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
