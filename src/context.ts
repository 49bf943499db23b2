import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { createCaches, type Caches } from './cache/caches.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/connection.js';
import type { FacetsSnapshot } from './events/event-facets.js';
import { mappedEventBytes } from './events/event-rows.js';
import type { Event } from './events/types.js';
import { WebhookSender } from './changes/webhook-sender.js';
import { spoolDirectoryFor } from './inbox/delivery-spool.js';
import { Inbox } from './inbox/inbox.js';
import { Jobs } from './jobs/jobs.js';
import { createSources, sourceSettingsFrom } from './sources/index.js';
import { WebSub } from './websub/websub.js';

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
  /** Everything kept in memory between requests, and the data version it is valid for. */
  caches: Caches<Event, FacetsSnapshot>;
  /** Receives, stores, processes and replays webhook deliveries. */
  inbox: Inbox;
  /** Job runs and what they keep in memory (src/jobs). */
  jobs: Jobs;
  /** Sends logged changes to webhook subscriptions (src/changes); the server starts it. */
  webhooks: WebhookSender;
  /** Announces changed feeds to the WebSub hub (WEBSUB_HUB_URL), when one is set. */
  websub: WebSub;
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
  // On PostgreSQL, other instances' writes are seen only once the change listener is connected.
  const caches = createCaches<Event, FacetsSnapshot>({
    otherWriters: options.database.dialect === 'postgres',
    maxBytes: options.config.cacheMaxBytes,
    rowBytes: mappedEventBytes,
  });
  const inbox = new Inbox({
    database: options.database,
    sources: createSources(sourceSettingsFrom(options.config)),
    defaultDurationHours: options.config.defaultDurationHours,
    // Matching cross-source duplicates at ingest compares cities through CITY_ALIASES.
    cityAliases: options.config.cityAliases,
    now,
    logger: options.logger,
    instanceId,
    // The spool answers SQLite's write lock held by another process (sqlite3, a backup, import).
    // PostgreSQL has no such lock; when its server is unreachable webhooks are answered 503 with
    // Retry-After, since instances sharing it may have no durable disk of their own.
    spoolDirectory:
      options.database.dialect === 'sqlite' ? spoolDirectoryFor(options.config.databasePath) : null,
  });
  const webhooks = new WebhookSender({
    database: options.database,
    logger: options.logger,
    now,
    instanceId,
    publicUrl: options.config.publicUrl,
    timeZone: options.config.timeZone,
    cityAliases: options.config.cityAliases,
    retryBaseMs: options.config.webhookRetryBaseMs,
    timeoutMs: options.config.webhookTimeoutMs,
  });
  // Cached renderings must not outlive the rows processing changed.
  inbox.on('eventsChanged', (change) => caches.dataVersion.bump(change));
  // Changes are logged in the transaction that made them: the sender may send them now.
  inbox.on('eventsChanged', () => webhooks.notify());
  const websub = new WebSub({ ...options.config.websub, logger: options.logger, now });
  // Only the instance that processed a change announces it: other instances never see the event.
  inbox.on('eventsChanged', () => websub.changed());
  return {
    config: options.config,
    database: options.database,
    logger: options.logger,
    instanceId,
    now,
    caches,
    inbox,
    jobs: new Jobs(options.logger, now),
    webhooks,
    websub,
  };
}
