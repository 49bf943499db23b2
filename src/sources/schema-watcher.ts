/**
 * What a source's adapter tells the schema watch about a payload: the keys it did not read, the
 * message types and statuses it does not know, the envelope forms it saw. Each adapter answers
 * from its own schemas, so what counts as known is never listed twice.
 */

/**
 * `path`: a payload key the adapter does not read; `message-type`: a message type it ignores as
 * unknown; `status`: an event status it does not know; `combination`: an envelope form seen
 * (Eventport's `type/method/version`), known or not.
 */
export type WatchKind = 'path' | 'message-type' | 'status' | 'combination';

export const WATCH_KINDS: readonly WatchKind[] = ['path', 'message-type', 'status', 'combination'];

/** Longest value kept: longer ones (a sender's garbage) are cut. */
const MAX_VALUE_LENGTH = 200;

/** One payload's findings: per kind, each value with how often it occurred in the payload. */
export class SchemaObservation {
  readonly counts = new Map<WatchKind, Map<string, number>>();

  /** Counts `value` of `kind` `times` more. */
  add(kind: WatchKind, value: string, times = 1): void {
    const key = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value;
    let values = this.counts.get(kind);
    if (!values) this.counts.set(kind, (values = new Map()));
    values.set(key, (values.get(key) ?? 0) + times);
  }

  /** Every finding, kind by kind. */
  entries(): { kind: WatchKind; value: string; count: number }[] {
    return [...this.counts].flatMap(([kind, values]) =>
      [...values].map(([value, count]) => ({ kind, value, count })),
    );
  }
}

/** A source's part of the schema watch. */
export interface SchemaWatcher {
  /** What `payload` holds that the adapter does not read or know. Never throws. */
  observe(payload: unknown): SchemaObservation;
  /**
   * True when the adapter as it is now reads or knows `value`: findings recorded before it
   * learned them are not shown. For `combination`: whether the adapter handles that form.
   */
  knows(kind: WatchKind, value: string): boolean;
}
