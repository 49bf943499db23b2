import type { Queryable } from '../db/connection.js';
import { listSchemaWatch } from '../inbox/schema-watch-repository.js';
import { isSourceName, type Sources } from '../sources/index.js';
import type { WatchKind } from '../sources/schema-watcher.js';

/** One finding: what was seen, how often, when, and a delivery that held it. */
export interface SchemaWatchFinding {
  value: string;
  /** How often it occurred, over all deliveries. */
  occurrences: number;
  /** In how many deliveries. */
  deliveries: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** The newest delivery that held it (GET /admin/api/deliveries/:id while its body is kept). */
  exampleDelivery: number;
}

/** What one source sent beyond what its adapter reads. */
export interface SourceSchemaWatch {
  source: string;
  /** Payload keys the adapter does not read, as paths with array indexes collapsed (`a[].b`). */
  unreadPaths: SchemaWatchFinding[];
  /** Message types it stored and ignored as unknown. */
  unknownMessageTypes: SchemaWatchFinding[];
  /** Event statuses it does not know (Stager). */
  unknownStatuses: SchemaWatchFinding[];
  /** Envelope forms seen (Eventport's `type/method/version`), and whether the adapter reads each. */
  combinations: (SchemaWatchFinding & { handled: boolean })[];
}

/** Everything the schema watch recorded, per source; findings the adapters read by now are left out. */
export async function collectSchemaWatch(
  db: Queryable,
  sources: Sources,
): Promise<SourceSchemaWatch[]> {
  const rows = await listSchemaWatch(db);
  const bySource = new Map<string, SourceSchemaWatch>(
    Object.values(sources).map((adapter) => [
      adapter.name,
      {
        source: adapter.name,
        unreadPaths: [],
        unknownMessageTypes: [],
        unknownStatuses: [],
        combinations: [],
      },
    ]),
  );
  for (const row of rows) {
    const watch = bySource.get(row.source);
    if (!watch || !isSourceName(row.source)) continue;
    const watcher = sources[row.source].watch;
    const knows = (kind: WatchKind) => watcher.knows(kind, row.value);
    const finding: SchemaWatchFinding = {
      value: row.value,
      occurrences: Number(row.occurrences),
      deliveries: Number(row.deliveries),
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      exampleDelivery: Number(row.example_delivery_id),
    };
    switch (row.kind) {
      case 'path':
        if (!knows('path')) watch.unreadPaths.push(finding);
        break;
      case 'message-type':
        if (!knows('message-type')) watch.unknownMessageTypes.push(finding);
        break;
      case 'status':
        if (!knows('status')) watch.unknownStatuses.push(finding);
        break;
      case 'combination':
        watch.combinations.push({ ...finding, handled: knows('combination') });
        break;
    }
  }
  return [...bySource.values()];
}

/** The number of findings an operator may need to look at: everything but handled forms. */
export function countSchemaWatchFindings(watch: readonly SourceSchemaWatch[]): number {
  return watch.reduce(
    (sum, source) =>
      sum +
      source.unreadPaths.length +
      source.unknownMessageTypes.length +
      source.unknownStatuses.length +
      source.combinations.filter((combination) => !combination.handled).length,
    0,
  );
}
