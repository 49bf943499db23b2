/**
 * The schema watch's cost on a large ORGANIZATION_SYNC: the walk of the payload alone, and the
 * whole processing (POST to processed) with the watch and with it switched off, on SQLite.
 * Run: npx tsx bench/schema-watch.ts [--events 10000] [--rounds 5]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { createSources, sourceSettingsFrom } from '../src/sources/index.js';
import { SchemaObservation, type SchemaWatcher } from '../src/sources/schema-watcher.js';
import { BENCH_SECRETS, deliverStager, stagerEvent, stagerMessage } from './payloads.js';

const { values: options } = parseArgs({
  options: {
    events: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
  },
});
const EVENTS = Number(options.events);
const ROUNDS = Number(options.rounds);

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A sync whose events carry, when `surprising`, three keys and a status the adapter does not know. */
function syncBody(surprising: boolean): Buffer {
  const events = [];
  for (let id = 1; id <= EVENTS; id += 1) {
    const event = stagerEvent(id);
    events.push(
      surprising
        ? { ...event, status: 'POSTPONED', venue: { geo: { alt: id } }, promoter: 'X' }
        : event,
    );
  }
  return stagerMessage('ORGANIZATION_SYNC', 1, events);
}

const OFF: SchemaWatcher = { observe: () => new SchemaObservation(), knows: () => true };

async function processOnce(body: Buffer, watch: boolean): Promise<number> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-watch-bench-'));
  const config = loadConfig({
    DATABASE_PATH: path.join(folder, 'marquee.db'),
    STAGER_SIGNING_KEYS: BENCH_SECRETS.stagerKey,
    PUBLIC_URL: 'https://events.example.org',
    JOBS_ENABLED: 'false',
    LOG_LEVEL: 'warn',
  });
  const running = await startServer({
    config,
    logger: createLogger(config),
    port: 0,
    host: '127.0.0.1',
  });
  const stager = running.ctx.inbox.sources.stager as { watch: SchemaWatcher };
  if (!watch) stager.watch = OFF;
  try {
    const started = performance.now();
    await deliverStager(running.url, body, 'sync');
    await running.ctx.inbox.idle();
    return performance.now() - started;
  } finally {
    await running.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

const { stager } = createSources(sourceSettingsFrom(loadConfig({})));
for (const surprising of [false, true]) {
  const body = syncBody(surprising);
  const payload = JSON.parse(body.toString('utf8')) as unknown;
  const walks: number[] = [];
  for (let round = 0; round < ROUNDS * 4; round += 1) {
    const started = performance.now();
    stager.watch.observe(payload);
    walks.push(performance.now() - started);
  }
  const withWatch: number[] = [];
  const without: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternated, so that a busy moment of the machine weighs on both alike.
    without.push(await processOnce(body, false));
    withWatch.push(await processOnce(body, true));
  }
  const label = surprising
    ? 'with 3 unknown keys and an unknown status per event'
    : 'of known keys only';
  console.log(
    `ORGANIZATION_SYNC of ${EVENTS} events ${label} (${(body.length / 1e6).toFixed(1)} MB):`,
  );
  console.log(`  walk of the payload alone: median ${median(walks).toFixed(1)} ms`);
  console.log(
    `  POST to processed: without the watch median ${median(without).toFixed(0)} ms [${without.map((v) => v.toFixed(0)).join(', ')}], ` +
      `with it median ${median(withWatch).toFixed(0)} ms [${withWatch.map((v) => v.toFixed(0)).join(', ')}]`,
  );
}
