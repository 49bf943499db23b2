import type { Queryable } from './connection.js';

/**
 * Values fixed once per installation, stored at its first start. Ids that calendars and feed
 * readers keep (ICS UIDs, feed item ids) are built from them, never from PUBLIC_URL, so moving the
 * site to another domain or correcting PUBLIC_URL does not make every event appear twice.
 */
export interface InstallationIdentity {
  /**
   * Domain of ICS UIDs (`<event id>@<domain>`) and authority of feed item ids: UID_DOMAIN, or
   * PUBLIC_URL's host, at the first start; UID_DOMAIN replaces it while set.
   */
  uidDomain: string;
  /** Day of the first start (YYYY-MM-DD): the date of the `tag:` URIs of feed item ids (RFC 4151). */
  since: string;
}

/**
 * Reads the installation's identity, storing it first when this is the installation's first
 * start (or its first start since identities were stored: it keeps the host it has been using).
 * A `uidDomain` (UID_DOMAIN) is stored at the first start and replaces the stored domain while
 * set. Safe when several instances start at once: the first insert wins, every instance reads it.
 */
export async function settleInstallationIdentity(
  db: Queryable,
  start: { publicHost: string; uidDomain: string | null; now: Date },
): Promise<InstallationIdentity> {
  const proposed = {
    uid_domain: start.uidDomain ?? start.publicHost,
    since: start.now.toISOString().slice(0, 10),
  };
  await db
    .insertInto('installation')
    .values(Object.entries(proposed).map(([key, value]) => ({ key, value })))
    .onConflict((conflict) => conflict.column('key').doNothing())
    .execute();
  const rows = await db
    .selectFrom('installation')
    .select(['key', 'value'])
    .where('key', 'in', Object.keys(proposed))
    .execute();
  const stored = new Map(rows.map((row) => [row.key, row.value]));
  return {
    uidDomain: start.uidDomain ?? stored.get('uid_domain') ?? proposed.uid_domain,
    since: stored.get('since') ?? proposed.since,
  };
}

/** The start of the installation's first day (UTC): the earliest time its data can have changed. */
export function installationStart(identity: Pick<InstallationIdentity, 'since'>): Date {
  return new Date(`${identity.since}T00:00:00.000Z`);
}
