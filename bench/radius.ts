import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openSqliteDatabase } from '../src/db/connection.js';
import { findEvents } from '../src/events/event-reads.js';
import { parseEventFilter } from '../src/events/filter.js';
import { contentHash, toEventRow } from '../src/events/ingest.js';
import { CityAliases } from '../src/events/text-key.js';
import { createSources, sourceSettingsFrom, SOURCE_NAMES } from '../src/sources/index.js';
import { stagerSync } from './payloads.js';
import { tempDir } from './processes.js';
import type { Row } from './report.js';

/**
 * A `near`/`radius` read over many stored events (SQLite, in process): time per request with the
 * latitude/longitude indexes of migration 0005, against the same read with them dropped (every
 * upcoming event read and measured), and the query plan that shows which index is used.
 */

const AMSTERDAM = { latitude: 52.37, longitude: 4.89 };

/** Venues spread over Europe (36–70 °N, 10 °W–30 °E), spaced so that 25 km hold a few hundred. */
function spreadCoordinates(index: number): { latitude: number; longitude: number } {
  return {
    latitude: 36 + ((index * 7919) % 3400) / 100,
    longitude: -10 + ((index * 104_729) % 4000) / 100,
  };
}

/** Times `read` `repeat` times after a warm-up; milliseconds per read. */
async function timePerRead(read: () => Promise<unknown>, repeat: number): Promise<number> {
  for (let i = 0; i < 3; i += 1) await read();
  const started = performance.now();
  for (let i = 0; i < repeat; i += 1) await read();
  return (performance.now() - started) / repeat;
}

/** Measures the radius read over `count` stored events; returns the bench row. */
export async function measureRadius(count: number, quick: boolean): Promise<Row> {
  const dir = tempDir('radius');
  const handle = openSqliteDatabase(path.join(dir, 'radius.db'));
  try {
    await migrateToLatest(handle.db);
    const config = loadConfig({});
    const { stager } = createSources(sourceSettingsFrom(config));
    const now = new Date();
    // Read through the adapter once for up to 10,000 events, then copied under new ids and
    // coordinates: only where the events are matters here, and reading 100,000 took 20 s.
    const template = Math.min(count, 10_000);
    const message = stager.interpret(JSON.parse(stagerSync(1, 1, template).toString()), {
      receivedAt: now,
    });
    if (message.kind !== 'sync') throw new Error('bench: radius payload not read as a sync');
    const templates = message.events.map((event) =>
      toEventRow(event, contentHash(event), undefined, {
        now,
        receivedAt: now,
        defaultDurationHours: 3,
      }),
    );
    const rows = Array.from({ length: count }, (_, index) => ({
      ...(templates[index % template] as (typeof templates)[number]),
      id: `stager-${index + 1}`,
      external_id: String(index + 1),
      ...spreadCoordinates(index),
    }));
    const columns = Object.keys(rows[0] as object);
    const insert = handle.sqlite.prepare(
      `insert into events (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`,
    );
    handle.sqlite.transaction(() => {
      for (const row of rows) insert.run(row);
    })();

    const filter = parseEventFilter(
      { near: `${AMSTERDAM.latitude},${AMSTERDAM.longitude}`, radius: '25' },
      { defaultLimit: 500, timeZone: config.timeZone, sources: SOURCE_NAMES },
    );
    const window = {
      now,
      pastDays: 0,
      timeZone: config.timeZone,
      cityAliases: new CityAliases({}),
      installedAt: new Date(0),
    };
    const read = () => findEvents(handle.db, filter, window);
    const matching = (await read()).total;
    const plan = handle.sqlite
      .prepare(
        `explain query plan select id from events where visibility = 'public' and effective_end_at > ? and latitude >= ? and latitude <= ? and longitude >= ? and longitude <= ? order by starts_at limit 500`,
      )
      .all(now.toISOString(), 52.14, 52.6, 4.52, 5.26) as { detail: string }[];
    const repeat = quick ? 20 : 100;
    const indexed = await timePerRead(read, repeat);
    await sql`drop index events_geo_window`.execute(handle.db);
    await sql`drop index events_geo`.execute(handle.db);
    const scanned = await timePerRead(read, Math.max(5, repeat / 10));
    const ratio = indexed / scanned;
    return {
      measure: `near=Amsterdam&radius=25 over ${count} stored events (${matching} match): time per read`,
      marquee: `${indexed.toFixed(2)} ms with the indexes on latitude and longitude`,
      baseline: `${scanned.toFixed(2)} ms without them (every upcoming event measured)`,
      ratio,
      target: '<= 0.2x',
      pass: ratio <= 0.2 && plan.some((step) => step.detail.includes('events_geo')),
      note: `plan: ${plan.map((step) => step.detail).join('; ')}`,
      lowerIsBetter: true,
    };
  } finally {
    await handle.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
