import type { Queryable } from '../db/connection.js';
import { toDate } from './event-rows.js';
import type { SourceName } from './types.js';

export interface OrganizationSync {
  source: SourceName;
  id: string;
  name: string | null;
  lastSyncAt: Date | null;
  lastSyncEventCount: number | null;
}

/** Records that an authoritative sync of an organization was applied. */
export async function recordOrganizationSync(
  db: Queryable,
  source: SourceName,
  organization: { id: string; name: string | null },
  eventCount: number,
  at: { receivedAt: Date },
): Promise<void> {
  const values = {
    name: organization.name,
    last_sync_at: at.receivedAt.toISOString(),
    last_sync_event_count: eventCount,
  };
  await db
    .insertInto('organizations')
    .values({ source, external_id: organization.id, last_sync_delivery_id: null, ...values })
    .onConflict((conflict) => conflict.columns(['source', 'external_id']).doUpdateSet(values))
    .execute();
}

/** Every organization that ever synced, with its last sync. */
export async function listOrganizations(db: Queryable): Promise<OrganizationSync[]> {
  const rows = await db
    .selectFrom('organizations')
    .selectAll()
    .orderBy('source')
    .orderBy('name')
    .execute();
  return rows.map((row) => ({
    source: row.source as SourceName,
    id: row.external_id,
    name: row.name,
    lastSyncAt: toDate(row.last_sync_at),
    lastSyncEventCount: row.last_sync_event_count,
  }));
}
