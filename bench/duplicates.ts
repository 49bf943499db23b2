import fs from 'node:fs';
import path from 'node:path';
import { migrateToLatest, openSqliteDatabase } from '../src/db/connection.js';
import type { NewEventRow } from '../src/db/schema.js';
import { matchDuplicates } from '../src/events/duplicates.js';
import { upsertEvents } from '../src/events/event-writes.js';
import { CityAliases } from '../src/events/text-key.js';
import { tempDir } from './processes.js';
import type { Row } from './report.js';

/**
 * What duplicate matching adds to a sync: the sync's rows stored beside an Eventport copy of
 * every tenth (a candidate to compare, and a merge), then matching timed over the sync's ids,
 * as ingest runs it after the upsert (on SQLite, in process).
 */
export async function measureDuplicateMatching(
  eventRows: readonly NewEventRow[],
  syncMs: number,
): Promise<Row> {
  const dir = tempDir('duplicates');
  const handle = openSqliteDatabase(path.join(dir, 'duplicates.db'));
  try {
    await migrateToLatest(handle.db);
    const copies = eventRows
      .filter((_, index) => index % 10 === 0)
      .map((row) => ({
        ...row,
        id: `eventport-copy-${row.external_id}`,
        source: 'eventport',
        external_id: `copy-${row.external_id}`,
      }));
    await upsertEvents(handle.db, [...eventRows, ...copies]);
    const ids = eventRows.map((row) => row.id);
    const started = performance.now();
    const outcome = await handle.db.transaction().execute((trx) =>
      matchDuplicates(trx, ids, {
        now: new Date(),
        cityAliases: new CityAliases({}),
      }),
    );
    const matching = performance.now() - started;
    const share = matching / syncMs;
    return {
      measure: `Duplicate matching of the ${eventRows.length}-event sync (${copies.length} Eventport copies)`,
      marquee: `${(matching / 1000).toFixed(2)} s (${outcome.merged} merged, ${outcome.queued} queued)`,
      baseline: `${(syncMs / 1000).toFixed(2)} s sync, matching included`,
      ratio: share,
      target: '<= 0.25 of the sync',
      pass: share <= 0.25,
      note: 'indexed by city and start; in process on SQLite',
      lowerIsBetter: true,
    };
  } finally {
    await handle.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
