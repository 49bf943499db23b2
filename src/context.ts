import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connection.js';
import { DurabilityGate } from './db/durability.js';
import { createCaches, type Caches } from './cache/caches.js';
import type { FacetsSnapshot } from './events/event-facets.js';
import type { Event } from './events/types.js';
import { CityAliases } from './events/text-key.js';
import { DeliveryRecorder } from './inbox/delivery-recorder.js';
import { InboxProcessor, type ProcessOutcome } from './inbox/processor.js';
import { createJobState, type JobState } from './jobs/types.js';

/** Everything a request handler or job needs, built once per process (or per test). */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** Names this process among instances sharing a database (host, pid and a random part). */
  instanceId: string;
  /** The clock; tests pin it. */
  now: () => Date;
  cityAliases: CityAliases;
  recorder: DeliveryRecorder;
  processor: InboxProcessor;
  /** Everything kept in memory between requests, and the data version it is valid for. */
  caches: Caches<Event, FacetsSnapshot>;
  /** Observers of processing outcomes (metrics). */
  processingListeners: ((source: string, outcome: ProcessOutcome, seconds: number) => void)[];
  /** Running and last job runs, and the sync watchdog's verdict (src/jobs). */
  jobs: JobState;
  /** `stopping` once shutdown began: /healthz answers 503 from then on. */
  lifecycle: { stopping: boolean };
}

/** Wires the context from configuration and an open, migrated database. */
export function createContext(options: {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  now?: () => Date;
}): AppContext {
  const now = options.now ?? (() => new Date());
  const instanceId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  // Other instances' writes are seen only once the change listener is connected (server.ts).
  const caches = createCaches<Event, FacetsSnapshot>({
    otherWriters: options.database.dialect === 'postgres',
  });
  const processingListeners: AppContext['processingListeners'] = [];
  const gate = new DurabilityGate(options.database);
  const processor = new InboxProcessor({
    db: options.database.db,
    gate,
    config: options.config,
    now,
    logger: options.logger,
    instanceId,
    hooks: {
      onEventsChanged: (change) => caches.dataVersion.bump(change),
      onProcessed: (source, outcome, seconds) => {
        for (const listener of processingListeners) listener(source, outcome, seconds);
      },
    },
  });
  return {
    config: options.config,
    database: options.database,
    logger: options.logger,
    instanceId,
    now,
    cityAliases: new CityAliases(options.config.cityAliases),
    recorder: new DeliveryRecorder(options.database.db, gate),
    processor,
    caches,
    processingListeners,
    jobs: createJobState(),
    lifecycle: { stopping: false },
  };
}
