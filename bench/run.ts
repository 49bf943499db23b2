import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { migrateToLatest, openPostgresDatabase, openSqliteDatabase } from '../src/db/connection.js';
import type { NewEventRow } from '../src/db/schema.js';
import { contentHash, toEventRow } from '../src/events/ingest.js';
import { loadConfig } from '../src/config.js';
import { createSources, sourceSettingsFrom } from '../src/sources/index.js';
import { createBenchDatabase, describePostgres, type BenchDatabase } from './database.js';
import { measureDuplicateMatching } from './duplicates.js';
import { FEEDS } from './feeds.js';
import { measureIcsSize } from './ics-size.js';
import { measureRadius } from './radius.js';
import { measureWebhooks } from './webhooks.js';
import { measureRenders, type RenderFigures } from './render.js';
import {
  BENCH_SECRETS,
  eventportPost,
  deliverStager,
  signStager,
  stagerEvent,
  stagerMessage,
  stagerResync,
  stagerSync,
  stagerUpdateRequests,
} from './payloads.js';
import { startBaseline, startMarquee, tempDir, type ServerProcess } from './processes.js';
import { writeReport, type Row } from './report.js';

/**
 * `npm run bench`: Marquee against a bare Express 5 app in the same run on the same machine.
 * Every figure is a ratio against a baseline measured side by side, with absolute numbers for
 * context. `--quick` scales everything down. `--postgres URL` (or BENCH_DATABASE_URL) runs the
 * same measures with Marquee on PostgreSQL (a fresh database per section on that server, dropped
 * afterwards), plus two instances against one.
 */

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    'sync-events': { type: 'string' },
    'memory-events': { type: 'string' },
    'freeze-events': { type: 'string' },
    only: { type: 'string' },
    postgres: { type: 'string' },
  },
});

const POSTGRES_URL = options.postgres ?? process.env.BENCH_DATABASE_URL ?? null;

const quick = options.quick ?? false;
const DURATION = Number(options.duration ?? (quick ? 1 : 2));
const SYNC_EVENTS = Number(options['sync-events'] ?? (quick ? 2000 : 10_000));
const MEMORY_EVENTS = Number(options['memory-events'] ?? (quick ? 20_000 : 100_000));
const FREEZE_EVENTS = Number(options['freeze-events'] ?? (quick ? 4_000 : 40_000));
const CONNECTIONS = 10;
// Short runs in several alternating rounds: this machine's speed drifts over seconds, and a
// drift between two long runs would move the ratio more than anything measured.
const ROUNDS = quick ? 1 : 3;

const SECTIONS = [
  'sync',
  'ingest',
  'warm',
  'file-check',
  '304',
  'busy',
  'storm',
  'freeze',
  'render',
  'ics-size',
  'memory',
  'radius',
  'webhooks',
];
// Several instances share a database only on PostgreSQL; the file check exists only on SQLite.
if (POSTGRES_URL) SECTIONS.push('scale');
if (POSTGRES_URL) SECTIONS.splice(SECTIONS.indexOf('file-check'), 1);
const ONLY = new Set((options.only ?? SECTIONS.join(',')).split(','));
const unknownSections = [...ONLY].filter((section) => !SECTIONS.includes(section));
if (unknownSections.length > 0) {
  console.error(
    `bench: unknown section ${unknownSections.join(', ')} (known: ${SECTIONS.join(', ')}; scale needs --postgres)`,
  );
  process.exit(2);
}
const rows: Row[] = [];
const benchStarted = performance.now();
/** Progress on stderr, with the seconds since the start: where the run's time goes. */
const log = (message: string) =>
  process.stderr.write(
    `[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
  );

interface LoadResult {
  rps: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
}

async function load(options: autocannon.Options): Promise<LoadResult> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {}))
    statuses[code] = (stat as { count: number }).count;
  // Completed requests over elapsed time: autocannon's `requests.average` is a mean of per-second
  // samples, which a run of a fixed number of requests skews (its last second is partial).
  return {
    rps: result.requests.total / result.duration,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statuses,
  };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return Number.isInteger(middle)
    ? ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
    : (sorted[Math.floor(middle)] as number);
};

function sumOf<K extends string>(list: readonly Record<K, number>[], key: K): number {
  return list.reduce((sum, item) => sum + item[key], 0);
}

const meanOf = <K extends string>(list: readonly Record<K, number>[], key: K) =>
  sumOf(list, key) / list.length;

/** The median of the rounds' throughput ratios: round i of `numerators` over round i of `denominators`. */
const medianRatio = (
  numerators: readonly { rps: number }[],
  denominators: readonly { rps: number }[],
) =>
  median(
    numerators.map((result, round) => result.rps / (denominators[round] as { rps: number }).rps),
  );

/** Runs each of `runs` in turn, ROUNDS times over; each run's results in round order. */
async function alternating(runs: readonly (() => Promise<LoadResult>)[]): Promise<LoadResult[][]> {
  const results: LoadResult[][] = runs.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [index, run] of runs.entries()) (results[index] as LoadResult[]).push(await run());
  }
  return results;
}

/** The mean throughput and p99 latency of a run's rounds. */
const summaryOf = (results: readonly LoadResult[]) => ({
  rps: meanOf(results, 'rps'),
  p99: meanOf(results, 'p99'),
});

/** Marquee's rounds: means, and the counts over all rounds. */
const marqueeSummaryOf = (results: readonly LoadResult[]) => ({
  ...summaryOf(results),
  ok: sumOf(results, 'ok'),
  non2xx: sumOf(results, 'non2xx'),
  errors: sumOf(results, 'errors'),
  statuses: results.map((r) => r.statuses),
});

/**
 * Runs baseline and Marquee alternately ROUNDS times; returns the mean of each, and as the ratio
 * the median of the rounds' ratios: a round's two runs are seconds apart, the rounds minutes.
 */
async function sideBySide(baseline: () => Promise<LoadResult>, marquee: () => Promise<LoadResult>) {
  const [b, m] = (await alternating([baseline, marquee])) as [LoadResult[], LoadResult[]];
  return { ratio: medianRatio(m, b), baseline: summaryOf(b), marquee: marqueeSummaryOf(m) };
}

async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await check()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`bench: condition not met within ${timeoutMs} ms`);
}

async function apiTotal(server: ServerProcess, query: string): Promise<number> {
  const response = await fetch(`${server.url}/api/events?limit=1&${query}`);
  return ((await response.json()) as { total: number }).total;
}

async function measureIngest(
  marquee: ServerProcess,
  baseline: ServerProcess,
  database: BenchDatabase,
) {
  // A fixed number of requests, not a duration: every request sent is answered, so the count of
  // 2xx answers can be compared exactly with the count of stored deliveries. Every body differs,
  // in every round, as real deliveries do: a repeated body is recognised and skips processing.
  const amount = quick ? 1000 : 2500;
  const stagerBodies = (round: number) =>
    Array.from({ length: amount }, (_, index) =>
      stagerMessage('UPDATE_EVENTS', 9000, [stagerEvent(500_000 + round * amount + index)]),
    );
  const eventportBodies = (round: number) =>
    Array.from({ length: amount }, (_, index) => eventportPost(round * amount + index));
  const cycle = (
    bodies: Buffer[],
    headers: (body: Buffer) => Record<string, string>,
    path: string,
  ): autocannon.Request[] =>
    bodies.map((body) => ({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json', ...headers(body) },
      body: body.toString(),
    }));

  for (const [name, bodies, headers, path] of [
    [
      'Stager UPDATE_EVENTS (1 event)',
      stagerBodies,
      (body: Buffer) => ({ 'x-signature': signStager(body) }),
      '/webhooks/stager',
    ],
    [
      'Eventport post',
      eventportBodies,
      () => ({}),
      `/webhooks/eventport?accessToken=${BENCH_SECRETS.eventportToken}`,
    ],
  ] as const) {
    log(`ingest: ${name}`);
    const before = (await database.countDeliveries()).total;
    let round = 0;
    // The baselines store every body alike: the first round's serve all of theirs.
    const baselineBodies = bodies(0);
    // The baselines run for the usual duration: a fixed count would be done in about a second.
    const [plain, durable, own] = (await alternating([
      () =>
        load({
          url: `${baseline.url}/ingest`,
          requests: cycle(baselineBodies, headers, '/ingest'),
          duration: DURATION,
        }),
      () =>
        load({
          url: `${baseline.url}/durable`,
          requests: cycle(baselineBodies, headers, '/durable'),
          duration: DURATION,
        }),
      () => load({ url: marquee.url, requests: cycle(bodies(round++), headers, path), amount }),
    ])) as [LoadResult[], LoadResult[], LoadResult[]];
    const processedAfterMs = await waitUntil(
      async () => (await database.countDeliveries()).pending === 0,
      60_000,
    );
    const stored = (await database.countDeliveries()).total - before;
    const result = marqueeSummaryOf(own);
    const complete =
      stored === result.ok &&
      result.non2xx === 0 &&
      result.errors === 0 &&
      processedAfterMs <= 2000;
    const note = `2xx ${result.ok}, stored ${stored}, non-2xx ${result.non2xx}, all processed ${processedAfterMs.toFixed(0)} ms after the last (target <= 2,000 ms)`;
    const marqueeFigure = `${result.rps.toFixed(0)} req/s, p99 ${result.p99.toFixed(1)} ms`;
    const baselineFigure = (summary: { rps: number; p99: number }, what: string) =>
      `${summary.rps.toFixed(0)} req/s, p99 ${summary.p99.toFixed(1)} ms (${what})`;
    const durableRatio = medianRatio(own, durable);
    rows.push({
      measure: `ingest: ${name}, ${CONNECTIONS} connections, vs bare Express storing each body durably (group commit, synchronous=FULL)`,
      marquee: marqueeFigure,
      baseline: baselineFigure(summaryOf(durable), 'durable insert'),
      ratio: durableRatio,
      target: '>= 0.7x',
      pass: durableRatio >= 0.7 && complete,
      note,
    });
    const plainRatio = medianRatio(own, plain);
    rows.push({
      measure: `ingest: ${name}, ${CONNECTIONS} connections, vs bare Express answering 202`,
      marquee: marqueeFigure,
      baseline: baselineFigure(summaryOf(plain), 'plain POST'),
      ratio: plainRatio,
      target: '>= 0.5x',
      pass: plainRatio >= 0.5 && complete,
      note,
    });
  }
}

async function measureSync(marquee: ServerProcess, database: BenchDatabase) {
  log(`sync: ORGANIZATION_SYNC with ${SYNC_EVENTS} events`);
  const body = stagerSync(1, 1, SYNC_EVENTS);
  const started = performance.now();
  await deliverStager(marquee.url, body, 'sync');
  const acknowledged = performance.now() - started;
  await waitUntil(async () => (await apiTotal(marquee, 'organizer=1')) === SYNC_EVENTS, 120_000, 5);
  const visible = performance.now() - started;

  // Baseline: the same normalized rows, inserted with raw better-sqlite3 in one transaction.
  const config = loadConfig({});
  const { stager } = createSources(sourceSettingsFrom(config));
  const message = stager.interpret(JSON.parse(body.toString()), { receivedAt: new Date() });
  if (message.kind !== 'sync') throw new Error('bench: sync payload not read as a sync');
  const now = new Date();
  const eventRows = message.events.map((event) =>
    toEventRow(event, contentHash(event), undefined, {
      now,
      receivedAt: now,
      defaultDurationHours: 3,
    }),
  );
  const raw = POSTGRES_URL
    ? await rawPostgresInsert(eventRows, POSTGRES_URL)
    : await rawSqliteInsert(eventRows);
  const ratio = visible / raw;
  rows.push({
    measure: `ORGANIZATION_SYNC of ${SYNC_EVENTS} events: POST to all visible in /api/events`,
    marquee: `${(visible / 1000).toFixed(2)} s (202 after ${acknowledged.toFixed(0)} ms)`,
    baseline: `${(raw / 1000).toFixed(3)} s raw insert${POSTGRES_URL ? ' (pg, 500-row statements)' : ''}`,
    ratio,
    target: '<= 3x',
    pass: ratio <= 3,
    note: `body ${(body.length / 1e6).toFixed(1)} MB`,
    lowerIsBetter: true,
  });
  rows.push(await measureDuplicateMatching(eventRows, visible));

  // The nightly case: the same events again (copies unchanged since they were stored), then
  // with 1% of them changed. Processed means the inbox is empty again.
  const resync = async (body: Buffer): Promise<number> => {
    const started = performance.now();
    await deliverStager(marquee.url, body, 'resync');
    await waitUntil(async () => (await database.countDeliveries()).pending === 0, 120_000, 5);
    return performance.now() - started;
  };
  for (const [name, revisionOf, target] of [
    ['the same events again', () => 0, 1],
    ['1% of the events changed', (id: number) => (id % 100 === 0 ? 1 : 0), 1.5],
  ] as const) {
    log(`sync: ${name}`);
    const again = stagerResync(1, 1, SYNC_EVENTS, revisionOf);
    const ms = await resync(again);
    const changed = (await apiTotal(marquee, 'organizer=1&q=rev')) as number;
    rows.push({
      measure: `ORGANIZATION_SYNC of ${SYNC_EVENTS} events, ${name}: POST to processed`,
      marquee: `${(ms / 1000).toFixed(2)} s`,
      baseline: `${(raw / 1000).toFixed(3)} s raw insert of all`,
      ratio: ms / raw,
      target: `<= ${target}x`,
      pass: ms / raw <= target && (await apiTotal(marquee, 'organizer=1')) === SYNC_EVENTS,
      note: `${changed} events changed in all, every event still listed`,
      lowerIsBetter: true,
    });
  }
}

/** The sync baseline on SQLite: the rows inserted with raw better-sqlite3 in one transaction. */
async function rawSqliteInsert(eventRows: NewEventRow[]): Promise<number> {
  const dir = tempDir('raw');
  const handle = openSqliteDatabase(path.join(dir, 'raw.db'));
  try {
    await migrateToLatest(handle.db);
    const columns = Object.keys(eventRows[0] as object);
    const insert = handle.sqlite.prepare(
      `insert into events (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    const started = performance.now();
    handle.sqlite.transaction(() => {
      for (const row of eventRows) insert.run(row);
    })();
    return performance.now() - started;
  } finally {
    await handle.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The sync baseline on PostgreSQL: the rows inserted with raw `pg` in one transaction, 500 rows
 * per statement (one round trip per row would measure the network, not the database).
 */
async function rawPostgresInsert(eventRows: NewEventRow[], serverUrl: string): Promise<number> {
  const database = await createBenchDatabase('raw', serverUrl);
  try {
    const url = database.env.DATABASE_URL as string;
    const handle = openPostgresDatabase(url, 1);
    try {
      await migrateToLatest(handle.db);
    } finally {
      await handle.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const columns = Object.keys(eventRows[0] as object);
      const rowsPerStatement = 500;
      const started = performance.now();
      await client.query('begin');
      for (let first = 0; first < eventRows.length; first += rowsPerStatement) {
        const chunk = eventRows.slice(first, first + rowsPerStatement);
        const values = chunk.flatMap((row) =>
          columns.map((column) => (row as unknown as Record<string, unknown>)[column]),
        );
        const tuples = chunk.map(
          (_, index) =>
            `(${columns.map((_column, offset) => `$${index * columns.length + offset + 1}`).join(', ')})`,
        );
        await client.query(
          `insert into events (${columns.join(', ')}) values ${tuples.join(', ')}`,
          values,
        );
      }
      await client.query('commit');
      return performance.now() - started;
    } finally {
      await client.end();
    }
  } finally {
    await database.drop();
  }
}

async function measureWarmFeeds(marquee: ServerProcess, baseline: ServerProcess) {
  for (const [name, path] of FEEDS) {
    const first = await fetch(`${marquee.url}${path}`);
    const body = Buffer.from(await first.arrayBuffer());
    const size = body.length;
    await fetch(`${baseline.url}/fixed/${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': first.headers.get('content-type') ?? 'text/plain' },
      body,
    });
    if (first.status !== 200) {
      rows.push({
        measure: `warm ${name}`,
        marquee: `HTTP ${first.status}`,
        baseline: '',
        ratio: Number.NaN,
        target: '>= 0.7x',
        pass: false,
        note: 'not served',
      });
      continue;
    }
    log(`warm feed: ${name} (${size} bytes)`);
    const result = await sideBySide(
      () => load({ url: `${baseline.url}/fixed/${encodeURIComponent(name)}` }),
      () => load({ url: `${marquee.url}${path}` }),
    );
    const { ratio } = result;
    rows.push({
      measure: `warm cached ${name} (${(size / 1024).toFixed(0)} KB) vs the same bytes, ${CONNECTIONS} connections`,
      marquee: `${result.marquee.rps.toFixed(0)} req/s`,
      baseline: `${result.baseline.rps.toFixed(0)} req/s`,
      ratio,
      target: '>= 0.7x',
      pass: ratio >= 0.7 && result.marquee.non2xx === 0,
      note: `p99 ${result.marquee.p99.toFixed(1)} vs ${result.baseline.p99.toFixed(1)} ms`,
    });
  }
}

/**
 * SQLite: what checking `PRAGMA data_version` on every request (to see writes other processes
 * make to the file) costs a cached feed, the cheapest request and so the one it weighs most on.
 * The same feed from the same database, served by Marquee with the check and by Marquee without
 * it, in alternating rounds.
 */
async function measureFileCheck(marquee: ServerProcess, database: BenchDatabase) {
  log('data version check: cached feed with and without it');
  const unchecked = await startMarquee(database.env, [], 'bench/server-without-file-check.mjs');
  try {
    const [name, path] = FEEDS[1];
    await fetch(`${unchecked.url}${path}`).then((response) => response.arrayBuffer());
    await fetch(`${marquee.url}${path}`).then((response) => response.arrayBuffer());
    const result = await sideBySide(
      () => load({ url: `${unchecked.url}${path}` }),
      () => load({ url: `${marquee.url}${path}` }),
    );
    const { ratio } = result;
    const perCheck = timeOneCheck(database.env.DATABASE_PATH as string);
    rows.push({
      measure: `warm cached ${name} with the check for other processes' writes (PRAGMA data_version) vs without, ${CONNECTIONS} connections`,
      marquee: `${result.marquee.rps.toFixed(0)} req/s`,
      baseline: `${result.baseline.rps.toFixed(0)} req/s without the check`,
      ratio,
      target: '>= 0.95x',
      pass: ratio >= 0.95 && result.marquee.non2xx === 0,
      note: `p99 ${result.marquee.p99.toFixed(1)} vs ${result.baseline.p99.toFixed(1)} ms; one check ${perCheck.toFixed(2)} µs in process (${(perCheck / (1e6 / result.baseline.rps)) * 100 < 0.01 ? '< 0.01' : ((perCheck / (1e6 / result.baseline.rps)) * 100).toFixed(2)}% of a request's time at the unchecked rate)`,
    });
  } finally {
    await unchecked.stop();
  }
}

/** Microseconds one `PRAGMA data_version` check takes on the bench's database, in process. */
function timeOneCheck(databasePath: string): number {
  const handle = openSqliteDatabase(databasePath);
  try {
    const checks = 100_000;
    let sum = 0;
    for (let i = 0; i < 1000; i += 1) sum += handle.dataVersion();
    const started = performance.now();
    for (let i = 0; i < checks; i += 1) sum += handle.dataVersion();
    const micros = ((performance.now() - started) * 1000) / checks;
    if (sum < 0) throw new Error('bench: negative data version');
    return micros;
  } finally {
    void handle.close();
  }
}

async function measureNotModified(marquee: ServerProcess, baseline: ServerProcess) {
  log('conditional GET (304)');
  const path = '/events.ics?city=Amsterdam&limit=1000';
  const etag = (await fetch(`${marquee.url}${path}`)).headers.get('etag') ?? '';
  const result = await sideBySide(
    () => load({ url: `${baseline.url}/empty` }),
    () => load({ url: `${marquee.url}${path}`, headers: { 'if-none-match': etag } }),
  );
  const statuses = result.marquee.statuses.flatMap((entry) => Object.keys(entry));
  const { ratio } = result;
  rows.push({
    measure: `conditional GET answered 304, ${CONNECTIONS} connections`,
    marquee: `${result.marquee.rps.toFixed(0)} req/s`,
    baseline: `${result.baseline.rps.toFixed(0)} req/s (empty 200)`,
    ratio,
    target: '>= 0.7x',
    pass: ratio >= 0.7 && statuses.every((status) => status === '304'),
    note: `statuses: ${[...new Set(statuses)].join(', ')}`,
  });
}

async function measureFeedUnderIngest(marquee: ServerProcess) {
  log('feed while deliveries arrive at 200/s');
  const path = '/events.rss?city=Amsterdam&limit=1000';
  // Distinct in every round: a repeated body is recognised and writes nothing.
  const perRound = Math.ceil(200 * DURATION);
  const quiet: LoadResult[] = [];
  const busy: LoadResult[] = [];
  const deliveries: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    quiet.push(await load({ url: `${marquee.url}${path}` }));
    const requests = stagerUpdateRequests(9100, 600_000 + round * perRound, perRound);
    const [feed, posts] = await Promise.all([
      load({ url: `${marquee.url}${path}` }),
      load({ url: marquee.url, requests, connections: 4, overallRate: 200 }),
    ]);
    busy.push(feed);
    deliveries.push(posts);
  }
  const ratio = medianRatio(busy, quiet);
  const delivered = sumOf(deliveries, 'ok');
  rows.push({
    measure: 'warm RSS req/s while deliveries arrive at 200/s (writes invalidate the cache)',
    marquee: `${meanOf(busy, 'rps').toFixed(0)} req/s (${(delivered / (ROUNDS * DURATION)).toFixed(0)} deliveries/s)`,
    baseline: `${meanOf(quiet, 'rps').toFixed(0)} req/s quiet`,
    ratio,
    target: '>= 0.5x',
    pass:
      ratio >= 0.5 &&
      [...busy, ...deliveries].every((result) => result.non2xx === 0 && result.errors === 0),
    note: `p99 ${meanOf(busy, 'p99').toFixed(1)} ms`,
  });
}

/**
 * A storm of distinct filters, each a cold render, beside readers of one cached feed: the cached
 * feed's rate and p99 during the storm against the same readers alone, and how far the
 * server's resident set grows.
 */
async function measureFilterStorm(marquee: ServerProcess) {
  const amount = quick ? 500 : 2000;
  log(`storm: ${amount} distinct filters beside a cached feed`);
  const cachedPath = '/events.ics?city=Amsterdam&limit=1000';
  await fetch(`${marquee.url}${cachedPath}`).then((response) => response.arrayBuffer());
  const formats = ['/events.ics', '/events.rss', '/events.json', '/api/events'];
  const cities = ['Amsterdam', 'Utrecht', 'Rotterdam', 'Den Haag'];
  // Distinct per round and request: the page size and offset differ for every index.
  const stormRequests = (round: number): autocannon.Request[] =>
    Array.from({ length: amount }, (_, index) => {
      const serial = round * amount + index;
      const query = `city=${encodeURIComponent(cities[serial % cities.length] as string)}&limit=${50 + (serial % 97)}&offset=${Math.floor(serial / 97)}`;
      return { method: 'GET', path: `${formats[serial % formats.length]}?${query}` };
    });
  const rounds = quick ? 1 : 2;
  const quiet: LoadResult[] = [];
  const busy: LoadResult[] = [];
  const storms: LoadResult[] = [];
  const rssBefore = marquee.peakRssMb();
  marquee.resetPeakRss();
  const rssStart = marquee.peakRssMb();
  for (let round = 0; round < rounds; round += 1) {
    quiet.push(await load({ url: `${marquee.url}${cachedPath}` }));
    const stormStarted = performance.now();
    const storm = load({ url: marquee.url, requests: stormRequests(round), amount });
    // Readers keep polling for as long as the storm lasts.
    const readers: LoadResult[] = [];
    let stormDone = false;
    const finished = () => {
      stormDone = true;
    };
    storm.then(finished, finished);
    while (!stormDone)
      readers.push(await load({ url: `${marquee.url}${cachedPath}`, duration: 1 }));
    storms.push(await storm);
    const seconds = (performance.now() - stormStarted) / 1000;
    busy.push({
      rps: sumOf(readers, 'ok') / seconds,
      p99: Math.max(...readers.map((reader) => reader.p99)),
      ok: sumOf(readers, 'ok'),
      non2xx: sumOf(readers, 'non2xx'),
      errors: sumOf(readers, 'errors'),
      statuses: {},
    });
  }
  const growth = marquee.peakRssMb() - rssStart;
  const ratio = medianRatio(busy, quiet);
  const stormRps = meanOf(storms, 'rps');
  rows.push({
    measure: `cached ICS feed, ${CONNECTIONS} connections, while ${amount} requests with distinct filters (cold renders) arrive on ${CONNECTIONS} more, vs the feed alone`,
    marquee: `${meanOf(busy, 'rps').toFixed(0)} req/s, p99 ${meanOf(busy, 'p99').toFixed(1)} ms`,
    baseline: `${meanOf(quiet, 'rps').toFixed(0)} req/s, p99 ${meanOf(quiet, 'p99').toFixed(1)} ms quiet`,
    ratio,
    target: '>= 0.7x',
    pass:
      ratio >= 0.7 &&
      [...busy, ...quiet, ...storms].every((result) => result.non2xx === 0 && result.errors === 0),
    note: `storm: ${stormRps.toFixed(0)} cold renders/s, p99 ${meanOf(storms, 'p99').toFixed(0)} ms; ${rounds} rounds`,
  });
  rows.push({
    measure: `peak RSS growth during the distinct-filter storms (${rounds} × ${amount} filters)`,
    marquee: `${growth.toFixed(0)} MB`,
    baseline: `${rssStart.toFixed(0)} MB before (peak so far ${rssBefore.toFixed(0)} MB)`,
    ratio: growth,
    target: '< 100 MB',
    pass: growth < 100,
    note: 'VmHWM reset before the storms',
    lowerIsBetter: true,
    unit: 'MB',
  });
}

async function measureMemory() {
  log(`memory: ${MEMORY_EVENTS} stored events`);
  const database = await createBenchDatabase('memory', POSTGRES_URL);
  let marquee = await startMarquee(database.env);
  const perSync = 10_000;
  for (let first = 1, org = 1; first <= MEMORY_EVENTS; first += perSync, org += 1) {
    const body = stagerSync(org, first, Math.min(perSync, MEMORY_EVENTS - first + 1));
    await deliverStager(marquee.url, body, 'memory sync');
    await waitUntil(async () => (await database.countDeliveries()).pending === 0, 120_000, 20);
  }
  const ingestPeak = marquee.peakRssMb();
  await marquee.stop();
  marquee = await startMarquee(database.env);
  const total = await apiTotal(marquee, '');
  for (const [, feedPath] of FEEDS) {
    for (const variant of [feedPath, feedPath.split('?')[0] as string]) {
      await fetch(`${marquee.url}${variant}`).then((response) => response.arrayBuffer());
      await fetch(`${marquee.url}${variant}`, { headers: { 'accept-encoding': 'br' } }).then(
        (response) => response.arrayBuffer(),
      );
    }
  }
  const servePeak = marquee.peakRssMb();
  await marquee.stop();
  rows.push({
    measure: `peak RSS with ${total} stored events after serving every format`,
    marquee: `${servePeak.toFixed(0)} MB`,
    baseline: '',
    ratio: servePeak,
    target: '<= 250 MB',
    pass: servePeak <= 250,
    note: `peak while ingesting ${MEMORY_EVENTS / perSync} syncs of ${perSync}: ${ingestPeak.toFixed(0)} MB`,
    lowerIsBetter: true,
    unit: 'MB',
  });
  await database.drop();
}

interface SpreadResult {
  rps: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  stored: number;
  processedAfterMs: number;
}

/**
 * Sends `amount` deliveries over CONNECTIONS connections split evenly across `servers` (all on
 * `database`); throughput is answered deliveries per wall-clock second over all of them.
 */
async function spread(
  servers: ServerProcess[],
  amount: number,
  requests: autocannon.Request[],
  database: BenchDatabase,
): Promise<SpreadResult> {
  const before = (await database.countDeliveries()).total;
  const started = performance.now();
  const results = await Promise.all(
    servers.map((server) =>
      load({
        url: server.url,
        requests,
        amount: amount / servers.length,
        connections: CONNECTIONS / servers.length,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const processedAfterMs = await waitUntil(
    async () => (await database.countDeliveries()).pending === 0,
    120_000,
  );
  const sum = (key: 'ok' | 'non2xx' | 'errors') =>
    results.reduce((total, result) => total + result[key], 0);
  return {
    rps: sum('ok') / seconds,
    p99: Math.max(...results.map((result) => result.p99)),
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    stored: (await database.countDeliveries()).total - before,
    processedAfterMs,
  };
}

/**
 * PostgreSQL only: signed deliveries into two instances sharing one database, the load split
 * across their ports, against the same load into one instance alone (on a database of its own),
 * in alternating rounds.
 */
async function measureScaleOut(serverUrl: string) {
  log('scale-out: deliveries into two instances on one database vs one instance');
  // Fewer than the ingest section sends, so both setups' runs and drains fit the bench's time.
  const amount = quick ? 1000 : 1500;
  // Every body differs, in every round.
  const requestsOf = (round: number) =>
    stagerUpdateRequests(9200, 700_000 + round * amount, amount);
  const oneDatabase = await createBenchDatabase('scale_one', serverUrl);
  const twoDatabase = await createBenchDatabase('scale_two', serverUrl);
  const servers: ServerProcess[] = [];
  try {
    const single = await startMarquee(oneDatabase.env);
    servers.push(single);
    const pair = await Promise.all([startMarquee(twoDatabase.env), startMarquee(twoDatabase.env)]);
    servers.push(...pair);
    const one: SpreadResult[] = [];
    const two: SpreadResult[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      one.push(await spread([single], amount, requestsOf(round), oneDatabase));
      two.push(await spread(pair, amount, requestsOf(round), twoDatabase));
    }
    const ratio = medianRatio(two, one);
    rows.push({
      measure: `scale-out: signed deliveries into 2 instances on one database (${CONNECTIONS / 2} + ${CONNECTIONS / 2} connections) vs 1 instance (${CONNECTIONS})`,
      marquee: `${meanOf(two, 'rps').toFixed(0)} req/s, p99 ${meanOf(two, 'p99').toFixed(1)} ms`,
      baseline: `${meanOf(one, 'rps').toFixed(0)} req/s, p99 ${meanOf(one, 'p99').toFixed(1)} ms (1 instance)`,
      ratio,
      target: 'reported',
      pass: [...one, ...two].every(
        (result) => result.stored === result.ok && result.non2xx === 0 && result.errors === 0,
      ),
      note:
        `${ROUNDS} × ${amount} deliveries each; 2 instances: 2xx ${sumOf(two, 'ok')}, stored ${sumOf(two, 'stored')}, ` +
        `all processed ${meanOf(two, 'processedAfterMs').toFixed(0)} ms after the last; 1 instance: 2xx ${sumOf(one, 'ok')}, ` +
        `stored ${sumOf(one, 'stored')}, all processed ${meanOf(one, 'processedAfterMs').toFixed(0)} ms after the last`,
    });
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await oneDatabase.drop();
    await twoDatabase.drop();
  }
}

/**
 * A cached feed polled over kept-alive connections while a large sync is processed: latencies of
 * answers from the cache as it was (the first rendering of the changed feed comes after the
 * sync), and any reset.
 */
async function measureFeedDuringSync(marquee: ServerProcess) {
  log(`feed while an ORGANIZATION_SYNC of ${FREEZE_EVENTS} events is processed`);
  const path = '/events.rss?limit=50';
  const body = stagerSync(2, 2_000_000, FREEZE_EVENTS);
  await fetch(`${marquee.url}${path}`).then((response) => response.arrayBuffer());
  await deliverStager(marquee.url, body, 'sync');
  let done = false;
  const latencies: number[] = [];
  let resets = 0;
  const poll = async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let firstTag: string | undefined;
    while (!done) {
      const started = performance.now();
      try {
        const tag = await new Promise<string>((resolve, reject) => {
          http
            .get(`${marquee.url}${path}`, { agent }, (answer) => {
              answer.resume();
              answer.on('end', () => resolve(String(answer.headers.etag)));
            })
            .on('error', reject);
        });
        firstTag ??= tag;
        if (tag === firstTag) latencies.push(performance.now() - started);
      } catch {
        resets += 1;
      }
    }
    agent.destroy();
  };
  const pollers = Array.from({ length: 4 }, poll);
  const started = performance.now();
  await waitUntil(
    async () => (await apiTotal(marquee, 'organizer=2')) === FREEZE_EVENTS,
    300_000,
    50,
  );
  const processed = performance.now() - started;
  done = true;
  await Promise.all(pollers);
  const sorted = latencies.sort((a, b) => a - b);
  const p99 = sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
  rows.push({
    measure: `cached feed p99 while a ${FREEZE_EVENTS.toLocaleString('en')}-event sync is processed`,
    marquee: `${p99.toFixed(1)} ms p99, ${resets} resets`,
    baseline: '',
    ratio: p99,
    target: '< 100 ms',
    pass: p99 < 100 && resets === 0,
    note: `${sorted.length} answers in ${(processed / 1000).toFixed(1)} s of processing; max ${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
    lowerIsBetter: true,
    unit: 'ms',
  });
}

async function main() {
  const started = Date.now();
  const database = await createBenchDatabase('main', POSTGRES_URL);
  // A 40,000-event sync is about 38 MB: above the default BODY_LIMIT.
  const marquee = await startMarquee({ ...database.env, BODY_LIMIT: '64mb' });
  const baseline = await startBaseline();
  let renders: RenderFigures | null = null;
  try {
    if (
      ONLY.has('sync') ||
      ONLY.has('warm') ||
      ONLY.has('file-check') ||
      ONLY.has('304') ||
      ONLY.has('busy') ||
      ONLY.has('storm')
    )
      await measureSync(marquee, database);
    if (ONLY.has('ingest')) await measureIngest(marquee, baseline, database);
    if (ONLY.has('warm')) await measureWarmFeeds(marquee, baseline);
    if (ONLY.has('file-check') && !POSTGRES_URL) await measureFileCheck(marquee, database);
    if (ONLY.has('304')) await measureNotModified(marquee, baseline);
    if (ONLY.has('busy')) await measureFeedUnderIngest(marquee);
    if (ONLY.has('storm')) await measureFilterStorm(marquee);
    if (ONLY.has('freeze')) await measureFeedDuringSync(marquee);
  } finally {
    await marquee.stop();
    await baseline.stop();
    await database.drop();
  }
  if (ONLY.has('render')) {
    const renderDatabase = await createBenchDatabase('render', POSTGRES_URL);
    try {
      renders = await measureRenders({
        events: SYNC_EVENTS,
        samples: quick ? 3 : 5,
        databaseEnv: renderDatabase.env,
        log,
      });
    } finally {
      await renderDatabase.drop();
    }
    rows.push(...renders.rows);
  }
  if (ONLY.has('ics-size')) {
    const sizeDatabase = await createBenchDatabase('ics_size', POSTGRES_URL);
    try {
      rows.push(...(await measureIcsSize({ databaseEnv: sizeDatabase.env, log })));
    } finally {
      await sizeDatabase.drop();
    }
  }
  if (ONLY.has('memory')) await measureMemory();
  // In process on SQLite: the read path and its plan, not HTTP, are what the index changes.
  if (ONLY.has('radius')) {
    log(`radius: ${MEMORY_EVENTS} stored events`);
    rows.push(await measureRadius(MEMORY_EVENTS, quick));
  }
  if (ONLY.has('webhooks')) {
    rows.push(
      await measureWebhooks({
        database: (name) => createBenchDatabase(name, POSTGRES_URL),
        quick,
        log,
      }),
    );
  }
  if (ONLY.has('scale') && POSTGRES_URL) await measureScaleOut(POSTGRES_URL);

  const seconds = (Date.now() - started) / 1000;
  writeReport(rows, {
    dialect: POSTGRES_URL ? 'postgres' : 'sqlite',
    database: POSTGRES_URL
      ? await describePostgres(POSTGRES_URL)
      : 'SQLite (better-sqlite3), synchronous=FULL',
    quick: quick || ONLY.size < SECTIONS.length,
    seconds,
    durationPerRun: DURATION,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB`,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
