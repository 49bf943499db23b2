import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import { migrateToLatest, openSqliteDatabase } from '../src/db/connection.js';
import { contentHash, toEventRow } from '../src/events/ingest.js';
import { loadConfig } from '../src/config.js';
import { stagerAdapter } from '../src/sources/stager/index.js';
import { FEEDS } from './feeds.js';
import { measureRenders, type RenderFigures } from './render.js';
import {
  BENCH_SECRETS,
  eventportPost,
  signStager,
  stagerEvent,
  stagerMessage,
  stagerSync,
} from './payloads.js';
import { startBaseline, startMarquee, tempDir, type ServerProcess } from './processes.js';
import { writeReport, type Row } from './report.js';

/**
 * `npm run bench`: Marquee against a bare Express 5 app in the same run on the same machine.
 * Every figure is a ratio against a baseline measured side by side, with absolute numbers for
 * context. `--quick` scales everything down.
 */

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    'sync-events': { type: 'string' },
    'memory-events': { type: 'string' },
    only: { type: 'string' },
  },
});

const quick = options.quick ?? false;
const DURATION = Number(options.duration ?? (quick ? 1 : 4));
const SYNC_EVENTS = Number(options['sync-events'] ?? (quick ? 2000 : 10_000));
const MEMORY_EVENTS = Number(options['memory-events'] ?? (quick ? 20_000 : 100_000));
const CONNECTIONS = 10;
const ROUNDS = quick ? 1 : 2;

const ONLY = new Set((options.only ?? 'sync,ingest,warm,304,busy,render,memory').split(','));
const rows: Row[] = [];
const log = (message: string) => process.stderr.write(`${message}\n`);

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
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statuses,
  };
}

/** Runs baseline and Marquee alternately ROUNDS times; returns the mean of each. */
async function sideBySide(baseline: () => Promise<LoadResult>, marquee: () => Promise<LoadResult>) {
  const b: LoadResult[] = [];
  const m: LoadResult[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    b.push(await baseline());
    m.push(await marquee());
  }
  const mean = (list: LoadResult[], key: 'rps' | 'p99') =>
    list.reduce((sum, item) => sum + item[key], 0) / list.length;
  return {
    baseline: { rps: mean(b, 'rps'), p99: mean(b, 'p99') },
    marquee: {
      rps: mean(m, 'rps'),
      p99: mean(m, 'p99'),
      ok: m.reduce((s, r) => s + r.ok, 0),
      non2xx: m.reduce((s, r) => s + r.non2xx, 0),
      errors: m.reduce((s, r) => s + r.errors, 0),
      statuses: m.map((r) => r.statuses),
    },
  };
}

function countDeliveries(databasePath: string): { total: number; pending: number } {
  const db = new SqliteDatabase(databasePath, { readonly: true });
  try {
    const total = (db.prepare('select count(*) as n from deliveries').get() as { n: number }).n;
    const pending = (
      db.prepare("select count(*) as n from deliveries where status = 'pending'").get() as {
        n: number;
      }
    ).n;
    return { total, pending };
  } finally {
    db.close();
  }
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
  databasePath: string,
) {
  const stagerBodies = Array.from({ length: 200 }, (_, index) =>
    stagerMessage('UPDATE_EVENTS', 9000, [stagerEvent(500_000 + index)]),
  );
  const eventportBodies = Array.from({ length: 200 }, (_, index) => eventportPost(index));
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
    const before = countDeliveries(databasePath).total;
    // A fixed number of requests, not a duration: every request sent is answered, so the count of
    // 2xx answers can be compared exactly with the count of stored deliveries.
    const amount = quick ? 1000 : 5000;
    const result = await sideBySide(
      () =>
        load({
          url: `${baseline.url}/ingest`,
          requests: cycle(bodies, headers, '/ingest'),
          amount,
        }),
      () => load({ url: marquee.url, requests: cycle(bodies, headers, path), amount }),
    );
    const ended = performance.now();
    const processedAfterMs = await waitUntil(
      () => countDeliveries(databasePath).pending === 0,
      60_000,
    );
    const stored = countDeliveries(databasePath).total - before;
    const ratio = result.marquee.rps / result.baseline.rps;
    rows.push({
      measure: `ingest: ${name}, ${CONNECTIONS} connections`,
      marquee: `${result.marquee.rps.toFixed(0)} req/s, p99 ${result.marquee.p99.toFixed(1)} ms`,
      baseline: `${result.baseline.rps.toFixed(0)} req/s, p99 ${result.baseline.p99.toFixed(1)} ms`,
      ratio,
      target: '>= 0.5x',
      pass:
        ratio >= 0.5 &&
        stored === result.marquee.ok &&
        result.marquee.non2xx === 0 &&
        processedAfterMs <= 2000,
      note: `2xx ${result.marquee.ok}, stored ${stored}, non-2xx ${result.marquee.non2xx}, all processed ${processedAfterMs.toFixed(0)} ms after the last`,
    });
    void ended;
  }
}

async function measureSync(marquee: ServerProcess) {
  log(`sync: ORGANIZATION_SYNC with ${SYNC_EVENTS} events`);
  const body = stagerSync(1, 1, SYNC_EVENTS);
  const started = performance.now();
  const response = await fetch(`${marquee.url}/webhooks/stager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
    body,
  });
  if (response.status !== 202) throw new Error(`bench: sync answered ${response.status}`);
  const acknowledged = performance.now() - started;
  await waitUntil(async () => (await apiTotal(marquee, 'organizer=1')) === SYNC_EVENTS, 120_000, 5);
  const visible = performance.now() - started;

  // Baseline: the same normalized rows, inserted with raw better-sqlite3 in one transaction.
  const config = loadConfig({});
  const message = stagerAdapter.interpret(
    JSON.parse(body.toString()),
    { receivedAt: new Date() },
    config,
  );
  if (message.kind !== 'sync') throw new Error('bench: sync payload not read as a sync');
  const now = new Date();
  const eventRows = message.events.map((event) =>
    toEventRow(event, contentHash(event), undefined, {
      now,
      receivedAt: now,
      defaultDurationHours: 3,
    }),
  );
  const dir = tempDir('raw');
  const handle = openSqliteDatabase(path.join(dir, 'raw.db'));
  await migrateToLatest(handle.db);
  const columns = Object.keys(eventRows[0] as object);
  const insert = handle.sqlite.prepare(
    `insert into events (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`,
  );
  const rawStarted = performance.now();
  handle.sqlite.transaction(() => {
    for (const row of eventRows) insert.run(row);
  })();
  const raw = performance.now() - rawStarted;
  await handle.close();
  const ratio = visible / raw;
  rows.push({
    measure: `ORGANIZATION_SYNC of ${SYNC_EVENTS} events: POST to all visible in /api/events`,
    marquee: `${(visible / 1000).toFixed(2)} s (202 after ${acknowledged.toFixed(0)} ms)`,
    baseline: `${(raw / 1000).toFixed(3)} s raw insert`,
    ratio,
    target: '<= 3x',
    pass: ratio <= 3,
    note: `body ${(body.length / 1e6).toFixed(1)} MB`,
    lowerIsBetter: true,
  });
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
    const ratio = result.marquee.rps / result.baseline.rps;
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

async function measureNotModified(marquee: ServerProcess, baseline: ServerProcess) {
  log('conditional GET (304)');
  const path = '/events.ics?city=Amsterdam&limit=1000';
  const etag = (await fetch(`${marquee.url}${path}`)).headers.get('etag') ?? '';
  const result = await sideBySide(
    () => load({ url: `${baseline.url}/empty` }),
    () => load({ url: `${marquee.url}${path}`, headers: { 'if-none-match': etag } }),
  );
  const statuses = result.marquee.statuses.flatMap((entry) => Object.keys(entry));
  const ratio = result.marquee.rps / result.baseline.rps;
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
  const quiet = await load({ url: `${marquee.url}${path}` });
  const bodies = Array.from({ length: 400 }, (_, index) =>
    stagerMessage('UPDATE_EVENTS', 9100, [stagerEvent(600_000 + index)]),
  );
  const requests = bodies.map((body) => ({
    method: 'POST' as const,
    path: '/webhooks/stager',
    headers: { 'content-type': 'application/json', 'x-signature': signStager(body) },
    body: body.toString(),
  }));
  const [busy, deliveries] = await Promise.all([
    load({ url: `${marquee.url}${path}` }),
    load({ url: marquee.url, requests, connections: 4, overallRate: 200 }),
  ]);
  const ratio = busy.rps / quiet.rps;
  rows.push({
    measure: 'warm RSS req/s while deliveries arrive at 200/s (writes invalidate the cache)',
    marquee: `${busy.rps.toFixed(0)} req/s (${(deliveries.ok / DURATION).toFixed(0)} deliveries/s)`,
    baseline: `${quiet.rps.toFixed(0)} req/s quiet`,
    ratio,
    target: '>= 0.5x',
    pass: ratio >= 0.5 && busy.non2xx === 0 && deliveries.non2xx === 0,
    note: `p99 ${busy.p99.toFixed(1)} ms`,
  });
}

async function measureMemory() {
  log(`memory: ${MEMORY_EVENTS} stored events`);
  const dir = tempDir('memory');
  const databasePath = path.join(dir, 'marquee.db');
  let marquee = await startMarquee(databasePath);
  const perSync = 10_000;
  for (let first = 1, org = 1; first <= MEMORY_EVENTS; first += perSync, org += 1) {
    const body = stagerSync(org, first, Math.min(perSync, MEMORY_EVENTS - first + 1));
    const response = await fetch(`${marquee.url}/webhooks/stager`, {
      method: 'POST',
      headers: { 'x-signature': signStager(body) },
      body,
    });
    if (response.status !== 202) throw new Error(`bench: memory sync answered ${response.status}`);
    await waitUntil(() => countDeliveries(databasePath).pending === 0, 120_000, 20);
  }
  const ingestPeak = marquee.peakRssMb();
  await marquee.stop();
  marquee = await startMarquee(databasePath);
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
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const started = Date.now();
  const dir = tempDir('main');
  const databasePath = path.join(dir, 'marquee.db');
  const marquee = await startMarquee(databasePath);
  const baseline = await startBaseline();
  let renders: RenderFigures | null = null;
  try {
    if (ONLY.has('sync') || ONLY.has('warm') || ONLY.has('304') || ONLY.has('busy'))
      await measureSync(marquee);
    if (ONLY.has('ingest')) await measureIngest(marquee, baseline, databasePath);
    if (ONLY.has('warm')) await measureWarmFeeds(marquee, baseline);
    if (ONLY.has('304')) await measureNotModified(marquee, baseline);
    if (ONLY.has('busy')) await measureFeedUnderIngest(marquee);
  } finally {
    await marquee.stop();
    await baseline.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (ONLY.has('render')) {
    renders = await measureRenders({ events: SYNC_EVENTS, samples: quick ? 3 : 5, log });
    rows.push(...renders.rows);
  }
  if (ONLY.has('memory')) await measureMemory();

  const seconds = (Date.now() - started) / 1000;
  writeReport(rows, {
    quick: quick || ONLY.size < 7,
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
