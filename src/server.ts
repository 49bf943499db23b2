import http from 'node:http';
import type { Express } from 'express';
import type { AppContext } from './context.js';
import { followEventsChanged, type ChangeListener } from './cache/events-changed.js';
import {
  checkPostgresReachable,
  migrateToLatest,
  openDatabase,
  SERVER_BUSY_TIMEOUT_MS,
} from './db/connection.js';
import { startCheckpointer, type Checkpointer } from './db/checkpointer.js';
import { checkIntegrity } from './db/integrity.js';
import { settleInstallationIdentity, type InstallationIdentity } from './db/installation.js';
import type { Config } from './config.js';
import type { Logger } from 'pino';
import { createContext } from './context.js';
import { createApp } from './app.js';
import { announcedFeedTopics, createRequestFilters } from './http/feed-handlers.js';
import { createMetrics } from './http/metrics.js';
import { removeAbandonedPartials } from './jobs/backup.js';
import { startScheduler } from './jobs/scheduler.js';

/** How often an instance on PostgreSQL looks for deliveries left pending by another. */
const PENDING_SWEEP_MS = 5_000;
/** Time kept at the end of SHUTDOWN_TIMEOUT_SECONDS to stop processing and close the database. */
const CLOSE_MARGIN_MS = 750;

export interface RunningServer {
  ctx: AppContext;
  app: Express;
  server: http.Server;
  url: string;
  /**
   * Stops accepting connections, processes what was acknowledged (within SHUTDOWN_TIMEOUT_SECONDS;
   * the rest stays pending for the next start), stops jobs, closes the database.
   */
  close(): Promise<void>;
}

/**
 * Opens and migrates the database, settles the installation's identity (config.identity),
 * builds the app and listens; used by main.ts and by tests.
 */
export async function startServer(options: {
  config: Config;
  logger: Logger;
  now?: () => Date;
  port?: number;
  host?: string;
  /**
   * Whether cached renderings follow writes other processes make to the SQLite file (default
   * true); the bench turns it off to measure what the check costs.
   */
  followFileWrites?: boolean;
}): Promise<RunningServer> {
  const database = openDatabase(options.config);
  let identity: InstallationIdentity;
  try {
    // A clear error before the first query: which server could not be reached, and why.
    if (database.dialect === 'postgres') await checkPostgresReachable(database);
    await migrateToLatest(database.db);
    identity = await settleInstallationIdentity(database.db, {
      publicHost: options.config.publicHost,
      uidDomain: options.config.uidDomain,
      now: (options.now ?? (() => new Date()))(),
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  if (database.dialect === 'sqlite') {
    const removed = removeAbandonedPartials(options.config.backupDir);
    if (removed.length > 0)
      options.logger.info({ removed }, 'backup: removed files of backups killed half-way');
  }
  const integrity = checkIntegrity(database, 'quick', (options.now ?? (() => new Date()))());
  if (integrity && integrity.problems.length > 0) {
    options.logger.error(
      { problems: integrity.problems },
      'db: the database file is damaged (PRAGMA quick_check); serving degraded: restore a backup',
    );
  }
  // Starting may wait for a lock; serving must not (see SERVER_BUSY_TIMEOUT_MS).
  let checkpointer: Checkpointer | null = null;
  if (database.dialect === 'sqlite') {
    database.sqlite.pragma(`busy_timeout = ${SERVER_BUSY_TIMEOUT_MS}`);
    if (database.path !== ':memory:') checkpointer = startCheckpointer(database);
  }
  const ctx = createContext({
    config: { ...options.config, identity },
    database,
    logger: options.logger,
    now: options.now,
  });
  let listener: ChangeListener | null = null;
  let sweep: NodeJS.Timeout | undefined;
  if (database.dialect === 'sqlite' && options.followFileWrites !== false) {
    // The CLI's replay, import or prune write the same file from another process.
    ctx.caches.dataVersion.followFileWrites(() => database.dataVersion());
  }
  if (database.dialect === 'postgres') {
    listener = followEventsChanged(database.connection, {
      instanceId: ctx.instanceId,
      logger: options.logger,
      dataVersion: ctx.caches.dataVersion,
    });
    // Deliveries acknowledged by an instance that died before processing them wait for another.
    sweep = setInterval(() => ctx.inbox.notify(), PENDING_SWEEP_MS);
    sweep.unref();
  }
  const metrics = createMetrics(ctx);
  ctx.inbox.on('processed', (processed) => metrics.observeProcessed(processed));
  ctx.webhooks.on('attempted', (attempt) => metrics.observeWebhookAttempt(attempt));
  // Once shutdown began, /healthz answers 503 so load balancers see the instance leave.
  let stopping = false;
  const filters = createRequestFilters(ctx);
  const app = createApp(ctx, { metrics, isStopping: () => stopping }, filters);
  ctx.websub.on('pinged', (outcome) => metrics.websubPings.inc({ outcome }));
  ctx.websub.start(announcedFeedTopics(ctx, filters));
  const server = http.createServer(app);
  // Slow or idle clients cannot hold connections forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? options.config.port, options.host ?? options.config.host, () =>
      resolve(),
    );
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.config.port;
  // Deliveries acknowledged before a crash or restart are processed now, those spooled while the
  // database was busy first moved into the inbox (they were acknowledged after those already in it).
  const leftInSpool = await ctx.inbox.importSpooled();
  if (leftInSpool > 0) ctx.inbox.resumeSpoolImport();
  // Changes logged but not yet sent to webhook subscribers are sent.
  ctx.inbox.notify();
  await ctx.webhooks.start();
  const scheduler = options.config.jobsEnabled ? startScheduler(ctx) : null;
  let closing: Promise<void> | null = null;
  return {
    ctx,
    app,
    server,
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= (async () => {
        // The last moments are kept for stopping processing and closing the database: main.ts
        // exits at SHUTDOWN_TIMEOUT_SECONDS whatever happens.
        const deadline =
          Date.now() + Math.max(0, options.config.shutdownTimeoutMs - CLOSE_MARGIN_MS);
        // Load balancers see the instance leave at once; clients on kept-alive connections are
        // told to reconnect (to another instance), so they cannot hold shutdown open.
        stopping = true;
        server.prependListener('request', (_req, res: http.ServerResponse) =>
          res.setHeader('Connection', 'close'),
        );
        const jobsStopped = scheduler?.stop();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (!(await settlesBefore(closed, deadline))) {
          server.closeAllConnections();
          await closed;
        }
        try {
          ctx.inbox.notify();
          await settlesBefore(ctx.inbox.idle(), deadline);
          // Processing stops at its next pause (milliseconds away); what is unfinished stays
          // pending, its attempt counted.
          await ctx.inbox.stop();
        } catch (error) {
          // The database must still be closed; whatever stayed pending is processed on the next start.
          ctx.logger.error(
            { err: error },
            'marquee: processing stopped with an error during shutdown',
          );
          await ctx.inbox.stop().catch(() => undefined);
        }
        await jobsStopped;
        await settlesBefore(ctx.websub.stop(), deadline);
        await settlesBefore(ctx.webhooks.stop(), deadline);
        clearInterval(sweep);
        await listener?.close();
        await checkpointer?.stop();
        await database.close();
      })();
      return closing;
    },
  };
}

/** Waits for `promise` until `deadline` (epoch ms); true when it settled in time. */
async function settlesBefore(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
