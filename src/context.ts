import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connection.js';
import { createPageCaches, type PageCaches } from './http/page-caches.js';
import { DataVersion } from './events/data-version.js';
import { EventCache } from './events/event-repository.js';
import { Inbox } from './inbox/inbox.js';
import { Jobs } from './jobs/jobs.js';
import { RenderCache } from './http/render-cache.js';
import { FragmentCache } from './render/fragment-cache.js';
import { createSources, sourceSettingsFrom } from './sources/index.js';

/**
 * The services a request handler, job or command uses, built once per process (or per test).
 * Each service owns its state; none holds another layer's listeners or flags.
 */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  /** Names this process among instances sharing a database (host, pid and a random part). */
  instanceId: string;
  /** The clock; tests pin it. */
  now: () => Date;
  dataVersion: DataVersion;
  /** Rendered feeds and pages, keyed by format + filter, valid per data version. */
  renderCache: RenderCache;
  /**
   * Per-event output text (VEVENTs, feed items, API objects) and mapped events, so a change to
   * one event re-renders and re-reads only that event. Emptying both (and `renderCache`) makes
   * the next render cold.
   */
  fragmentCache: FragmentCache;
  eventCache: EventCache;
  /** Pages: each event's list markup per revision, and the filter choices of the list page. */
  pageCaches: PageCaches;
  /** Receives, stores, processes and replays webhook deliveries. */
  inbox: Inbox;
  /** Job runs and what they keep in memory (src/jobs). */
  jobs: Jobs;
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
  const dataVersion = new DataVersion();
  // Other instances' writes are seen only once the change listener is connected (server.ts).
  if (options.database.dialect === 'postgres') dataVersion.setSeeingAllWrites(false);
  const inbox = new Inbox({
    database: options.database,
    sources: createSources(sourceSettingsFrom(options.config)),
    defaultDurationHours: options.config.defaultDurationHours,
    now,
    logger: options.logger,
    instanceId,
  });
  // Cached renderings must not outlive the rows processing changed.
  inbox.on('eventsChanged', (change) => dataVersion.bump(change));
  return {
    config: options.config,
    database: options.database,
    logger: options.logger,
    instanceId,
    now,
    dataVersion,
    renderCache: new RenderCache(),
    fragmentCache: new FragmentCache(),
    eventCache: new EventCache(),
    pageCaches: createPageCaches(),
    inbox,
    jobs: new Jobs(options.logger),
  };
}
