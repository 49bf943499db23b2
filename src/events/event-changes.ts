import type { Queryable } from '../db/connection.js';
import type { Event } from './types.js';

/**
 * The change log's domain: what kinds of change a published event goes through, one logged
 * change, and the recorder ingest hands its writes to (implemented in changes/change-log.ts).
 */

/** Every kind of change the log records, in the words of the changes feed. */
export const CHANGE_KINDS = [
  'created',
  'updated',
  'rescheduled',
  'relocated',
  'cancelled',
  'removed',
  'merged',
] as const;

export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One published revision of an event. */
export interface EventChange {
  /** Position in the log: grows with every change, across events. */
  id: number;
  eventId: string;
  /** The event's revision after the change. */
  revision: number;
  kind: ChangeKind;
  /** "Start moved from Sat 5 Dec 20:30 to Sun 6 Dec 20:30" */
  summary: string;
  changedAt: Date;
  /** The event as the change left it. */
  event: Event;
}

/**
 * Records the changes of one message's (or admin action's) writes, inside their transaction:
 * `capture` notes the state of events (as outputs show them, merges applied) before writes that
 * may change them, `record` logs every captured event whose revision the writes moved (and that
 * is or was published under its own id), and replaces the entries of an event the writes
 * withheld from publication by one removal.
 */
export interface ChangeRecorder {
  capture(db: Queryable, ids: readonly string[]): Promise<void>;
  record(db: Queryable, at: Date): Promise<number>;
}
