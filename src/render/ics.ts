import { ICalCalendar, ICalCalendarMethod, escape } from 'ical-generator';
import { cleanText } from '../events/description.js';
import { isKnownTimeZone, wallTimeIn, zeroPad } from '../events/time.js';
import type { CancelledDisplay } from '../events/filter.js';
import { isWithdrawn, type Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';
import type { FragmentCache } from '../cache/fragment-cache.js';
import { FeedDocument, eventFragments } from './feed-document.js';
import {
  descriptionPlainText,
  displayTitle,
  imageMediaType,
  isCancelled,
  localityLine,
  locationLine,
  oneLine,
  presentLines,
  safeHttpUrl,
  summaryTitle,
} from './event-text.js';
import { eventPageUrl } from './event-url.js';
import {
  DUPLICATE_PREFIX,
  duplicateNote,
  REMOVED_NOTE,
  REMOVED_PREFIX,
  STATUS_WORDS,
  statusNotes,
  withNotes,
} from './status-words.js';
import { hasUnambiguousWallTime, renderVtimezone } from './vtimezone.js';

/**
 * iCalendar (RFC 5545) output. ical-generator writes the calendar's properties and provides the
 * TEXT escaping and line folding; this module writes the VEVENTs and VTIMEZONEs itself, because
 * ical-generator's calendar-level output has traps for a multi-zone feed (see renderHeader and
 * dateTimeLine), so that VEVENTs can be cached, and because its per-event object model cost
 * most of a cold render.
 */

const CRLF = '\r\n';
const REFRESH_SECONDS = 3600;
// An empty calendar's VTIMEZONE covers a year.
const EMPTY_ZONE_SPAN_MS = 366 * 86_400_000;
const PRODID = { company: 'Marquee', product: 'Marquee', language: 'EN' };

/**
 * How a calendar shows cancelled events and tombstones (withdrawn events, see `isWithdrawn`):
 * `status` as STATUS:CANCELLED, `visible` as STATUS:CONFIRMED with a line in DESCRIPTION, for
 * clients that drop cancelled events from a subscription (Google Calendar). Either way the
 * title carries the prefix.
 */
export interface IcsOptions {
  cancelled?: CancelledDisplay;
  /**
   * Largest body in bytes (ICS_MAX_BYTES). Past it, descriptions longer than
   * SHORT_DESCRIPTION_CHARS are shortened, ending with the event page's URL; if that is not
   * enough, the latest-starting events are left out and the calendar's description says so.
   */
  maxBytes?: number;
}

/** Renders a calendar of `events` in the given order. */
export function renderIcs(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
  options: IcsOptions = {},
): string {
  return icsDocument(events, channel, cache, options).text();
}

/**
 * The calendar of `events` in the given order, as a document of VEVENTs, within
 * `options.maxBytes`. With a cache, a VEVENT is rendered once per event revision, channel,
 * display of cancellations and description length (whole, or shortened for the budget).
 */
export function icsDocument(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
  options: IcsOptions = {},
): FeedDocument {
  const display = options.cancelled ?? 'status';
  const namespace = display === 'status' ? 'ics' : `ics|cancelled=${display}`;
  const fragmentsOf = (length: DescriptionLength) =>
    eventFragments(
      length === 'full' ? namespace : `${namespace}|short`,
      events,
      channel,
      cache,
      (missing) =>
        missing.map((event) =>
          renderVevent(event, channel, resolveZone(event.timeZone), display, length),
        ),
    );
  const zones = vtimezonesOf(events, channel);
  const tail = 'END:VCALENDAR' + CRLF;
  const header = renderHeader(channel);
  const full = fragmentsOf('full');
  const maxBytes = options.maxBytes ?? Infinity;
  const frame = utf8Length(header) + utf8Length(zones) + utf8Length(tail);
  if (frame + totalLength(full) <= maxBytes) return new FeedDocument(header + zones, full, tail);

  const short = fragmentsOf('short');
  if (frame + totalLength(short) <= maxBytes) return new FeedDocument(header + zones, short, tail);

  // Still too large: the latest-starting events are left out, and the description says how many.
  const byStart = events
    .map((event, index) => ({ start: event.startsAt.getTime(), index }))
    .sort((a, b) => a.start - b.start || a.index - b.index)
    .map((entry) => entry.index);
  const keptBytes = [0];
  for (const index of byStart) {
    keptBytes.push((keptBytes.at(-1) as number) + (short[index] as Uint8Array).byteLength);
  }
  const headerLeavingOut = (count: number) =>
    renderHeader(channel, leftOutNote(count, channel.htmlUrl));
  const fits = (kept: number) =>
    utf8Length(headerLeavingOut(events.length - kept)) +
      utf8Length(zones) +
      utf8Length(tail) +
      (keptBytes[kept] as number) <=
    maxBytes;
  // The largest number of earliest-starting events that fits (fewer events, fewer bytes).
  let low = 0;
  let high = events.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  const kept = new Set(byStart.slice(0, low));
  const keptFragments = short.filter((_, index) => kept.has(index));
  return new FeedDocument(
    headerLeavingOut(events.length - low) +
      (zones === '' && low === 0 ? vtimezonesOf([], channel) : zones),
    keptFragments,
    tail,
  );
}

/** How a VEVENT's DESCRIPTION is written: whole, or shortened to fit a size budget. */
type DescriptionLength = 'full' | 'short';

/** Descriptions longer than this are shortened when a calendar would exceed its budget. */
export const SHORT_DESCRIPTION_CHARS = 400;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function totalLength(fragments: readonly Uint8Array[]): number {
  let total = 0;
  for (const fragment of fragments) total += fragment.byteLength;
  return total;
}

/** The calendar description's sentence about events left out for size. */
function leftOutNote(count: number, htmlUrl: string): string {
  const events = count === 1 ? '1 later event' : `${count} later events`;
  return `${events} left out to stay within calendar apps' size limits; see ${htmlUrl}`;
}

/**
 * The VTIMEZONEs of `events`' zones, each covering the times its events show, from the first
 * start to the last end. RFC 5545 asks a calendar for at least one component, so an empty one
 * carries the VTIMEZONE of the site's zone, over the year from its (data-derived) modification
 * time.
 */
function vtimezonesOf(events: readonly Event[], channel: FeedChannel): string {
  const spans = new Map<string, { zone: ResolvedZone; from: Date; to: Date }>();
  for (const event of events) {
    const zone = resolveZone(event.timeZone);
    if (zone === null) continue;
    const end = calendarEnd(event) ?? event.startsAt;
    const span = spans.get(zone.tzid);
    if (span === undefined) spans.set(zone.tzid, { zone, from: event.startsAt, to: end });
    else {
      if (event.startsAt < span.from) span.from = event.startsAt;
      if (end > span.to) span.to = end;
    }
  }
  if (events.length === 0) {
    const from = channel.updated;
    spans.set(channel.timeZone, {
      zone: { tzid: channel.timeZone, timeZone: channel.timeZone },
      from,
      to: new Date(from.getTime() + EMPTY_ZONE_SPAN_MS),
    });
  }
  return [...spans.keys()]
    .sort()
    .map((tzid) => {
      const span = spans.get(tzid);
      return span === undefined
        ? ''
        : renderVtimezone(tzid, span.zone.timeZone, span.from, span.to);
    })
    .join('');
}

/** Renders a calendar holding one event (GET /events/:id.ics); a withdrawn one as a tombstone. */
export function renderSingleEventIcs(event: Event, channel: FeedChannel): string {
  return renderIcs([event], channel);
}

/**
 * VCALENDAR properties. ical-generator writes NAME, X-WR-CALNAME and X-WR-CALDESC without
 * TEXT escaping (so they are escaped here), puts X- properties after the components and ends
 * without a CRLF, so only its property block is kept.
 */
function renderHeader(channel: FeedChannel, note?: string): string {
  const description = icsText(
    note === undefined ? channel.description : `${channel.description}. ${note}`,
  );
  const calendar = new ICalCalendar({
    prodId: PRODID,
    method: ICalCalendarMethod.PUBLISH,
    name: escape(icsText(channel.title), false),
    description: description === '' ? null : escape(description, false),
    ttl: REFRESH_SECONDS,
    x: [['X-WR-TIMEZONE', channel.timeZone]],
  });
  const text = calendar.toString();
  const end = 'END:VCALENDAR';
  if (!text.endsWith(end)) throw new Error('render: unexpected calendar text from ical-generator');
  return text.slice(0, -end.length);
}

interface ResolvedZone {
  /** The TZID of the VTIMEZONE: the zone's name as the event gives it (Europe/Kyiv stays). */
  tzid: string;
  /** The zone whose wall-clock times DTSTART and DTEND show. */
  timeZone: string;
}

const UTC_ZONE = /^(etc\/)?(utc|uct|gmt|zulu|universal|greenwich)([+-]?0)?$/i;

/** The zone an event's times are written in, or null when they are written in UTC. */
function resolveZone(timeZone: string): ResolvedZone | null {
  if (UTC_ZONE.test(timeZone) || !isKnownTimeZone(timeZone)) return null;
  return { tzid: timeZone, timeZone };
}

/**
 * The DTEND instant: the event's end, or for an open-ended event the repository's documented
 * default end (RFC 5545 reads a missing DTEND as a zero-length event).
 */
function calendarEnd(event: Event): Date | null {
  const start = event.startsAt.getTime();
  return (
    [event.endsAt, event.effectiveEndsAt].find(
      (candidate): candidate is Date => candidate !== null && candidate.getTime() > start,
    ) ?? null
  );
}

/** Text as iCalendar TEXT may carry it: no control characters but tab and line breaks. */
function icsText(text: string): string {
  // cleanText also removes DEL (U+007F).
  return cleanText(text).trim();
}

// Six decimals (~10 cm) also keeps String() away from exponent notation, which GEO forbids.
function coordinate(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * One VEVENT, written here rather than with ical-generator's per-event object model: a cold
 * calendar writes a thousand of them. Properties come in the order ical-generator wrote them,
 * with its TEXT escaping and line folding, so clients read the same calendar as before.
 */
function renderVevent(
  event: Event,
  channel: FeedChannel,
  zone: ResolvedZone | null,
  display: CancelledDisplay,
  length: DescriptionLength,
): string {
  const end = calendarEnd(event);
  const whole = calendarDescription(event, channel, display);
  const pageUrl = eventPageUrl(channel.publicUrl, event.id);
  const description =
    whole === null || length === 'full' ? whole : shortDescription(whole, pageUrl);
  const calledOff = isCancelled(event) || isWithdrawn(event);
  const categories: string[] = [];
  for (const genre of event.genres) {
    const name = icsText(oneLine(genre));
    if (name !== '') categories.push(textValue(name));
  }
  const title = locationText(event);
  const lines = [
    'BEGIN:VEVENT',
    // The UID is TEXT-escaped: an id with a line break would otherwise inject properties.
    `UID:${textValue(icsText(`${event.id}@${channel.uidDomain}`))}`,
    `SEQUENCE:${event.revision}`,
    `DTSTAMP:${utcDateTime(event.lastChangedAt)}`,
    dateTimeLine('DTSTART', event.startsAt, zone),
  ];
  if (end !== null) lines.push(dateTimeLine('DTEND', end, zone));
  lines.push(`SUMMARY:${textValue(icsText(calendarSummary(event, channel)))}`);
  if (title !== null) lines.push(`LOCATION:${textValue(title)}`);
  if (description !== null) lines.push(`DESCRIPTION:${textValue(icsText(description))}`);
  if (categories.length > 0) lines.push(`CATEGORIES:${categories.join(',')}`);
  lines.push(
    `URL;VALUE=URI:${textValue(pageUrl)}`,
    `STATUS:${calledOff && display === 'status' ? 'CANCELLED' : 'CONFIRMED'}`,
    `CREATED:${utcDateTime(event.firstSeenAt)}`,
    `LAST-MODIFIED:${utcDateTime(event.lastChangedAt)}`,
  );
  const point = venuePoint(event);
  if (point !== null) {
    lines.push(`GEO:${point.latitude};${point.longitude}`);
    if (title !== null) lines.push(appleLocationLine(event, point, title));
  }
  lines.push(...imageLines(event), 'END:VEVENT');
  let vevent = '';
  for (const line of lines) vevent += `${foldLine(line)}${CRLF}`;
  return vevent;
}

const TEXT_SPECIALS = /[\\;,\r\n]/;

/** A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as \n. */
function textValue(text: string): string {
  if (!TEXT_SPECIALS.test(text)) return text;
  return text.replace(/[\\;,]/g, '\\$&').replace(/\r\n|\r|\n/g, '\\n');
}

// Octets of a content line before it is folded; a continuation line adds its leading space.
const FOLD_OCTETS = 74;
// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007F]/;

/**
 * A content line folded (RFC 5545 3.1) where ical-generator's foldLines folded it: after
 * FOLD_OCTETS octets of UTF-8, never inside a character, copying slices rather than characters
 * (ical-generator's took a fifth of a cold render).
 */
function foldLine(line: string): string {
  // Three octets at most per UTF-16 unit (four per surrogate pair): too short to fold.
  if (line.length * 3 <= FOLD_OCTETS) return line;
  if (!NON_ASCII.test(line)) {
    if (line.length <= FOLD_OCTETS) return line;
    let folded = line.slice(0, FOLD_OCTETS);
    for (let from = FOLD_OCTETS; from < line.length; from += FOLD_OCTETS) {
      folded += `${CRLF} ${line.slice(from, from + FOLD_OCTETS)}`;
    }
    return folded;
  }
  let folded = '';
  let from = 0;
  let octets = 0;
  for (let index = 0; index < line.length; index += 1) {
    const code = line.charCodeAt(index);
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdbff ? 4 : 3;
    octets += size;
    if (octets > FOLD_OCTETS) {
      folded += `${line.slice(from, index)}${CRLF} `;
      from = index;
      octets = size;
    }
    // A high surrogate and the character after it count as one character of four octets.
    if (size === 4) index += 1;
  }
  return folded + line.slice(from);
}

/**
 * DTSTART or DTEND: the wall time in the event's zone, or UTC for a zoneless event and for a
 * wall time that happens twice (or stands for one that never happened), which different
 * clients read differently while all read UTC the same.
 */
function dateTimeLine(name: 'DTSTART' | 'DTEND', instant: Date, zone: ResolvedZone | null): string {
  if (zone === null || !hasUnambiguousWallTime(instant, zone.timeZone)) {
    return `${name}:${utcDateTime(instant)}`;
  }
  const wall = wallTimeIn(instant, zone.timeZone);
  return (
    `${name};TZID=${zone.tzid}:${zeroPad(wall.year, 4)}${zeroPad(wall.month)}${zeroPad(wall.day)}` +
    `T${zeroPad(wall.hour)}${zeroPad(wall.minute)}${zeroPad(wall.second)}`
  );
}

/** "20261025T003000Z". */
function utcDateTime(instant: Date): string {
  return (
    `${zeroPad(instant.getUTCFullYear(), 4)}${zeroPad(instant.getUTCMonth() + 1)}` +
    `${zeroPad(instant.getUTCDate())}T${zeroPad(instant.getUTCHours())}` +
    `${zeroPad(instant.getUTCMinutes())}${zeroPad(instant.getUTCSeconds())}Z`
  );
}

/**
 * SUMMARY: the title, prefixed when cancelled (CANCELLED_PREFIX) or, for a tombstone of an event
 * that was not cancelled, when withdrawn.
 */
function calendarSummary(event: Event, channel: FeedChannel): string {
  if (event.duplicateOf !== undefined) return `${DUPLICATE_PREFIX}${displayTitle(event)}`;
  if (!isCancelled(event) && isWithdrawn(event)) return `${REMOVED_PREFIX}${displayTitle(event)}`;
  return summaryTitle(event, channel);
}

/**
 * DESCRIPTION: what the event's page shows as status badges and the calendar could not say
 * otherwise (a new location, a reschedule without its earlier start, an end that was not
 * announced, though DTEND must name one; a cancellation the STATUS does not carry; a removal),
 * then the shared description.
 */
function calendarDescription(
  event: Event,
  channel: FeedChannel,
  display: CancelledDisplay,
): string | null {
  const notes = [
    ...(isCancelled(event) && display === 'visible' ? [STATUS_WORDS.cancelled] : []),
    ...(event.duplicateOf !== undefined
      ? [duplicateNote(eventPageUrl(channel.publicUrl, event.duplicateOf))]
      : isWithdrawn(event)
        ? [REMOVED_NOTE]
        : []),
    ...statusNotes(event),
  ];
  return withNotes(notes, descriptionPlainText(event, channel));
}

/**
 * A description cut to SHORT_DESCRIPTION_CHARS at a word boundary, then "… More: <page URL>";
 * a short one stays whole.
 */
function shortDescription(text: string, pageUrl: string): string {
  if (text.length <= SHORT_DESCRIPTION_CHARS) return text;
  let cut = text.slice(0, SHORT_DESCRIPTION_CHARS);
  // Never half a surrogate pair.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const atWord = cut.replace(/\s+\S*$/, '');
  const kept = atWord.length >= SHORT_DESCRIPTION_CHARS / 2 ? atWord : cut;
  return `${kept.trimEnd()} … More: ${pageUrl}`;
}

/** The LOCATION text: the venue's full address line. */
function locationText(event: Event): string | null {
  const line = locationLine(event.venue);
  return line === null ? null : icsText(line);
}

interface GeoPoint {
  latitude: number;
  longitude: number;
}

/**
 * The venue's coordinates for GEO, also when one is 0 (ical-generator tested the numbers for
 * truthiness), rounded, when both are given and valid. */
function venuePoint(event: Event): GeoPoint | null {
  const { latitude, longitude } = event.venue;
  if (latitude === null || longitude === null) return null;
  if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) return null;
  return { latitude: coordinate(latitude), longitude: coordinate(longitude) };
}

// Apple Calendar's radius of a place it found by address (metres): about one building.
const APPLE_RADIUS_METRES = 70;

/**
 * Apple Calendar shows a map only for this property, in the form it writes itself, and only
 * when X-TITLE is the LOCATION text.
 */
function appleLocationLine(event: Event, point: GeoPoint, title: string): string {
  const venue = event.venue;
  const address = icsText(
    presentLines([venue.street, localityLine(venue), venue.country]).join(', '),
  );
  const parameters = [
    'VALUE=URI',
    ...(address === '' ? [] : [`X-ADDRESS=${parameterValue(address)}`]),
    `X-APPLE-RADIUS=${APPLE_RADIUS_METRES}`,
    `X-TITLE=${parameterValue(title)}`,
  ];
  return `X-APPLE-STRUCTURED-LOCATION;${parameters.join(';')}:geo:${point.latitude},${point.longitude}`;
}

/**
 * A property parameter value: RFC 6868's caret escapes for `^`, line breaks and `"`, and quoted
 * (RFC 5545) when it holds `:`, `;` or `,`.
 */
function parameterValue(text: string): string {
  const escaped = text.replace(/\^/g, '^^').replace(/\r?\n/g, '^n').replace(/"/g, "^'");
  return /[:;,]/.test(escaped) ? `"${escaped}"` : escaped;
}

/**
 * ATTACH and RFC 7986 IMAGE for the event image. Written here because ical-generator's
 * attachments take no FMTTYPE and TEXT-escape the URI (a comma in a URL would become `\,`).
 */
function imageLines(event: Event): string[] {
  const url = safeHttpUrl(event.image?.url);
  if (url === null) return [];
  const type = imageMediaType(url);
  const fmttype = type === null ? '' : `;FMTTYPE=${type}`;
  return [`ATTACH${fmttype}:${url}`, `IMAGE;VALUE=URI;DISPLAY=BADGE${fmttype}:${url}`];
}
