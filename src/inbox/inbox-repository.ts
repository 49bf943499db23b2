import { sql, type ExpressionBuilder } from 'kysely';
import type { Db } from '../db/connection.js';
import { storableText } from '../db/storable-text.js';
import type { Database, DeliveryRow, DeliveryStatus, NewDeliveryRow } from '../db/schema.js';
import { isPostgres, type Queryable } from '../db/connection.js';
import { forgetSourceHashes } from '../events/event-writes.js';

/** Every query on the inbox of raw deliveries. */

export interface NewDelivery {
  source: string;
  receivedAt: Date;
  contentType: string | null;
  headers: Record<string, string>;
  body: Buffer;
  bodySha256: string;
  status: 'pending' | 'rejected';
  error: string | null;
  /** Sent by `marquee send-test`: stored and processed, its events never published. */
  test?: boolean;
}

/** A delivery with its raw body; null once purged (INBOX_RETENTION_DAYS). */
export type StoredDelivery = DeliveryRow & { body: Buffer | null };

function toRow(delivery: NewDelivery): NewDeliveryRow {
  return {
    source: delivery.source,
    received_at: delivery.receivedAt.toISOString(),
    content_type: delivery.contentType,
    headers: JSON.stringify(delivery.headers),
    body_sha256: delivery.bodySha256,
    body_size: delivery.body.length,
    status: delivery.status,
    message_type: null,
    result: null,
    error: storableText(delivery.error),
    attempts: 0,
    processed_at: null,
    purged_at: null,
    test: delivery.test ? 1 : 0,
  };
}

/** Inserts deliveries and their bodies in one transaction (one commit); returns their ids in order. */
export async function insertDeliveries(
  db: Db,
  deliveries: readonly NewDelivery[],
): Promise<number[]> {
  if (isPostgres(db)) return insertDeliveriesInOneStatement(db, deliveries);
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .insertInto('deliveries')
      .values(deliveries.map(toRow))
      .returning('id')
      .execute();
    const ids = rows.map((row) => row.id);
    await trx
      .insertInto('delivery_bodies')
      .values(
        deliveries.map((delivery, index) => ({
          delivery_id: ids[index] as number,
          body: delivery.body,
        })),
      )
      .execute();
    return ids;
  });
}

/**
 * PostgreSQL: deliveries and bodies in one statement, so one round trip and one commit, as a
 * single insert was before bodies had their own table (a transaction of two inserts took four
 * round trips and halved the rate of deliveries). A multi-row VALUES insert takes its ids from
 * the sequence row by row in list order, so the ids in ascending order are the deliveries' order.
 */
async function insertDeliveriesInOneStatement(
  db: Db,
  deliveries: readonly NewDelivery[],
): Promise<number[]> {
  const rows = deliveries.map(toRow);
  const columns = Object.keys(rows[0] as NewDeliveryRow) as (keyof NewDeliveryRow)[];
  const values = rows.map((row) => sql`(${sql.join(columns.map((column) => row[column]))})`);
  const bodies = deliveries.map(
    (delivery, index) => sql`(${index + 1}::bigint, ${delivery.body}::bytea)`,
  );
  const { rows: inserted } = await sql<{ id: number }>`with inserted as (
      insert into deliveries (${sql.join(columns.map((column) => sql.ref(column)))})
      values ${sql.join(values)}
      returning id
    ), numbered as (
      select id, row_number() over (order by id) as position from inserted
    ), stored as (
      insert into delivery_bodies (delivery_id, body)
      select numbered.id, bodies.body
      from numbered join (values ${sql.join(bodies)}) as bodies (position, body) using (position)
    )
    select id from numbered order by id`.execute(db);
  if (inserted.length !== deliveries.length) {
    throw new Error('inbox: a delivery insert returned another number of ids');
  }
  return inserted.map((row) => Number(row.id));
}

/** Whether a delivery still holds its raw body (it is gone once purged). */
function hasBody(eb: ExpressionBuilder<Database, 'deliveries'>) {
  return eb.exists(
    eb
      .selectFrom('delivery_bodies')
      .select('delivery_bodies.delivery_id')
      .whereRef('delivery_bodies.delivery_id', '=', 'deliveries.id'),
  );
}

/** Deliveries with their raw bodies (null once purged). */
function selectWithBodies(db: Queryable) {
  return db
    .selectFrom('deliveries')
    .leftJoin('delivery_bodies', 'delivery_bodies.delivery_id', 'deliveries.id')
    .selectAll('deliveries')
    .select('delivery_bodies.body');
}

/** The raw body of delivery `id`; null once purged (or when there is no such delivery). */
export async function loadDeliveryBody(db: Queryable, id: number): Promise<Buffer | null> {
  const row = await db
    .selectFrom('delivery_bodies')
    .select('body')
    .where('delivery_id', '=', id)
    .executeTakeFirst();
  return row?.body ?? null;
}

/**
 * Any PostgreSQL advisory lock key is a pair of int4; this pair is Marquee's inbox processing
 * ("MARQ", 1). Nothing else in a database should use it.
 */
const PROCESSING_LOCK = [0x4d415251, 1] as const;

/**
 * Prepares a processing transaction. On PostgreSQL, several instances share the inbox: each
 * processing transaction first takes a transaction-scoped advisory lock, so transactions that
 * turn deliveries into events run one at a time across all instances, as on SQLite, and two
 * instances never upsert the same event at once. A delivery's status is read under that lock,
 * so it is processed exactly once; a claimant that dies loses its connection, the server rolls
 * its transaction back and releases the lock, and the deliveries stay pending for the next one. The commit needs no flush
 * (`synchronous_commit = off`): a lost one leaves its deliveries pending, to be redone.
 * SQLite needs neither: it has one writer, and the DurabilityGate relaxes its syncs.
 */
export async function beginProcessing(trx: Queryable): Promise<void> {
  if (!isPostgres(trx)) return;
  await sql`set local synchronous_commit = off`.execute(trx);
  await takeProcessingLock(trx);
}

/**
 * Takes the processing lock (PostgreSQL only) for a transaction that writes events and the change
 * log outside processing (moderation): change ids then commit in the order they were taken, which
 * outgoing webhooks rely on (a cursor past an id still uncommitted would skip that change), and
 * it never writes an event a processing transaction is writing.
 */
export async function lockEventWrites(trx: Queryable): Promise<void> {
  if (isPostgres(trx)) await takeProcessingLock(trx);
}

/** Takes the inbox processing lock (PostgreSQL only) until the transaction ends. */
async function takeProcessingLock(trx: Queryable): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(PROCESSING_LOCK[0])}, ${sql.lit(PROCESSING_LOCK[1])})`.execute(
    trx,
  );
}

/** Deliveries waiting for processing, oldest first, with their sizes (for batching). */
export async function findPendingDeliveries(
  db: Queryable,
  limit: number,
): Promise<{ id: number; bodySize: number; attempts: number }[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['id', 'body_size', 'attempts'])
    .where('status', '=', 'pending')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, bodySize: row.body_size, attempts: row.attempts }));
}

/** The deliveries with these ids that are still pending, with their bodies, in id order. */
export async function loadPendingDeliveries(
  db: Queryable,
  ids: readonly number[],
): Promise<StoredDelivery[]> {
  if (ids.length === 0) return [];
  return selectWithBodies(db)
    .where('deliveries.id', 'in', ids)
    .where('deliveries.status', '=', 'pending')
    .orderBy('deliveries.id')
    .execute();
}

/**
 * Pending delivery `id` without its body (see `loadDeliveryBody`), or undefined when it is no
 * longer pending: what deciding about a large delivery needs.
 */
export async function loadPendingDelivery(
  db: Queryable,
  id: number,
): Promise<DeliveryRow | undefined> {
  return db
    .selectFrom('deliveries')
    .selectAll()
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
}

/**
 * The query for an earlier applied delivery of the same source with an identical body (see
 * `findAppliedDuplicate`); its plan is checked by the tests, so it must stay one index lookup.
 */
export function appliedDuplicateQuery(
  db: Queryable,
  delivery: Pick<DeliveryRow, 'id' | 'source' | 'body_sha256' | 'test'>,
) {
  return db
    .selectFrom('deliveries')
    .select('id')
    .where('body_sha256', '=', delivery.body_sha256)
    .where('source', '=', delivery.source)
    .where('test', '=', delivery.test)
    .where('status', '=', 'processed')
    .where('id', '<', delivery.id)
    .orderBy('id')
    .limit(1);
}

/**
 * The id of an earlier delivery of the same source with an identical body that was applied
 * (processed); null when there is none. A test and a real delivery never count as duplicates of
 * each other: the real one must be published.
 */
export async function findAppliedDuplicate(
  db: Queryable,
  delivery: Pick<DeliveryRow, 'id' | 'source' | 'body_sha256' | 'test'>,
): Promise<number | null> {
  const row = await appliedDuplicateQuery(db, delivery).executeTakeFirst();
  return row?.id ?? null;
}

/** Records the outcome of processing. */
export async function markDeliveryDone(
  db: Queryable,
  id: number,
  outcome: {
    status: Extract<DeliveryStatus, 'processed' | 'ignored'>;
    messageType: string | null;
    result: unknown;
    at: Date;
    /** False when `countAttempt` already counted this processing. */
    countAttempt?: boolean;
  },
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: outcome.status,
      message_type: storableText(outcome.messageType),
      result: JSON.stringify(outcome.result),
      error: null,
      attempts: outcome.countAttempt === false ? eb.ref('attempts') : eb('attempts', '+', 1),
      processed_at: outcome.at.toISOString(),
    }))
    .where('id', '=', id)
    .execute();
}

/** Keeps a delivery whose processing failed, with the reason, for replay after a fix. */
export async function markDeliveryFailed(
  db: Queryable,
  id: number,
  failure: { error: string; messageType: string | null; at: Date; countAttempt?: boolean },
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({
      status: 'failed',
      error: storableText(failure.error.slice(0, 2000)),
      message_type: storableText(failure.messageType),
      attempts: failure.countAttempt === false ? eb.ref('attempts') : eb('attempts', '+', 1),
      processed_at: failure.at.toISOString(),
    }))
    .where('id', '=', id)
    .execute();
}

/**
 * Counts an attempt before a long processing begins, in its own commit: a processing that is
 * interrupted (a crash, a restart, its time budget) is still counted.
 */
export async function countAttempt(db: Queryable, id: number): Promise<void> {
  await db
    .updateTable('deliveries')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** The id of the delivery imported from spool file `name` with this body, if it is in the inbox. */
export async function findSpooledDelivery(
  db: Queryable,
  bodySha256: string,
  name: string,
): Promise<number | null> {
  const row = await db
    .selectFrom('deliveries')
    .select('id')
    .where('body_sha256', '=', bodySha256)
    .where('headers', 'like', `%${JSON.stringify(name)}%`)
    .executeTakeFirst();
  return row?.id ?? null;
}

export interface ReplaySelection {
  /** `failed`: only failed deliveries; `all`: every delivery that still has its body. */
  scope: 'failed' | 'all';
  since: Date | null;
}

/**
 * Puts deliveries back in the queue; returns how many. Purged bodies cannot be replayed. On
 * PostgreSQL it takes the processing lock first: concurrent replays, and a replay racing a
 * processing transaction over the same rows, once deadlocked; under the lock they run one after
 * another.
 */
export async function requeueDeliveries(db: Db, selection: ReplaySelection): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (isPostgres(trx)) await takeProcessingLock(trx);
    let query = trx
      .updateTable('deliveries')
      .set({ status: 'pending', error: null, attempts: 0 })
      .where(hasBody)
      .where(
        'status',
        'in',
        selection.scope === 'failed' ? ['failed'] : ['failed', 'processed', 'ignored'],
      );
    if (selection.since) query = query.where('received_at', '>=', selection.since.toISOString());
    const result = await query.executeTakeFirst();
    // Replays read with the current code: no copy may be skipped as read before.
    if (Number(result.numUpdatedRows) > 0) await forgetSourceHashes(trx);
    return Number(result.numUpdatedRows);
  });
}

/** How many raw bodies purgeDeliveryBodies would drop. */
export async function countPurgeableBodies(db: Queryable, cutoff: Date): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('received_at', '<', cutoff.toISOString())
    .where(hasBody)
    .where('status', 'not in', ['pending'])
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** How many deliveries still hold their raw body. */
export async function countHeldBodies(db: Queryable): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where(hasBody)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** When the newest delivery was received; null when there is none. */
export async function newestDeliveryReceivedAt(db: Queryable): Promise<Date | null> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.max('received_at').as('last'))
    .executeTakeFirst();
  return row?.last ? new Date(row.last) : null;
}

/** Drops raw bodies received before `cutoff`, keeping the metadata; returns how many. */
export async function purgeDeliveryBodies(db: Db, cutoff: Date, now: Date): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const purged = await trx
      .updateTable('deliveries')
      .set({ purged_at: now.toISOString() })
      .where('received_at', '<', cutoff.toISOString())
      .where(hasBody)
      .where('status', 'not in', ['pending'])
      .executeTakeFirst();
    // A purged delivery holds no body: the update above marked the ones to drop.
    await trx
      .deleteFrom('delivery_bodies')
      .where('delivery_id', 'in', (eb) =>
        eb.selectFrom('deliveries').select('deliveries.id').where('purged_at', 'is not', null),
      )
      .execute();
    return Number(purged.numUpdatedRows);
  });
}

export interface DeliveryListItem {
  id: number;
  source: string;
  receivedAt: Date;
  status: DeliveryStatus;
  messageType: string | null;
  bodySize: number;
  error: string | null;
}

/** Newest deliveries first, for status pages and the CLI. */
export async function listDeliveries(
  db: Queryable,
  options: { source?: string; status?: DeliveryStatus[]; limit: number },
): Promise<DeliveryListItem[]> {
  let query = db
    .selectFrom('deliveries')
    .select(['id', 'source', 'received_at', 'status', 'message_type', 'body_size', 'error'])
    .orderBy('id', 'desc')
    .limit(options.limit);
  if (options.source) query = query.where('source', '=', options.source);
  if (options.status) query = query.where('status', 'in', options.status);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    source: row.source,
    receivedAt: new Date(row.received_at),
    status: row.status,
    messageType: row.message_type,
    bodySize: row.body_size,
    error: row.error,
  }));
}

export interface DeliveryCounts {
  source: string;
  status: DeliveryStatus;
  count: number;
  lastReceivedAt: Date | null;
}

/** Deliveries per source and status received since `since`. */
export async function countDeliveries(db: Queryable, since: Date): Promise<DeliveryCounts[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select([
      'source',
      'status',
      (eb) => eb.fn.countAll<number>().as('count'),
      (eb) => eb.fn.max('received_at').as('last'),
    ])
    .where('received_at', '>=', since.toISOString())
    .groupBy(['source', 'status'])
    .execute();
  return rows.map((row) => ({
    source: row.source,
    status: row.status,
    count: Number(row.count),
    lastReceivedAt: row.last ? new Date(row.last) : null,
  }));
}

/** The last delivery time of each source, ever. */
export async function lastDeliveryTimes(db: Queryable): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['source', (eb) => eb.fn.max('received_at').as('last')])
    .groupBy('source')
    .execute();
  return new Map(
    rows.flatMap((row) => (row.last ? [[row.source, new Date(row.last)] as const] : [])),
  );
}

/** How many deliveries wait for processing. */
export async function countPendingDeliveries(db: Queryable): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select(sql<number>`count(*)`.as('count'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export interface DeliveryQuery {
  source: string | null;
  status: DeliveryStatus | null;
  messageType: string | null;
  /** true: only test deliveries (`marquee send-test`); false: only real ones; null: both. */
  test: boolean | null;
  limit: number;
  offset: number;
}

export interface DeliverySummary {
  id: number;
  source: string;
  receivedAt: string;
  status: DeliveryStatus;
  messageType: string | null;
  bodySize: number;
  /** Whether the raw body is still held (INBOX_RETENTION_DAYS). */
  bodyRetained: boolean;
  error: string | null;
  attempts: number;
  processedAt: string | null;
  test: boolean;
}

const SUMMARY_COLUMNS = [
  'id',
  'source',
  'received_at',
  'status',
  'message_type',
  'body_size',
  'purged_at',
  'error',
  'attempts',
  'processed_at',
  'test',
] as const;

function toSummary(row: Pick<DeliveryRow, (typeof SUMMARY_COLUMNS)[number]>): DeliverySummary {
  return {
    id: row.id,
    source: row.source,
    receivedAt: row.received_at,
    status: row.status,
    messageType: row.message_type,
    bodySize: row.body_size,
    bodyRetained: row.purged_at === null,
    error: row.error,
    attempts: row.attempts,
    processedAt: row.processed_at,
    test: row.test === 1,
  };
}

/** Deliveries matching `query`, newest first, with the total that match. */
export async function findDeliveries(
  db: Queryable,
  query: DeliveryQuery,
): Promise<{ total: number; deliveries: DeliverySummary[] }> {
  let base = db.selectFrom('deliveries');
  if (query.source) base = base.where('source', '=', query.source);
  if (query.status) base = base.where('status', '=', query.status);
  if (query.messageType) base = base.where('message_type', '=', query.messageType);
  if (query.test !== null) base = base.where('test', '=', query.test ? 1 : 0);
  const rows = await base
    .select(SUMMARY_COLUMNS)
    .orderBy('id', 'desc')
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const count = await base
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return { total: Number(count.count), deliveries: rows.map(toSummary) };
}

export interface DeliveryDetail extends DeliverySummary {
  contentType: string | null;
  headers: Record<string, string>;
  bodySha256: string;
  /** The raw body as UTF-8 text while retained; null once purged. */
  body: string | null;
  /** What processing did (counts, skipped events), as stored. */
  result: unknown;
}

/** One delivery with its raw body (while retained); null when there is none with that id. */
export async function findDelivery(db: Queryable, id: number): Promise<DeliveryDetail | null> {
  const row = await selectWithBodies(db).where('deliveries.id', '=', id).executeTakeFirst();
  if (!row) return null;
  return {
    ...toSummary(row),
    contentType: row.content_type,
    headers: JSON.parse(row.headers) as Record<string, string>,
    bodySha256: row.body_sha256,
    body: row.body === null ? null : Buffer.from(row.body).toString('utf8'),
    result: row.result === null ? null : (JSON.parse(row.result) as unknown),
  };
}

/**
 * Puts one delivery back in the queue; false when it cannot be replayed (unknown, its body
 * purged, or rejected as not JSON). Takes the processing lock on PostgreSQL, as requeueDeliveries.
 */
export async function requeueDelivery(db: Db, id: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (isPostgres(trx)) await takeProcessingLock(trx);
    const result = await trx
      .updateTable('deliveries')
      .set({ status: 'pending', error: null })
      .where('id', '=', id)
      .where(hasBody)
      .where('status', 'in', ['failed', 'processed', 'ignored', 'pending'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  });
}
