import { createHash } from 'node:crypto';
import os from 'node:os';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { DEFAULT_MIGRATION_TABLE, sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import { announceEventsChanged } from '../cache/events-changed.js';
import { normalizeWebhookUrl } from '../changes/webhook-repository.js';
import { rowsPerInsert } from '../db/chunks.js';
import {
  isPostgres,
  pendingMigrations,
  type DatabaseHandle,
  type Db,
  type Queryable,
} from '../db/connection.js';
import { eventRowSchema } from '../db/event-columns.js';
import { migrations } from '../db/migrations/index.js';
import { CHANGE_KINDS } from '../events/event-changes.js';
import { MAX_SHORT_FEED_QUERY, shortFeedId } from '../events/short-feeds.js';

/**
 * Moves an installation's data between databases of either dialect as a dump of
 * newline-delimited JSON: a header line, one line per row, an end line with the row counts.
 *
 *   {"format":"marquee-dump","version":1,"schema":"0016-delivery-bodies","exportedAt":"…",
 *    "installation":{"since":"2026-11-22","uid_domain":"events.example.org"}}
 *   {"table":"deliveries","row":{"id":1,…,"body":"<base64>",…}}
 *   {"end":{"deliveries":1,"events":0,"event_genres":0,"organizations":0,"schema_watch":0,
 *    "hidden_events":0,"organization_blocks":0,"audit_log":0,"duplicate_pairs":0,"event_links":0,
 *    "short_feeds":0,"event_changes":0,"webhook_subscriptions":0}}
 *
 * The header carries the installation's identity (db/installation.ts), so that the target keeps
 * the ICS UIDs and feed item ids subscribers know; dumps of schemas before 0004 have none. The
 * schema watch travels: once retention purged the raw bodies it came from, it cannot be rebuilt,
 * and its example delivery ids stay valid because deliveries keep their ids. The moderation state
 * (hidden events, blocked organizations) and the audit log travel too; dumps of schemas before
 * 0009 have none of them. So do the decisions on duplicates across sources (pairs and links, from
 * 0014 on). Short feeds travel, so subscribed /f/<id> URLs keep working. The change log travels
 * with its ids, and webhook subscriptions with their secrets and cursors: the target sends each
 * subscription what was still unsent at export time, under the same `webhook-id`s, so nothing is
 * lost and nothing already delivered floods out again (only what the source delivered after the
 * export is sent twice, which receivers recognise by its `webhook-id`); a failing subscription
 * keeps its next attempt's time and its 24 hours of failing. Not dumped: job claims and webhook
 * leases (they only keep instances from doing one thing twice), and webhook attempts (a log of
 * answers).
 */

const DUMP_FORMAT = 'marquee-dump';
const DUMP_VERSION = 1;

/** A dump or a database that cannot be transferred, with what to do about it. */
export class TransferError extends Error {}

const DUMP_TABLES = [
  'deliveries',
  'events',
  'event_genres',
  'organizations',
  'schema_watch',
  'hidden_events',
  'organization_blocks',
  'audit_log',
  'duplicate_pairs',
  'event_links',
  'short_feeds',
  'event_changes',
  'webhook_subscriptions',
] as const;
type DumpTable = (typeof DUMP_TABLES)[number];
export type TableCounts = Record<DumpTable, number>;

/** Rows read per query on export: a few hundred keeps memory flat and queries few. */
const PAGE_ROWS = 500;
/** Raw delivery bodies (up to BODY_LIMIT each) per page or insert, in bytes. */
const PAGE_BYTES = 4 * 1024 ** 2;

const text = z.string();
const optionalText = z.string().nullable();
const integer = z.int();
const optionalInteger = z.int().nullable();

const deliveryRow = z
  .strictObject({
    id: z.int().positive(),
    source: text,
    received_at: text,
    content_type: optionalText,
    headers: text,
    body: z
      .base64()
      .nullable()
      .transform((body) => (body === null ? null : Buffer.from(body, 'base64'))),
    body_sha256: text,
    body_size: integer,
    status: z.enum(['pending', 'processed', 'failed', 'rejected', 'ignored']),
    message_type: optionalText,
    result: optionalText,
    error: optionalText,
    attempts: integer,
    processed_at: optionalText,
    purged_at: optionalText,
    /** Dumps from before migration 0009 lack it. */
    test: integer.optional(),
  })
  // Still called when the body failed its own check (and is no Buffer then): nothing to compare.
  .refine(
    (row) =>
      !Buffer.isBuffer(row.body) ||
      createHash('sha256').update(row.body).digest('hex') === row.body_sha256,
    { message: 'does not match body_sha256', path: ['body'] },
  );

const eventGenreRow = z.strictObject({ event_id: text, genre_key: text });

const organizationRow = z.strictObject({
  source: text,
  external_id: text,
  name: optionalText,
  last_sync_at: optionalText,
  last_sync_delivery_id: optionalInteger,
  last_sync_event_count: optionalInteger,
});

const schemaWatchRow = z.strictObject({
  source: text,
  kind: text,
  value: text,
  occurrences: integer,
  deliveries: integer,
  first_seen_at: text,
  last_seen_at: text,
  example_delivery_id: integer,
});

const hiddenEventRow = z.strictObject({ event_id: text, hidden_at: text });

const organizationBlockRow = z.strictObject({
  source: text,
  organization_id: text,
  blocked_at: text,
});

const auditLogRow = z.strictObject({
  id: z.int().positive(),
  at: text,
  action: text,
  target: text,
  outcome: text,
  detail: optionalText,
  client: optionalText,
});

const duplicatePairRow = z.strictObject({
  id: text,
  first_id: text,
  second_id: text,
  state: z.enum(['open', 'merged', 'dismissed', 'unmerged']),
  facts: text,
  note: optionalText,
  found_at: text,
  decided_at: optionalText,
  decided_by: optionalText,
});

const eventLinkRow = z.strictObject({
  member_id: text,
  primary_id: text,
  pair_id: text,
  tombstone: integer,
  linked_at: text,
});

const shortFeedRow = z
  .strictObject({ id: text, query: text.max(MAX_SHORT_FEED_QUERY), created_at: text })
  // The id is derived from the query: an id that is not its query's would serve another filter.
  .refine((row) => shortFeedId(row.query) === row.id, {
    message: 'is not the id of its query',
    path: ['id'],
  });

const eventChangeRow = z.strictObject({
  id: z.int().positive(),
  event_id: text,
  revision: integer,
  kind: z.enum(CHANGE_KINDS),
  summary: text,
  changed_at: text,
  snapshot: text,
});

const webhookSubscriptionRow = z.strictObject({
  id: text,
  url: text.refine((url) => normalizeWebhookUrl(url) === url, 'is not an http(s) URL'),
  filter: text,
  secret: text.regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'is not a whsec_ secret'),
  created_at: text,
  cursor: z.int().nonnegative(),
  failures: z.int().nonnegative(),
  failing_since: optionalText,
  next_attempt_at: optionalText,
  // Absent from dumps of schema 0011.
  disabled_at: optionalText.default(null),
  disabled_reason: optionalText.default(null),
});

/** How one table is read, written to the dump, checked and inserted. */
interface TableTransfer {
  table: DumpTable;
  /** The primary key: rows are dumped in its order and paged by it. */
  key: readonly string[];
  /** The dumped columns, in dump order. */
  columns: readonly string[];
  /** A column that bounds a row's size in bytes, to keep pages of large rows small. */
  sizeColumn?: string;
  /** What a page's rows are read from, when some dumped columns live in another table. */
  from: RawBuilder<unknown>;
  toDump(row: Record<string, unknown>): Record<string, unknown>;
  /** Checks a dumped row; throws a ZodError. */
  parse(row: unknown): unknown;
  /** Inserts rows `parse` returned. */
  insert(db: Queryable, rows: unknown[]): Promise<void>;
}

function tableTransfer<Schema extends z.ZodObject>(spec: {
  table: DumpTable;
  key: readonly (keyof z.output<Schema> & string)[];
  schema: Schema;
  sizeColumn?: keyof z.output<Schema> & string;
  from?: RawBuilder<unknown>;
  toDump?(row: Record<string, unknown>): Record<string, unknown>;
  insert(db: Queryable, rows: z.output<Schema>[]): Promise<unknown>;
}): TableTransfer {
  return {
    table: spec.table,
    key: spec.key,
    columns: Object.keys(spec.schema.shape),
    sizeColumn: spec.sizeColumn,
    from: spec.from ?? sql.table(spec.table),
    toDump: spec.toDump ?? ((row) => row),
    parse: (row) => spec.schema.parse(row),
    async insert(db, rows) {
      // Only ever handed what this table's `parse` returned.
      await spec.insert(db, rows as z.output<Schema>[]);
    },
  };
}

/** In dump order: events before the genres that reference them. */
const TABLES: readonly TableTransfer[] = [
  tableTransfer({
    table: 'deliveries',
    key: ['id'],
    // `refine` keeps the object's shape in zod 4; its output is the object's.
    schema: deliveryRow,
    sizeColumn: 'body_size',
    // A dump row keeps its body, which the database holds in a table of its own.
    from: sql`deliveries left join delivery_bodies on delivery_bodies.delivery_id = deliveries.id`,
    toDump: (row) => ({
      ...row,
      body: Buffer.isBuffer(row.body) ? row.body.toString('base64') : null,
    }),
    async insert(db, rows) {
      await db
        .insertInto('deliveries')
        .values(rows.map(({ body: _body, ...row }) => row))
        .execute();
      const bodies = rows.flatMap((row) =>
        row.body === null ? [] : [{ delivery_id: row.id, body: row.body }],
      );
      if (bodies.length > 0) await db.insertInto('delivery_bodies').values(bodies).execute();
    },
  }),
  tableTransfer({
    table: 'events',
    key: ['id'],
    schema: eventRowSchema,
    insert: (db, rows) => db.insertInto('events').values(rows).execute(),
  }),
  tableTransfer({
    table: 'event_genres',
    key: ['event_id', 'genre_key'],
    schema: eventGenreRow,
    insert: (db, rows) => db.insertInto('event_genres').values(rows).execute(),
  }),
  tableTransfer({
    table: 'organizations',
    key: ['source', 'external_id'],
    schema: organizationRow,
    insert: (db, rows) => db.insertInto('organizations').values(rows).execute(),
  }),
  tableTransfer({
    table: 'schema_watch',
    key: ['source', 'kind', 'value'],
    schema: schemaWatchRow,
    insert: (db, rows) => db.insertInto('schema_watch').values(rows).execute(),
  }),
  tableTransfer({
    table: 'hidden_events',
    key: ['event_id'],
    schema: hiddenEventRow,
    insert: (db, rows) => db.insertInto('hidden_events').values(rows).execute(),
  }),
  tableTransfer({
    table: 'organization_blocks',
    key: ['source', 'organization_id'],
    schema: organizationBlockRow,
    insert: (db, rows) => db.insertInto('organization_blocks').values(rows).execute(),
  }),
  tableTransfer({
    table: 'audit_log',
    key: ['id'],
    schema: auditLogRow,
    insert: (db, rows) => db.insertInto('audit_log').values(rows).execute(),
  }),
  // Operators' decisions on duplicates: a merge, a dismissal or an unmerge must survive a move.
  tableTransfer({
    table: 'duplicate_pairs',
    key: ['id'],
    schema: duplicatePairRow,
    insert: (db, rows) => db.insertInto('duplicate_pairs').values(rows).execute(),
  }),
  tableTransfer({
    table: 'event_links',
    key: ['member_id'],
    schema: eventLinkRow,
    insert: (db, rows) => db.insertInto('event_links').values(rows).execute(),
  }),
  tableTransfer({
    table: 'short_feeds',
    key: ['id'],
    schema: shortFeedRow,
    insert: (db, rows) => db.insertInto('short_feeds').values(rows).execute(),
  }),
  tableTransfer({
    table: 'event_changes',
    key: ['id'],
    schema: eventChangeRow,
    insert: (db, rows) => db.insertInto('event_changes').values(rows).execute(),
  }),
  // After the change log: a cursor is a position in it.
  tableTransfer({
    table: 'webhook_subscriptions',
    key: ['id'],
    schema: webhookSubscriptionRow,
    insert: (db, rows) => db.insertInto('webhook_subscriptions').values(rows).execute(),
  }),
];

const TABLES_BY_NAME = new Map(TABLES.map((spec) => [spec.table, spec]));

const emptyCounts = (): TableCounts => ({
  deliveries: 0,
  events: 0,
  event_genres: 0,
  organizations: 0,
  schema_watch: 0,
  hidden_events: 0,
  organization_blocks: 0,
  audit_log: 0,
  duplicate_pairs: 0,
  event_links: 0,
  short_feeds: 0,
  event_changes: 0,
  webhook_subscriptions: 0,
});

const MIGRATION_NAMES = Object.keys(migrations);
const LATEST_MIGRATION = MIGRATION_NAMES.at(-1) ?? '';

/** The latest migration applied to `db`; the dump's rows have that schema's columns. */
async function appliedSchema(db: Db): Promise<string> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new TransferError(
      `the database schema is behind (pending: ${pending.join(', ')}); run \`marquee migrate\` first`,
    );
  }
  const migrationTable = sql.table(DEFAULT_MIGRATION_TABLE);
  const query = sql<{ name: string | null }>`select max(name) as name from ${migrationTable}`;
  const { rows } = await query.execute(db);
  const latest = rows[0]?.name ?? '';
  if (!MIGRATION_NAMES.includes(latest)) {
    throw new TransferError(
      `the database has schema ${latest}, which this Marquee does not know; export with the Marquee that migrated it`,
    );
  }
  return latest;
}

/** The number of rows in the next page: PAGE_ROWS, or fewer while their sizes pass PAGE_BYTES. */
async function pageLength(
  db: Queryable,
  spec: TableTransfer,
  where: RawBuilder<unknown>,
): Promise<number> {
  if (!spec.sizeColumn) return PAGE_ROWS;
  const key = sql.join(spec.key.map((column) => sql.ref(column)));
  const { rows } = await sql<{ size: number }>`select ${sql.ref(spec.sizeColumn)} as size
    from ${sql.table(spec.table)} ${where} order by ${key} limit ${PAGE_ROWS}`.execute(db);
  let bytes = 0;
  let length = 0;
  for (const row of rows) {
    bytes += row.size;
    if (length > 0 && bytes > PAGE_BYTES) break;
    length += 1;
  }
  return Math.max(length, 1);
}

/** One page of rows in key order after the key values `after` (from the start when null). */
async function readPage(
  db: Queryable,
  spec: TableTransfer,
  after: unknown[] | null,
): Promise<Record<string, unknown>[]> {
  const key = sql.join(spec.key.map((column) => sql.ref(column)));
  // A row-value comparison: both dialects answer it from the primary key's index.
  const where = after ? sql`where (${key}) > (${sql.join(after)})` : sql``;
  const length = await pageLength(db, spec, where);
  const columns = sql.join(spec.columns.map((column) => sql.ref(column)));
  const { rows } = await sql<Record<string, unknown>>`select ${columns}
    from ${spec.from} ${where} order by ${key} limit ${length}`.execute(db);
  return rows;
}

/** A table's rows as dump lines, one chunk of text per page. */
async function* tableLines(
  db: Queryable,
  spec: TableTransfer,
  counts: TableCounts,
  onProgress?: (counts: TableCounts) => void,
): AsyncGenerator<string> {
  let after: unknown[] | null = null;
  for (;;) {
    const page = await readPage(db, spec, after);
    const last = page.at(-1);
    if (!last) return;
    // Columns in declared order, whatever order the database returns them in.
    const lines = page.map((row) => {
      const dumped = spec.toDump(row);
      const ordered = Object.fromEntries(spec.columns.map((column) => [column, dumped[column]]));
      return `${JSON.stringify({ table: spec.table, row: ordered })}\n`;
    });
    counts[spec.table] += page.length;
    yield lines.join('');
    onProgress?.(counts);
    after = spec.key.map((column) => last[column]);
  }
}

async function* dumpLines(
  db: Queryable,
  schema: string,
  counts: TableCounts,
  exportedAt: Date,
  onProgress?: (counts: TableCounts) => void,
) {
  const installation = await db
    .selectFrom('installation')
    .select(['key', 'value'])
    .orderBy('key')
    .execute();
  const header = {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    schema,
    exportedAt: exportedAt.toISOString(),
    installation: Object.fromEntries(installation.map((row) => [row.key, row.value])),
  };
  yield `${JSON.stringify(header)}\n`;
  for (const spec of TABLES) yield* tableLines(db, spec, counts, onProgress);
  yield `${JSON.stringify({ end: counts })}\n`;
}

/**
 * Writes every delivery, event, event genre, organization, moderation decision, audit entry,
 * short feed, logged change and webhook subscription to `output` as a dump (gzipped with
 * `gzip`), and ends it, stamped `exportedAt`. The rows are one consistent snapshot, so exporting
 * while Marquee runs is safe. Resolves to the number of rows per table; `onProgress` hears the
 * rows written so far after each page.
 */
export async function exportDatabase(
  handle: DatabaseHandle,
  output: Writable,
  options: { exportedAt: Date; gzip?: boolean; onProgress?: (counts: TableCounts) => void },
): Promise<TableCounts> {
  const schema = await appliedSchema(handle.db);
  // PostgreSQL: one snapshot for every page; SQLite's transaction is a snapshot in WAL mode.
  return handle.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const counts = emptyCounts();
      const lines = Readable.from(
        dumpLines(trx, schema, counts, options.exportedAt, options.onProgress),
        {
          objectMode: false,
        },
      );
      if (options.gzip) await pipeline(lines, createGzip(), output);
      else await pipeline(lines, output);
      return counts;
    });
}

/** The lines of UTF-8 text, numbered from 1; a last line without a newline counts. */
async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<[number, string]> {
  let number = 0;
  for await (const line of createInterface({ input: Readable.from(input), crlfDelay: Infinity })) {
    yield [++number, line];
  }
}

const headerLine = z.object({
  format: z.literal(DUMP_FORMAT),
  version: z.int().positive(),
  schema: z.string(),
  exportedAt: z.string(),
  installation: z.record(z.string(), z.string()).optional(),
});

const rowLine = z.strictObject({
  table: z.enum(DUMP_TABLES),
  row: z.record(z.string(), z.unknown()),
});

// Dumps of older Marquees lack the counts of tables they did not carry (moderation before 0009,
// schema_watch before 0010, short feeds, change log and webhooks before 0014, duplicate_pairs
// and event_links before 0014): a table a dump does not name has no rows.
const endLine = z.strictObject({
  end: z
    .partialRecord(z.enum(DUMP_TABLES), z.int().nonnegative())
    .transform((counts): TableCounts => ({ ...emptyCounts(), ...counts })),
});

const bodyLine = z.union([rowLine, endLine]);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    )
    .join('; ');
}

function parseJson(number: number, line: string): unknown {
  try {
    return JSON.parse(line);
  } catch (error) {
    throw new TransferError(`line ${number}: not JSON (${(error as Error).message})`);
  }
}

/** Runs a zod parse of line `number`; its failure becomes a TransferError that names the line. */
function checkLine<T>(number: number, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof z.ZodError) {
      throw new TransferError(`line ${number}: ${describeIssues(error)}`);
    }
    throw error;
  }
}

/**
 * Checks the first line: a Marquee dump this build can read, of a schema it knows. Returns the
 * installation's identity it carries (empty from dumps older than 0004).
 */
function checkHeader(number: number, line: string): Record<string, string> {
  const header = parseJson(number, line);
  if ((header as { format?: unknown } | null)?.format !== DUMP_FORMAT) {
    throw new TransferError(`line ${number}: not a Marquee dump (no "${DUMP_FORMAT}" header)`);
  }
  const { version, schema, installation } = checkLine(number, () => headerLine.parse(header));
  if (version > DUMP_VERSION) {
    throw new TransferError(
      `the dump has format version ${version}; this Marquee reads version ${DUMP_VERSION}: import it with a newer Marquee`,
    );
  }
  // An older schema's rows are checked as this one's: migrations so far only added columns, and
  // the added ones may be absent (events.withdrawn_at, 0004; events.last_delivery_id, 0005).
  if (!MIGRATION_NAMES.includes(schema)) {
    // Migration names start with their sequence number, so a later one sorts after.
    throw new TransferError(
      schema > LATEST_MIGRATION
        ? `the dump comes from a newer Marquee (schema ${schema}, this one has ${LATEST_MIGRATION}): upgrade Marquee first`
        : `the dump has schema ${schema}, which this Marquee does not know`,
    );
  }
  return installation ?? {};
}

/**
 * Stores the dumped installation's identity, replacing one the target stored when an instance
 * started on it before the import: the ids subscribers know are the dumped installation's.
 */
async function restoreInstallation(
  db: Queryable,
  installation: Record<string, string>,
): Promise<void> {
  const rows = Object.entries(installation).map(([key, value]) => ({ key, value }));
  if (rows.length === 0) return;
  await db
    .insertInto('installation')
    .values(rows)
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet((update) => ({ value: update.ref('excluded.value') })),
    )
    .execute();
}

async function countRows(db: Queryable, table: DumpTable): Promise<number> {
  const query = sql<{ count: number }>`select count(*) as count from ${sql.table(table)}`;
  const { rows } = await query.execute(db);
  return Number(rows[0]?.count ?? 0);
}

/** Refuses to mix a dump into existing data. */
async function checkEmpty(db: Queryable): Promise<void> {
  const found: string[] = [];
  for (const spec of TABLES) {
    const count = await countRows(db, spec.table);
    if (count > 0) found.push(`${count} ${spec.table}`);
  }
  if (found.length > 0) {
    throw new TransferError(
      `the target database is not empty (${found.join(', ')}); import only into a new database`,
    );
  }
}

/** Rows of one table waiting to be inserted together, with the lines they came from. */
interface Batch {
  spec: TableTransfer;
  rows: unknown[];
  bytes: number;
  firstLine: number;
  lastLine: number;
}

async function insertBatch(db: Queryable, batch: Batch): Promise<void> {
  try {
    await batch.spec.insert(db, batch.rows);
  } catch (error) {
    throw new TransferError(
      `lines ${batch.firstLine}-${batch.lastLine} (${batch.spec.table}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Inserts the rows of a dump's lines after the header; resolves to the counts once the end
 * line confirmed them.
 */
async function insertLines(
  db: Queryable,
  lines: AsyncIterator<[number, string]>,
  onProgress?: (counts: TableCounts) => void,
): Promise<TableCounts> {
  const counts = emptyCounts();
  let batch: Batch | null = null;
  let lastNumber = 1;
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const [number, line] = next.value;
    lastNumber = number;
    const json = parseJson(number, line);
    const entry = checkLine(number, () => bodyLine.parse(json));
    if ('end' in entry) {
      if (batch) await insertBatch(db, batch);
      checkEndCounts(number, entry.end, counts);
      const after = await lines.next();
      if (!after.done) throw new TransferError(`line ${after.value[0]}: text after the end line`);
      return counts;
    }
    const spec = TABLES_BY_NAME.get(entry.table)!;
    const row = checkLine(number, () => spec.parse(entry.row));
    const batchRows = rowsPerInsert(spec.columns.length);
    if (
      batch &&
      (batch.spec !== spec || batch.rows.length >= batchRows || batch.bytes >= PAGE_BYTES)
    ) {
      await insertBatch(db, batch);
      batch = null;
      onProgress?.(counts);
    }
    batch ??= { spec, rows: [], bytes: 0, firstLine: number, lastLine: number };
    batch.rows.push(row);
    batch.bytes += line.length;
    batch.lastLine = number;
    counts[spec.table] += 1;
  }
  throw new TransferError(
    `the dump ends at line ${lastNumber} without its end line: it is truncated`,
  );
}

/** The end line's counts must match the rows read: a dump cut at a line boundary is caught here. */
function checkEndCounts(number: number, expected: TableCounts, counts: TableCounts): void {
  const wrong = DUMP_TABLES.filter((table) => expected[table] !== counts[table]);
  if (wrong.length > 0) {
    const differences = wrong.map(
      (table) => `${table}: ${expected[table]} exported, ${counts[table]} in the dump`,
    );
    throw new TransferError(`line ${number}: rows are missing (${differences.join('; ')})`);
  }
}

/**
 * Moves the sequences behind deliveries.id, audit_log.id and event_changes.id past the imported
 * ids. PostgreSQL's serial only advances when it hands out an id, so inserting explicit ids leaves
 * it at 1 and the next row would collide with an imported one. SQLite's AUTOINCREMENT follows the
 * largest id inserted by itself.
 */
async function advanceSerialIds(db: Queryable): Promise<void> {
  if (!isPostgres(db)) return;
  for (const table of ['deliveries', 'audit_log', 'event_changes']) {
    await sql`select setval(pg_get_serial_sequence(${table}, 'id'), max(id))
      from ${sql.table(table)} having max(id) is not null`.execute(db);
  }
}

/**
 * Numbers the next logged change after every subscription's cursor too. Retention may have pruned
 * the log up to its newest change, which then is not in the dump: numbering after the imported
 * rows alone would hand out ids the cursors have passed (those changes would never be sent) and
 * `webhook-id`s the subscribers have already seen.
 */
async function advanceChangeIds(db: Queryable): Promise<void> {
  const row = await db
    .selectFrom('webhook_subscriptions')
    .select((eb) => eb.fn.max('cursor').as('cursor'))
    .executeTakeFirst();
  const cursor = Number(row?.cursor ?? 0);
  if (cursor === 0) return;
  if (isPostgres(db)) {
    await sql`select setval(pg_get_serial_sequence('event_changes', 'id'),
      greatest(${cursor}::bigint, (select coalesce(max(id), 0) from event_changes)))`.execute(db);
    return;
  }
  const { numAffectedRows } = await sql`update sqlite_sequence set seq = max(seq, ${cursor})
    where name = 'event_changes'`.execute(db);
  if (Number(numAffectedRows ?? 0) === 0) {
    await sql`insert into sqlite_sequence (name, seq) values ('event_changes', ${cursor})`.execute(
      db,
    );
  }
}

/**
 * Keeps running instances from writing while the dump goes in: a delivery they receive waits
 * for the import and then takes an id after the imported ones, instead of colliding with one.
 * Reads (serving feeds) go on.
 */
async function lockTables(db: Queryable): Promise<void> {
  if (!isPostgres(db)) return;
  const tables = sql.join(TABLES.map((spec) => sql.table(spec.table)));
  await sql`lock table ${tables} in exclusive mode`.execute(db);
}

function isZlibError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Reads a dump (gunzipping with `gzip`) into an empty, migrated database in one transaction:
 * all of it or, on any error, nothing. Resolves to the number of rows per table; `onProgress`
 * hears the rows read so far after each batch inserted.
 */
export async function importDatabase(
  handle: DatabaseHandle,
  input: Readable,
  options: { gzip?: boolean; onProgress?: (counts: TableCounts) => void } = {},
): Promise<TableCounts> {
  const pending = await pendingMigrations(handle.db);
  if (pending.length > 0) {
    throw new TransferError(`the target database is not migrated (pending: ${pending.join(', ')})`);
  }
  let counts = emptyCounts();
  const importText = async (source: AsyncIterable<Buffer | string>) => {
    counts = await handle.db.transaction().execute(async (trx) => {
      await lockTables(trx);
      await checkEmpty(trx);
      const lines = readLines(source);
      const first = await lines.next();
      if (first.done) throw new TransferError('the dump is empty');
      const installation = checkHeader(...first.value);
      const inserted = await insertLines(trx, lines, options.onProgress);
      await restoreInstallation(trx, installation);
      await advanceSerialIds(trx);
      await advanceChangeIds(trx);
      // Other instances on this database drop their cached feeds when the import commits.
      await announceEventsChanged(trx, {
        writer: `marquee-import:${os.hostname()}:${process.pid}`,
        facets: true,
      });
      return inserted;
    });
  };
  try {
    if (options.gzip) await pipeline(input, createGunzip(), importText);
    else await pipeline(input, importText);
  } catch (error) {
    if (isZlibError(error)) {
      throw new TransferError(
        `the dump is not valid gzip or is truncated (${(error as Error).message})`,
      );
    }
    throw error;
  }
  return counts;
}
