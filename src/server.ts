import http from 'node:http';
import type { Express } from 'express';
import type { AppContext } from './context.js';
import { migrateToLatest, openDatabase } from './db/connection.js';
import type { Config } from './config.js';
import type { Logger } from 'pino';
import { createContext } from './context.js';
import { createApp } from './app.js';

export interface RunningServer {
  ctx: AppContext;
  app: Express;
  server: http.Server;
  url: string;
  /** Stops accepting connections, finishes processing, closes the database. */
  close(): Promise<void>;
}

/** Opens and migrates the database, builds the app and listens; used by main.ts and by tests. */
export async function startServer(options: {
  config: Config;
  logger: Logger;
  now?: () => Date;
  port?: number;
  host?: string;
}): Promise<RunningServer> {
  const database = openDatabase(options.config.databasePath);
  await migrateToLatest(database.db);
  const ctx = createContext({ config: options.config, database, logger: options.logger, now: options.now });
  const app = createApp(ctx);
  const server = http.createServer(app);
  // Slow or idle clients cannot hold connections forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? options.config.port, options.host ?? options.config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.config.port;
  // Deliveries acknowledged before a crash or restart are processed now.
  ctx.processor.notify();
  let closing: Promise<void> | null = null;
  return {
    ctx,
    app,
    server,
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await ctx.processor.stop();
        await closed;
        await database.close();
      })();
      return closing;
    },
  };
}
