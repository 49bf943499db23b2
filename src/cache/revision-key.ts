/**
 * What every per-event cache keys on: one stored revision of one event. Fragments, list items
 * and mapped rows all build their keys here, so "this revision of this event" means one thing.
 */

/** The fields of a mapped event that change whenever what it shows may change. */
export interface EventRevision {
  id: string;
  /** Increases on every material change: the documented key. */
  revision: number;
  lastChangedAt: Date;
  firstSeenAt: Date;
  effectiveEndsAt: Date;
  /** A merged event's records and a duplicate's tombstone show differently at one revision. */
  records?: readonly { id: string }[];
  duplicateOf?: string;
}

/** The key of one revision of event `id`; `stamp` names the revision (see `eventStamp`). */
export function eventRevisionKey(id: string, stamp: string): string {
  return `${id}|${stamp}`;
}

/**
 * The stamp of a mapped event. The dates shown in output are part of it: that costs nothing and
 * keeps entries right should one change without a revision bump.
 */
export function eventStamp(event: EventRevision): string {
  const stamp = `${event.revision}|${event.lastChangedAt.getTime()}|${event.firstSeenAt.getTime()}|${event.effectiveEndsAt.getTime()}`;
  if (event.duplicateOf !== undefined) return `${stamp}|duplicate of ${event.duplicateOf}`;
  if (event.records === undefined) return stamp;
  return `${stamp}|with ${event.records.map((record) => record.id).join(' ')}`;
}

/** The revision key of a mapped event. */
export function keyOfEvent(event: EventRevision): string {
  return eventRevisionKey(event.id, eventStamp(event));
}
