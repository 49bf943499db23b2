import fs from 'node:fs';
import { unsupportedNodeMessage } from './supported-node.js';

// Checked before anything else is loaded: on an older Node the native database driver crashes
// the process instead of failing with a message.
const unsupported = unsupportedNodeMessage(process.versions.node);
if (unsupported !== null) {
  console.error(unsupported);
  process.exit(1);
}
const { ConfigError, loadConfig, loadEnvFile } = await import('./config.js');
const { createLogger } = await import('./logger.js');
const { startServer } = await import('./server.js');

/** Process entry: configuration, database, HTTP server, jobs, and an orderly shutdown. */
async function main(): Promise<void> {
  let config;
  try {
    // Settings from .env in the working directory; the process environment wins.
    loadEnvFile();
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config);
  const running = await startServer({ config, logger });
  if (isLoopback(config.host) && fs.existsSync('/.dockerenv')) {
    // The container answers its own health check and nothing else: the published port is dead.
    logger.warn(
      { host: config.host },
      'marquee: HOST is a loopback address inside a container; nothing outside it can connect: set HOST=0.0.0.0 (see docker.env.example)',
    );
  }
  logger.info(
    {
      url: config.publicUrl,
      listen: `${config.host}:${config.port}`,
      database: running.ctx.database.location,
      stager: config.stager.signingKeys.length > 0 ? 'configured' : 'not configured',
      eventport:
        config.eventport.tokens.length + config.eventport.basicAuth.length > 0
          ? 'configured'
          : 'not configured',
    },
    'marquee: listening',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'marquee: second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'marquee: shutting down');
    // The promise of SHUTDOWN_TIMEOUT_SECONDS holds even if closing hangs: what was acknowledged
    // is on disk, and what was not processed is processed at the next start.
    setTimeout(() => {
      logger.error('marquee: shutdown took longer than SHUTDOWN_TIMEOUT_SECONDS; exiting now');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    running
      .close()
      .then(() => {
        logger.info('marquee: stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'marquee: shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Whether `host` is reachable only from the same machine (or container). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

main().catch((error: unknown) => {
  console.error('marquee: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
