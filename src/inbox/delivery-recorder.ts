import type { Db } from '../db/connection.js';
import type { DurabilityGate } from '../db/durability.js';
import { insertDeliveries, type NewDelivery } from './inbox-repository.js';

interface Waiting {
  delivery: NewDelivery;
  resolve: (id: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Records deliveries with group commit: requests that arrive in the same turn of the event loop
 * share one durable commit, so a burst costs one fsync rather than one per request. Every
 * promise resolves only after its row is on disk.
 */
export class DeliveryRecorder {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly gate: DurabilityGate,
  ) {}

  /** Stores a delivery; resolves with its id once committed. */
  recordDelivery(delivery: NewDelivery): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ delivery, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    try {
      const ids = await this.gate.durable(() =>
        insertDeliveries(
          this.db,
          batch.map((item) => item.delivery),
        ),
      );
      batch.forEach((item, index) => item.resolve(ids[index] as number));
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  }
}
