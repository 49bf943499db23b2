import type { Event } from '../events/types.js';

/**
 * The words every output uses for an event's status: the HTML badges and the lines of
 * calendar and feed descriptions say the same thing in the same words.
 */
export const STATUS_WORDS = {
  cancelled: 'Cancelled',
  rescheduled: 'Rescheduled',
  relocated: 'New location',
  soldOut: 'Sold out',
  openEnded: 'End time not announced',
} as const;

/** Prefix of a tombstone's calendar title: a withdrawn event, in the style of CANCELLED_PREFIX. */
export const REMOVED_PREFIX = 'Removed: ';

/** The line a tombstone's calendar description opens with. */
export const REMOVED_NOTE = 'Removed: this event is no longer listed.';

/** Prefix of the calendar title of a record merged into another event (its tombstone). */
export const DUPLICATE_PREFIX = 'Duplicate: ';

/** The line a merged record's tombstone opens with: where the one event now is. */
export function duplicateNote(url: string): string {
  return `Duplicate, see ${url}`;
}

/**
 * The status facts a description must state because nothing else in the output carries them:
 * a new location, a reschedule whose earlier start is unknown (a known one has its own
 * "Rescheduled from" line), and an end that was not announced.
 */
export function statusNotes(event: Event): string[] {
  const notes: string[] = [];
  if (event.status === 'relocated') notes.push(STATUS_WORDS.relocated);
  if (event.status === 'rescheduled' && event.previousStartsAt === null) {
    notes.push(STATUS_WORDS.rescheduled);
  }
  if (event.endsAt === null) notes.push(STATUS_WORDS.openEnded);
  return notes;
}

/** Plain text: `notes`, a line each, as a paragraph before `description`; null when both are empty. */
export function withNotes(notes: readonly string[], description: string | null): string | null {
  const paragraphs = notes.length > 0 ? [notes.join('\n')] : [];
  if (description !== null) paragraphs.push(description);
  return paragraphs.length > 0 ? paragraphs.join('\n\n') : null;
}
