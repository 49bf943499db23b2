import type { Logger } from 'pino';
import { chunks, rowsPerInsert } from '../db/chunks.js';
import type { Queryable } from '../db/connection.js';
import { storableText } from '../db/storable-text.js';
import type { SchemaWatchTable } from '../db/schema.js';
import type { SchemaObservation } from '../sources/schema-watcher.js';
import type { SourceAdapter } from '../sources/types.js';

/** Rows one source may hold: keys named by data (ids as keys) cannot grow the table for ever. */
export const MAX_WATCH_ROWS_PER_SOURCE = 5_000;

const COLUMNS = 8;

/**
 * What a delivery's payload holds beyond what its adapter reads, or null when there is nothing
 * to record: a replayed delivery was counted when first processed. A fault in the watch never
 * fails a delivery; it is logged.
 */
export function observePayload(
  adapter: SourceAdapter,
  delivery: { id: number; processed_at: string | null },
  payload: unknown,
  logger: Logger,
): SchemaObservation | null {
  if (delivery.processed_at !== null) return null;
  try {
    return adapter.watch.observe(payload);
  } catch (error) {
    logger.warn({ err: error, delivery: delivery.id }, 'inbox: schema watch failed');
    return null;
  }
}

/**
 * Adds a delivery's findings: one upsert row per distinct finding, counted once per delivery,
 * its time the delivery's arrival and the delivery the newest example.
 */
export async function recordObservation(
  db: Queryable,
  delivery: { id: number; source: string; received_at: string },
  observation: SchemaObservation | null,
): Promise<void> {
  const entries = observation?.entries() ?? [];
  if (entries.length === 0) return;
  // Values as stored: two that differ only where the database cannot tell (a NUL and U+FFFD)
  // are one row, since one insert may not name a row twice.
  const byValue = new Map<string, SchemaWatchTable>();
  for (const entry of entries) {
    const value = storableText(entry.value);
    const key = `${entry.kind}\n${value}`;
    const row = byValue.get(key);
    if (row) row.occurrences += entry.count;
    else
      byValue.set(key, {
        source: delivery.source,
        kind: entry.kind,
        value,
        occurrences: entry.count,
        deliveries: 1,
        first_seen_at: delivery.received_at,
        last_seen_at: delivery.received_at,
        example_delivery_id: delivery.id,
      });
  }
  let rows = [...byValue.values()];
  const { held } = await db
    .selectFrom('schema_watch')
    .select((eb) => eb.fn.countAll<number | string>().as('held'))
    .where('source', '=', delivery.source)
    .executeTakeFirstOrThrow();
  if (Number(held) + rows.length > MAX_WATCH_ROWS_PER_SOURCE) {
    // Full: what is already listed is still counted, nothing new is added.
    const listed = new Set<string>();
    for (const part of chunks(rows)) {
      const found = await db
        .selectFrom('schema_watch')
        .select(['kind', 'value'])
        .where('source', '=', delivery.source)
        .where('value', 'in', [...new Set(part.map((row) => row.value))])
        .execute();
      for (const row of found) listed.add(`${row.kind}\n${row.value}`);
    }
    rows = rows.filter((row) => listed.has(`${row.kind}\n${row.value}`));
  }
  for (const part of chunks(rows, rowsPerInsert(COLUMNS))) {
    await db
      .insertInto('schema_watch')
      .values(part)
      .onConflict((conflict) =>
        conflict.columns(['source', 'kind', 'value']).doUpdateSet((eb) => ({
          occurrences: eb('schema_watch.occurrences', '+', eb.ref('excluded.occurrences')),
          deliveries: eb('schema_watch.deliveries', '+', 1),
          last_seen_at: eb.ref('excluded.last_seen_at'),
          example_delivery_id: eb.ref('excluded.example_delivery_id'),
        })),
      )
      .execute();
  }
}

/** Every finding, by source, kind and value. */
export async function listSchemaWatch(db: Queryable): Promise<SchemaWatchTable[]> {
  return db
    .selectFrom('schema_watch')
    .selectAll()
    .orderBy('source')
    .orderBy('kind')
    .orderBy('value')
    .execute();
}
