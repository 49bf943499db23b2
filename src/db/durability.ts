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
  /** The last run queued: relaxed and durable runs take turns, first come first served. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly handle: DatabaseHandle) {}

  /**
   * Runs `work` with fsync-free commits. Keep each run short (one transaction): durable writes
   * wait for it, and they are what a webhook's 202 waits for.
   */
  relaxed<T>(work: () => Promise<T>): Promise<T> {
    const { handle } = this;
    if (handle.dialect !== 'sqlite') return work();
    return this.inTurn(async () => {
      handle.sqlite.pragma('synchronous = NORMAL');
      try {
        return await work();
      } finally {
        handle.sqlite.pragma('synchronous = FULL');
      }
    });
  }

  /** Runs `work` with durable commits, once no relaxed run holds the connection's setting. */
  durable<T>(work: () => Promise<T>): Promise<T> {
    if (this.handle.dialect !== 'sqlite') return work();
    return this.inTurn(work);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
