import type { Queryable } from '../db/connection.js';

/** The audit log: every admin action, kept in the database (and in dumps). */

export interface AuditEntry {
  id: number;
  at: string;
  /** What was asked: `event.hide`, `organization.block`, `delivery.replay`... */
  action: string;
  /** What it was asked of: an event id, `<source>/<organization id>`, a delivery id. */
  target: string;
  /** `done`, `unchanged` (nothing to do), `not-found`, `refused` or `failed`. */
  outcome: string;
  /** Counts or a reason, when there are any. */
  detail: unknown;
  /** The client's address (see TRUST_PROXY): the token is the only identity there is. */
  client: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/** Appends one entry. */
export async function recordAudit(db: Queryable, entry: NewAuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: entry.at,
      action: entry.action,
      target: entry.target.slice(0, 500),
      outcome: entry.outcome,
      detail:
        entry.detail === null || entry.detail === undefined ? null : JSON.stringify(entry.detail),
      client: entry.client,
    })
    .execute();
}

/** Newest entries first, with the total count. */
export async function listAudit(
  db: Queryable,
  page: { limit: number; offset: number },
): Promise<{ total: number; entries: AuditEntry[] }> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const count = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return {
    total: Number(count.count),
    entries: rows.map((row) => ({
      id: row.id,
      at: row.at,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown),
      client: row.client,
    })),
  };
}
