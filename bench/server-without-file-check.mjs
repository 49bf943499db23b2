// Marquee (the built app) with the check for other processes' writes to the SQLite file turned
// off: the bench's "data version check" row serves the same cached feed from this and from
// dist/main.js side by side, so the difference is the check's cost per request.
import process from 'node:process';
import { loadConfig } from '../dist/config.js';
import { createLogger } from '../dist/logger.js';
import { startServer } from '../dist/server.js';

const config = loadConfig();
const running = await startServer({
  config,
  logger: createLogger(config),
  followFileWrites: false,
});
process.on('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
