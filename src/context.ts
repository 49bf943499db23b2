import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connection.js';
import { DataVersion } from './events/data-version.js';
import { CityAliases } from './events/text-key.js';
import { DeliveryRecorder } from './inbox/delivery-recorder.js';
import { InboxProcessor, type ProcessOutcome } from './inbox/processor.js';
import { RenderCache } from './http/render-cache.js';
import { IcsEventCache } from './render/ics.js';

/** Everything a request handler or job needs, built once per process (or per test). */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** The clock; tests pin it. */
  now: () => Date;
  dataVersion: DataVersion;
  cityAliases: CityAliases;
  recorder: DeliveryRecorder;
  processor: InboxProcessor;
  /** Rendered feeds and pages, keyed by format + filter, valid per data version. */
  renderCache: RenderCache;
  /** Per-event VEVENT text, so one changed event does not re-render a whole calendar. */
  icsCache: IcsEventCache;
  /** Render cache counters, read by metrics. */
  renderStats: { hits: number; misses: number };
  /** Observers of processing outcomes (metrics). */
  processingListeners: ((source: string, outcome: ProcessOutcome, seconds: number) => void)[];
}

/** Wires the context from configuration and an open, migrated database. */
export function createContext(options: {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  now?: () => Date;
}): AppContext {
  const now = options.now ?? (() => new Date());
  const dataVersion = new DataVersion();
  const processingListeners: AppContext['processingListeners'] = [];
  const renderStats = { hits: 0, misses: 0 };
  const processor = new InboxProcessor({
    db: options.database.db,
    config: options.config,
    now,
    logger: options.logger,
    hooks: {
      onEventsChanged: () => dataVersion.bump(),
      onProcessed: (source, outcome, seconds) => {
        for (const listener of processingListeners) listener(source, outcome, seconds);
      },
    },
  });
  return {
    config: options.config,
    database: options.database,
    logger: options.logger,
    now,
    dataVersion,
    cityAliases: new CityAliases(options.config.cityAliases),
    recorder: new DeliveryRecorder(options.database.db),
    processor,
    renderCache: new RenderCache(undefined, renderStats),
    icsCache: new IcsEventCache(),
    renderStats,
    processingListeners,
  };
}
