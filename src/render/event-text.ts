import {
  cleanText,
  escapeHtml,
  htmlToPlainText,
  plainTextToHtml,
  sanitizeDescriptionHtml,
} from '../events/description.js';
import { wallTimeIn, zeroPad, zoneOffsetMs, type WallTime } from '../events/time.js';
import type { Event, Price, Venue } from '../events/types.js';
import type { FeedChannel } from './channel.js';

/**
 * The human-readable pieces every output format shares: item titles, location lines, prices,
 * descriptions with ticket and price details, day and time text. Pure and clock-free.
 */

// Fixed English names rather than Intl month/weekday names: ICU updates change them (en-GB
// "Sep" became "Sept"), which would silently change every feed body and its ETag.
const WEEKDAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/** The English weekday and month names of a calendar date (`month` 1-12). */
function dateNames(year: number, month: number, day: number): { weekday: string; month: string } {
  return {
    weekday: WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()] ?? '',
    month: MONTHS[month - 1] ?? '',
  };
}

/** Text fit for a single line: XML-illegal characters removed, whitespace runs collapsed. */
export function oneLine(text: string): string {
  const cleaned = cleanText(text);
  return SPACING_TO_FIX.test(cleaned) ? cleaned.replace(/\s+/g, ' ').trim() : cleaned;
}

// Whitespace oneLine would change: any but a single inner space (most text has none to fix).
const SPACING_TO_FIX = /[^\S ]| {2}|^ | $/;

/** "Night Tapes (+ support)": the title with its subtitle, on one line. */
export function displayTitle(event: Event): string {
  const title = oneLine(event.title);
  const subtitle = event.subtitle === null ? '' : oneLine(event.subtitle);
  return subtitle ? `${title} (${subtitle})` : title;
}

function clock(wall: WallTime): string {
  return `${zeroPad(wall.hour)}:${zeroPad(wall.minute)}`;
}

/** "20:30": the wall-clock time of `instant` in `timeZone`. */
export function formatClock(instant: Date, timeZone: string): string {
  return clock(wallTimeIn(instant, timeZone));
}

/** "Sat 5 Dec 20:30": day and time of `instant` in `timeZone`. */
export function formatDayTime(instant: Date, timeZone: string): string {
  const wall = wallTimeIn(instant, timeZone);
  const names = dateNames(wall.year, wall.month, wall.day);
  return `${names.weekday.slice(0, 3)} ${wall.day} ${names.month.slice(0, 3)} ${clock(wall)}`;
}

/*
 * Zone abbreviations come from Intl: each English locale knows those its readers use (en-US
 * "EST", en-CA "NST", en-GB "CET", en-AU "AEDT") and writes "GMT-3" for the others.
 */
const ZONE_NAME_LOCALES = ['en-US', 'en-CA', 'en-GB', 'en-AU'] as const;
const zoneNames = new Map<string, string>();

/** "EST", "CEST", "AEDT", or "GMT-3" where English has no abbreviation: `timeZone` at `instant`. */
export function zoneAbbreviation(instant: Date, timeZone: string): string {
  // A zone's name follows its offset, so one lookup per zone and offset.
  const key = `${timeZone}|${zoneOffsetMs(instant, timeZone)}`;
  let name = zoneNames.get(key);
  if (name === undefined) {
    const names = ZONE_NAME_LOCALES.map(
      (locale) =>
        new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })
          .formatToParts(instant)
          .find((part) => part.type === 'timeZoneName')?.value ?? '',
    );
    name = names.find((each) => each !== '' && !/^GMT[+-]/.test(each)) ?? names[0] ?? '';
    zoneNames.set(key, name);
  }
  return name;
}

/**
 * The zone an event's time is shown in, and the label that follows it: the site's zone
 * (TIMEZONE), unlabelled, when the event's own zone reads the same clock at each of `instants`;
 * otherwise the event's zone, labelled with its abbreviation.
 */
export function shownZone(
  eventZone: string,
  siteZone: string,
  instants: readonly Date[],
): { timeZone: string; labelled: boolean } {
  const sameClock =
    eventZone === siteZone ||
    instants.every(
      (instant) => zoneOffsetMs(instant, eventZone) === zoneOffsetMs(instant, siteZone),
    );
  return sameClock
    ? { timeZone: siteZone, labelled: false }
    : { timeZone: eventZone, labelled: true };
}

/**
 * "20:30" in `siteZone`, or "11:00 EST" in the event's zone when that reads another clock: a
 * time of an event as text, never contradicting its page and calendar entry.
 */
export function formatEventClock(instant: Date, eventZone: string, siteZone: string): string {
  const shown = shownZone(eventZone, siteZone, [instant]);
  const text = formatClock(instant, shown.timeZone);
  return shown.labelled ? `${text} ${zoneAbbreviation(instant, shown.timeZone)}` : text;
}

/** "Sat 5 Dec 20:30", or "Sun 13 Dec 11:00 EST": formatEventClock with the day. */
export function formatEventDayTime(instant: Date, eventZone: string, siteZone: string): string {
  const shown = shownZone(eventZone, siteZone, [instant]);
  const text = formatDayTime(instant, shown.timeZone);
  return shown.labelled ? `${text} ${zoneAbbreviation(instant, shown.timeZone)}` : text;
}

/** "Saturday 5 December 2026": a day heading for `YYYY-MM-DD`. */
export function dayHeading(dateKey: string): string {
  const [year, month, day] = dateKey.split('-').map(Number) as [number, number, number];
  const names = dateNames(year, month, day);
  return `${names.weekday} ${day} ${names.month} ${year}`;
}

/** `value` on one line, or null when nothing is left of it. */
export function lineOrNull(value: string | null): string | null {
  if (value === null) return null;
  const line = oneLine(value);
  return line === '' ? null : line;
}

/** The one-line forms of `values` that are not empty, in order. */
export function presentLines(values: readonly (string | null)[]): string[] {
  return values
    .map((value) => (value === null ? '' : oneLine(value)))
    .filter((line) => line !== '');
}

/** The event's genres, each on one line, empty ones left out. */
export function genreLines(event: Event): string[] {
  return presentLines(event.genres);
}

/** "Paradiso Noord, Amsterdam": where an event is, briefly (venue and city). */
export function placeLine(venue: Venue): string | null {
  const parts = presentLines([venue.name, venue.city]);
  return parts.length > 0 ? parts.join(', ') : null;
}

/** "1031 HH Amsterdam": the postal code and city of a venue. */
export function localityLine(venue: Venue): string | null {
  const parts = presentLines([venue.postalCode, venue.city]);
  return parts.length > 0 ? parts.join(' ') : null;
}

/** "Paradiso Noord, Distelweg 83, 1031 HH Amsterdam": the full address line of a venue. */
export function locationLine(venue: Venue): string | null {
  const parts = presentLines([venue.name, venue.street, localityLine(venue)]);
  return parts.length > 0 ? parts.join(', ') : null;
}

/**
 * "Sat 5 Dec 20:30 · Night Tapes (+ support) · Paradiso Noord, Amsterdam", in the channel's
 * zone, or in the event's with its abbreviation ("Sun 13 Dec 11:00 EST · …") when that reads
 * another clock; cancelled events get the channel's prefix.
 */
export function itemTitle(event: Event, channel: FeedChannel): string {
  const parts = [
    formatEventDayTime(event.startsAt, event.timeZone, channel.timeZone),
    displayTitle(event),
  ];
  const place = placeLine(event.venue);
  if (place !== null) parts.push(place);
  const title = parts.join(' · ');
  return isCancelled(event) ? `${channel.cancelledPrefix}${title}` : title;
}

/** The calendar summary: title and subtitle, prefixed when cancelled. */
export function summaryTitle(event: Event, channel: FeedChannel): string {
  const title = displayTitle(event);
  return isCancelled(event) ? `${channel.cancelledPrefix}${title}` : title;
}

/** Whether outputs show the event as cancelled. */
export function isCancelled(event: Event): boolean {
  return event.status === 'cancelled';
}

// Module-level on purpose: a formatter is a pure function of its currency code, the same for
// every app, and constructing one costs far more than formatting with it.
const currencyFormats = new Map<string, Intl.NumberFormat | null>();

function currencyFormat(currency: string): Intl.NumberFormat | null {
  let format = currencyFormats.get(currency);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    } catch {
      // Not an ISO 4217 code Intl accepts: fall back to "24.50 XYZ".
      format = null;
    }
    currencyFormats.set(currency, format);
  }
  return format;
}

// Formatted amounts by currency and amount: Intl formatting costs microseconds a call, and a
// calendar of a thousand events repeats a few dozen prices. Bounded: amounts come from senders.
const formattedAmounts = new Map<string, string>();
const MAX_FORMATTED_AMOUNTS = 10_000;

function formatAmount(amount: number, currency: string): string {
  const key = `${currency}|${amount}`;
  let text = formattedAmounts.get(key);
  if (text === undefined) {
    const format = currencyFormat(currency);
    text = format !== null ? format.format(amount) : `${amount.toFixed(2)} ${currency}`.trim();
    if (formattedAmounts.size >= MAX_FORMATTED_AMOUNTS) formattedAmounts.clear();
    formattedAmounts.set(key, text);
  }
  return text;
}

/** "€24.50 Regular"; "Free" for zero; null for amounts that are not numbers. */
export function formatPrice(price: Price): string | null {
  if (!Number.isFinite(price.amount)) return null;
  const currency = oneLine(price.currency).toUpperCase();
  const amount = price.amount === 0 ? 'Free' : formatAmount(price.amount, currency);
  const label = price.label === null ? '' : oneLine(price.label);
  return label ? `${amount} ${label}` : amount;
}

/** "€24.50 Regular, €19.50 Student", or null when there are no prices. */
export function pricesLine(prices: readonly Price[]): string | null {
  const formatted = prices.map(formatPrice).filter((price): price is string => price !== null);
  return formatted.length > 0 ? formatted.join(', ') : null;
}

/**
 * An absolute http(s) URL in normalized form (spaces, quotes and angle brackets
 * percent-encoded), or null: `javascript:` and other schemes never reach an output.
 */
export function safeHttpUrl(url: string | null | undefined): string | null {
  if (url === null || url === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(cleanText(url).trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return parsed.href;
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

/** The media type of an image URL guessed from its extension, or null when unknown. */
export function imageMediaType(url: string): string | null {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return null;
  }
  const extension = /\.([a-z0-9]+)$/i.exec(pathname)?.[1]?.toLowerCase();
  return extension === undefined ? null : (IMAGE_TYPES[extension] ?? null);
}

/** The plain-text description source: the text, or text derived from the HTML. */
function bodyText(event: Event): string | null {
  if (event.descriptionText !== null && event.descriptionText.trim() !== '') {
    return cleanText(event.descriptionText).trim();
  }
  if (event.descriptionHtml !== null && event.descriptionHtml.trim() !== '') {
    const text = htmlToPlainText(sanitizeDescriptionHtml(event.descriptionHtml));
    return text === '' ? null : text;
  }
  return null;
}

/** The practical details shown under a description, as label/value pairs. */
function detailLines(event: Event, channel: FeedChannel): { label: string; value: string }[] {
  const lines: { label: string; value: string }[] = [];
  if (event.previousStartsAt !== null && event.status === 'rescheduled') {
    lines.push({
      label: 'Rescheduled from',
      value: formatEventDayTime(event.previousStartsAt, event.timeZone, channel.timeZone),
    });
  }
  if (event.doorsAt !== null) {
    lines.push({
      label: 'Doors',
      value: formatEventClock(event.doorsAt, event.timeZone, channel.timeZone),
    });
  }
  const prices = pricesLine(event.prices);
  if (prices !== null) lines.push({ label: 'Prices', value: prices });
  if (event.soldOut) lines.push({ label: 'Tickets', value: 'Sold out' });
  return lines;
}

/**
 * Plain-text description for calendars: the event's text, then details (reschedule, doors,
 * prices, sold out) and the ticket link. Null when there is nothing to say.
 */
export function descriptionPlainText(event: Event, channel: FeedChannel): string | null {
  const paragraphs: string[] = [];
  const body = bodyText(event);
  if (body !== null) paragraphs.push(body);
  const details = detailLines(event, channel).map((line) => `${line.label}: ${line.value}`);
  const ticketUrl = safeHttpUrl(event.ticketUrl);
  if (ticketUrl !== null && !event.soldOut) details.push(`Tickets: ${ticketUrl}`);
  if (details.length > 0) paragraphs.push(details.join('\n'));
  return paragraphs.length > 0 ? paragraphs.join('\n\n') : null;
}

/**
 * Sanitized HTML description for feeds: the event's HTML (sanitized again here: the renderer
 * does not trust its input) or its text, then the details and a ticket link.
 */
export function descriptionHtml(event: Event, channel: FeedChannel): string {
  let body = '';
  if (event.descriptionHtml !== null && event.descriptionHtml.trim() !== '') {
    body = sanitizeDescriptionHtml(event.descriptionHtml);
  }
  if (body === '' && event.descriptionText !== null) {
    body = plainTextToHtml(event.descriptionText);
  }
  const parts = body === '' ? [] : [body];
  const details = detailLines(event, channel).map(
    (line) => `${escapeHtml(line.label)}: ${escapeHtml(line.value)}`,
  );
  if (details.length > 0) parts.push(`<p>${details.join('<br>')}</p>`);
  const ticketUrl = safeHttpUrl(event.ticketUrl);
  if (ticketUrl !== null && !event.soldOut) {
    parts.push(
      `<p><a href="${escapeHtml(ticketUrl)}" rel="nofollow noopener noreferrer">Tickets</a></p>`,
    );
  }
  return parts.join('');
}

/** The source records of an event as outputs list them: its own first, links http(s) only. */
export function eventSources(
  event: Event,
): { source: string; externalId: string; url: string | null }[] {
  const records = event.records ?? [
    { id: event.id, source: event.source, externalId: event.externalId, url: event.ticketUrl },
  ];
  return records.map((record) => ({
    source: record.source,
    externalId: record.externalId,
    url: safeHttpUrl(record.url),
  }));
}

/** A source's name as people read it: "Stager", "Eventport". */
export function sourceDisplayName(source: string): string {
  return source.charAt(0).toUpperCase() + source.slice(1);
}
