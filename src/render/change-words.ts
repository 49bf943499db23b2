import type { ChangeKind } from '../events/event-changes.js';
import type { Event, EventRecordRef, Venue } from '../events/types.js';
import { displayTitle, formatDayTime, oneLine, placeLine, pricesLine } from './event-text.js';

/**
 * What one revision of an event changed, as a kind and plain words ("Start moved from Sat 5 Dec
 * 20:30 to Sun 6 Dec 20:30"), times in the event's own zone. Pure: the change log calls it with
 * the stored event before and after a write.
 */

/** The word for each kind of change: the title prefix of a changes feed entry. */
export const CHANGE_KIND_WORDS: Record<ChangeKind, string> = {
  created: 'New',
  updated: 'Updated',
  rescheduled: 'Rescheduled',
  relocated: 'New location',
  cancelled: 'Cancelled',
  removed: 'Removed',
  merged: 'Merged',
};

/**
 * The kind and words of the one entry left of an event an operator withheld (hid, blocked its
 * organization, or a test delivery wrote it): a removal that names no cause, since "withdrawn by
 * the organizer" would be false and the operator's reasons are not the public's business.
 */
export function describeWithholding(): { kind: ChangeKind; summary: string } {
  return { kind: 'removed', summary: 'Removed: no longer listed' };
}

/**
 * The kind and words of the change from `before` (null: not stored) to `after`, each as outputs
 * show it (a merged event with its `records`, a merged-away record with `duplicateOf`); null
 * when the event neither is nor was published under its own id, or when nothing public changed.
 */
export function describeChange(
  before: Event | null,
  after: Event,
): { kind: ChangeKind; summary: string } | null {
  const wasPublic = before !== null && isShownAsItself(before);
  if (!isShownAsItself(after)) {
    if (!wasPublic) return null;
    if (after.duplicateOf !== undefined && after.visibility === 'public') {
      return { kind: 'removed', summary: `Duplicate of ${after.duplicateOf}: now one event` };
    }
    return {
      kind: 'removed',
      summary:
        after.visibility === 'hidden'
          ? 'Withdrawn by the organizer: no longer public'
          : 'Removed: no longer listed by the organizer',
    };
  }
  if (!wasPublic) {
    const place = placeLine(after.venue);
    const when = formatDayTime(after.startsAt, after.timeZone);
    const listed = before === null ? 'Announced' : 'Listed again';
    return {
      kind: after.status === 'cancelled' ? 'cancelled' : 'created',
      summary: `${listed}: ${when}${place === null ? '' : ` at ${place}`}`,
    };
  }
  const facts = differences(before, after);
  const joined = otherRecords(after, before);
  if (joined.length > 0) {
    const names = joined.map((record) => `${record.source} (${record.id})`).join(', ');
    return {
      kind: 'merged',
      summary: [`Also listed by ${names}, now one event`, ...facts].join('; '),
    };
  }
  const parted = otherRecords(before, after);
  let kind: ChangeKind = 'updated';
  if (after.status === 'cancelled' && before.status !== 'cancelled') kind = 'cancelled';
  else if (before.startsAt.getTime() !== after.startsAt.getTime()) kind = 'rescheduled';
  else if (venueChanged(before.venue, after.venue) || becameRelocated(before, after)) {
    kind = 'relocated';
  }
  if (kind === 'cancelled') facts.unshift('Cancelled');
  if (parted.length > 0) {
    const names = parted.map((record) => `${record.source} (${record.id})`).join(', ');
    facts.unshift(`Listed again on its own: no longer one event with ${names}`);
  }
  if (facts.length === 0) facts.push('Details updated');
  return { kind, summary: facts.join('; ') };
}

/** Whether outputs show the event under its own id: public, and not merged into another. */
function isShownAsItself(event: Event): boolean {
  return event.visibility === 'public' && event.duplicateOf === undefined;
}

/** The records `event` is made of besides its own that `other` is not made of. */
function otherRecords(event: Event, other: Event): EventRecordRef[] {
  const known = new Set((other.records ?? []).map((record) => record.id));
  return (event.records ?? []).filter((record) => record.id !== event.id && !known.has(record.id));
}

function becameRelocated(before: Event, after: Event): boolean {
  return after.status === 'relocated' && before.status !== 'relocated';
}

function venueChanged(before: Venue, after: Venue): boolean {
  return (
    before.name !== after.name ||
    before.street !== after.street ||
    before.city !== after.city ||
    before.postalCode !== after.postalCode
  );
}

/** Each public fact that differs, as a sentence. */
function differences(before: Event, after: Event): string[] {
  const facts: string[] = [];
  const zone = after.timeZone;
  const time = (instant: Date | null) => (instant === null ? null : formatDayTime(instant, zone));
  const moved = (what: string, from: string | null, to: string | null) => {
    if (from === to) return;
    if (from === null) facts.push(`${what} set to ${to}`);
    else if (to === null) facts.push(`${what} no longer given (was ${from})`);
    else facts.push(`${what} moved from ${from} to ${to}`);
  };
  const changed = (what: string, from: string | null, to: string | null) => {
    if (from === to) return;
    if (from === null) facts.push(`${what} added: ${to}`);
    else if (to === null) facts.push(`${what} removed (was ${from})`);
    else facts.push(`${what} changed from ${from} to ${to}`);
  };
  if (before.status === 'cancelled' && after.status !== 'cancelled') {
    facts.push('No longer cancelled');
  }
  changed('Title', displayTitle(before), displayTitle(after));
  moved('Start', time(before.startsAt), time(after.startsAt));
  moved('End', time(before.endsAt), time(after.endsAt));
  moved('Doors', time(before.doorsAt), time(after.doorsAt));
  if (venueChanged(before.venue, after.venue)) {
    changed('Venue', placeOrStreet(before.venue), placeOrStreet(after.venue));
  } else if (becameRelocated(before, after)) {
    facts.push('New location');
  }
  if (before.soldOut !== after.soldOut) {
    facts.push(after.soldOut ? 'Sold out' : 'Tickets available again');
  }
  changed('Prices', pricesLine(before.prices), pricesLine(after.prices));
  changed('Genres', listText(before.genres), listText(after.genres));
  if (before.ticketUrl !== after.ticketUrl) facts.push('Ticket link changed');
  if (
    before.descriptionText !== after.descriptionText ||
    before.descriptionHtml !== after.descriptionHtml
  ) {
    facts.push('Description changed');
  }
  if (before.image?.url !== after.image?.url) facts.push('Image changed');
  return facts.map(oneLine);
}

function placeOrStreet(venue: Venue): string | null {
  const place = placeLine(venue);
  if (place === null) return venue.street === null ? null : oneLine(venue.street);
  return venue.street === null ? place : `${place} (${oneLine(venue.street)})`;
}

function listText(values: readonly string[]): string | null {
  const lines = values.map(oneLine).filter((value) => value !== '');
  return lines.length > 0 ? lines.join(', ') : null;
}
