import { getVtimezoneComponent } from '@touch4it/ical-timezones';
import {
  ICalCalendar,
  ICalCalendarMethod,
  ICalEvent,
  ICalEventStatus,
  escape,
  foldLines,
  type ICalEventData,
  type ICalLocation,
  type ICalLuxonDateTimeStub,
} from 'ical-generator';
import { cleanText } from '../events/description.js';
import { isKnownTimeZone, wallTimeIn } from '../events/time.js';
import type { Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';
import type { FragmentCache } from '../cache/fragment-cache.js';
import { FeedDocument, eventFragments } from './feed-document.js';
import {
  descriptionPlainText,
  eventUrl,
  imageMediaType,
  isCancelled,
  locationLine,
  oneLine,
  safeHttpUrl,
  summaryTitle,
} from './event-text.js';

/**
 * iCalendar (RFC 5545) output. ical-generator renders each VEVENT; this module assembles the
 * calendar around them itself, because ical-generator's calendar-level output has traps for a
 * multi-zone feed (see renderHeader and ZonedWallTime), and so that VEVENTs can be cached.
 */

const CRLF = '\r\n';
const REFRESH_SECONDS = 3600;
const PRODID = { company: 'Marquee', product: 'Marquee', language: 'EN' };

// ical-generator asks every ICalEvent for its calendar's zone. This one has none, so DTSTAMP,
// CREATED and LAST-MODIFIED come out in UTC (a calendar zone would print them as the server's
// local wall-clock time, without a zone).
const ZONELESS_CALENDAR = new ICalCalendar();

/** Renders a calendar of `events` in the given order. */
export function renderIcs(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): string {
  return icsDocument(events, channel, cache).text();
}

/**
 * The calendar of `events` in the given order, as a document of VEVENTs. With a cache, a
 * VEVENT is rendered once per event revision and channel.
 */
export function icsDocument(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): FeedDocument {
  const zones = new Map<string, ResolvedZone>();
  for (const event of events) {
    const zone = resolveZone(event.timeZone);
    if (zone !== null) zones.set(zone.tzid, zone);
  }
  const vevents = eventFragments('ics', events, channel, cache, (missing) =>
    missing.map((event) => renderVevent(event, channel, resolveZone(event.timeZone))),
  );
  const vtimezones = [...zones.keys()].sort().map((tzid) => zones.get(tzid)?.vtimezone ?? '');
  return new FeedDocument(
    renderHeader(channel) + vtimezones.join(''),
    vevents,
    'END:VCALENDAR' + CRLF,
  );
}

/** Renders a calendar holding one event (GET /events/:id.ics). */
export function renderSingleEventIcs(event: Event, channel: FeedChannel): string {
  return renderIcs([event], channel);
}

/**
 * VCALENDAR properties. ical-generator writes NAME, X-WR-CALNAME and X-WR-CALDESC without
 * TEXT escaping (so they are escaped here), puts X- properties after the components and ends
 * without a CRLF, so only its property block is kept.
 */
function renderHeader(channel: FeedChannel): string {
  const description = icsText(channel.description);
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
  /** The TZID of the VTIMEZONE (an alias like Asia/Calcutta resolves to Asia/Kolkata). */
  tzid: string;
  /** The zone whose wall-clock times DTSTART and DTEND show. */
  timeZone: string;
  vtimezone: string;
}

const UTC_ZONE = /^(etc\/)?(utc|uct|gmt|zulu|universal|greenwich)([+-]?0)?$/i;
// Module-level on purpose: a zone's VTIMEZONE is a pure function of its name, the same for every
// app, and building one costs a tz database lookup. Keys are configured or stored zone names.
const zoneCache = new Map<string, ResolvedZone | null>();

/** The VTIMEZONE for a zone, or null when times in it are written in UTC. */
function resolveZone(timeZone: string): ResolvedZone | null {
  let zone = zoneCache.get(timeZone);
  if (zone === undefined) {
    zone = null;
    const component =
      UTC_ZONE.test(timeZone) || !isKnownTimeZone(timeZone)
        ? null
        : getVtimezoneComponent(timeZone);
    const tzid = component === null ? undefined : /^TZID:(.+)$/m.exec(component)?.[1]?.trim();
    if (component !== null && tzid !== undefined) {
      const vtimezone = foldLines(component.replace(/\r\n|\r|\n/g, CRLF).trim()) + CRLF;
      zone = { tzid, timeZone, vtimezone };
    }
    zoneCache.set(timeZone, zone);
  }
  return zone;
}

/**
 * A date ical-generator prints as the wall-clock time in the event's zone. Given a plain Date
 * and a zone, it prints the server's local time instead; as a Luxon-style value it asks
 * `toFormat` for the date and time parts, which are computed here with Intl.
 */
class ZonedWallTime implements ICalLuxonDateTimeStub {
  readonly isValid = true;
  readonly zone = { type: 'IANA' };
  private readonly datePart: string;
  private readonly timePart: string;

  constructor(
    private readonly instant: Date,
    timeZone: string,
  ) {
    const wall = wallTimeIn(instant, timeZone);
    this.datePart = `${pad(wall.year, 4)}${pad(wall.month, 2)}${pad(wall.day, 2)}`;
    this.timePart = `${pad(wall.hour, 2)}${pad(wall.minute, 2)}${pad(wall.second, 2)}`;
  }

  setZone(): ICalLuxonDateTimeStub {
    return this;
  }

  toFormat(format: string): string {
    if (format === 'yyyyLLdd') return this.datePart;
    if (format === 'HHmmss') return this.timePart;
    throw new Error(`render: unexpected date format ${format} from ical-generator`);
  }

  toJSDate(): Date {
    return new Date(this.instant.getTime());
  }

  toJSON(): string {
    return this.instant.toISOString();
  }
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Text as iCalendar TEXT may carry it: no control characters but tab and line breaks. */
function icsText(text: string): string {
  return cleanText(text)
    .replace(/\u007F/g, '')
    .trim();
}

// Six decimals (~10 cm) also keeps String() away from exponent notation, which GEO forbids.
function coordinate(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function renderVevent(event: Event, channel: FeedChannel, zone: ResolvedZone | null): string {
  const start = event.startsAt;
  // RFC 5545 reads a missing DTEND as a zero-length event; open-ended events get the
  // repository's documented default end instead.
  const end =
    [event.endsAt, event.effectiveEndsAt].find(
      (candidate): candidate is Date => candidate !== null && candidate.getTime() > start.getTime(),
    ) ?? null;
  const at = (instant: Date): Date | ZonedWallTime =>
    zone === null ? instant : new ZonedWallTime(instant, zone.timeZone);
  const description = descriptionPlainText(event, channel);
  const data: ICalEventData = {
    // ical-generator writes the UID as given, unescaped: an id with a line break would
    // otherwise inject properties.
    id: escape(icsText(`${event.id}@${channel.host}`), false),
    sequence: event.revision,
    stamp: event.lastChangedAt,
    created: event.firstSeenAt,
    lastModified: event.lastChangedAt,
    start: at(start),
    end: end === null ? null : at(end),
    timezone: zone === null ? null : zone.tzid,
    summary: icsText(summaryTitle(event, channel)),
    description: description === null ? null : icsText(description),
    location: location(event),
    url: eventUrl(channel, event),
    categories: event.genres
      .map((genre) => icsText(oneLine(genre)))
      .filter((genre) => genre !== '')
      .map((name) => ({ name })),
    status: isCancelled(event) ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  };
  const vevent = new ICalEvent(data, ZONELESS_CALENDAR).toString();
  const footer = `END:VEVENT${CRLF}`;
  if (!vevent.endsWith(footer))
    throw new Error('render: unexpected VEVENT text from ical-generator');
  return foldLines(vevent.slice(0, -footer.length) + geoLine(event) + imageLines(event) + footer);
}

function location(event: Event): ICalLocation | null {
  const title = locationLine(event.venue);
  return title === null ? null : { title: icsText(title) };
}

/**
 * GEO, written here because ical-generator drops it when a coordinate is 0 (it tests the
 * numbers for truthiness).
 */
function geoLine(event: Event): string {
  const { latitude, longitude } = event.venue;
  if (latitude === null || longitude === null) return '';
  if (!(Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180)) return '';
  return `GEO:${coordinate(latitude)};${coordinate(longitude)}${CRLF}`;
}

/**
 * ATTACH and RFC 7986 IMAGE for the event image. Written here because ical-generator's
 * attachments take no FMTTYPE and TEXT-escape the URI (a comma in a URL would become `\,`).
 */
function imageLines(event: Event): string {
  const url = safeHttpUrl(event.image?.url);
  if (url === null) return '';
  const type = imageMediaType(url);
  const fmttype = type === null ? '' : `;FMTTYPE=${type}`;
  return `ATTACH${fmttype}:${url}${CRLF}IMAGE;VALUE=URI;DISPLAY=BADGE${fmttype}:${url}${CRLF}`;
}
