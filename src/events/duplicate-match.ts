import { distanceKm } from './filter-predicate.js';
import { foldKey, type CityAliases } from './text-key.js';
import { localDateKey } from './time.js';
import type { SourceName } from './types.js';

/**
 * Whether two source records are one show, by fact only: the same city, and the same ticket
 * URL, or the same venue on the same local date within 90 minutes. Pure; events/duplicates.ts
 * finds the records to compare and stores the outcome.
 */

/** What matching reads of a record. */
export interface MatchRecord {
  id: string;
  source: SourceName;
  title: string;
  startsAt: Date;
  timeZone: string;
  city: string | null;
  venueName: string | null;
  latitude: number | null;
  longitude: number | null;
  ticketUrl: string | null;
}

/** A fact two records share. */
export type MatchFact = 'ticket-url' | 'venue' | 'start-within-15' | 'start-within-90' | 'title';

/** Two records' verdict: merged at once (`auto`) or shown to a person; null: not one show. */
export interface MatchVerdict {
  auto: boolean;
  facts: MatchFact[];
}

/** Starts further apart than this are never one show (Eventport separates doors from start). */
export const CANDIDATE_START_MINUTES = 90;
/** Starts within this are close enough to merge without asking, with venue and title equal. */
export const AUTO_START_MINUTES = 15;
/** Venues closer than this are one venue. */
export const SAME_VENUE_KM = 0.15;

// Query parameters that say where a visitor came from, not what the page is.
const TRACKING_PARAMETER =
  /^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl|ref|referrer|source)$/i;

/**
 * A ticket URL as compared: without scheme, `www.`, fragment, tracking parameters and trailing
 * slash, the host in lower case and the other parameters sorted; null when it is no http(s) URL.
 */
export function normalizeTicketUrl(url: string | null): string | null {
  if (url === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const parameters = [...parsed.searchParams]
    .filter(([name]) => !TRACKING_PARAMETER.test(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(parameters).toString();
  const host = parsed.host.toLowerCase().replace(/^www\./, '');
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${host}${path}${query === '' ? '' : `?${query}`}`;
}

// Words sources put in titles to say what happened to a show, not which show it is.
const STATUS_MARKERS = [
  'cancelled',
  'canceled',
  'abgesagt',
  'entfallt',
  'sold out',
  'ausverkauft',
  'postponed',
  'verschoben',
  'rescheduled',
  'new date',
  'neuer termin',
  'verlegt',
  'moved',
  'few tickets left',
  'restkarten',
];
const STATUS_PATTERN = new RegExp(`\\b(${STATUS_MARKERS.join('|')})\\b`, 'g');

// Words that tell two shows of one night apart.
const SHOW_MARKERS: [RegExp, string][] = [
  [/\bearly( show)?\b|\bfruhe? show\b|\bfruhvorstellung\b/, 'early'],
  [/\blate( show| night)?\b|\bspate? show\b|\bspatvorstellung\b/, 'late'],
  [/\bmatinee\b|\bnachmittagsvorstellung\b/, 'matinee'],
  [/\b(1st|first|erste) show\b/, 'show 1'],
  [/\b(2nd|second|zweite) show\b|\bzusatz(show|konzert|vorstellung)\b/, 'show 2'],
  [/\b(3rd|third|dritte) show\b/, 'show 3'],
];

/** The title's words, folded: case, accents and punctuation gone; status markers kept. */
function titleWords(title: string): string {
  return foldKey(title)
    .replace(/[^\p{L}\p{N}:.]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Times named in a folded title ("8pm", "20:00", "20 uhr", "20.30h"), as "HH:MM". */
function titleTimes(words: string): string[] {
  const times: string[] = [];
  const clock = /\b(\d{1,2})(?:[:.h](\d{2}))?\s?(am|pm|uhr|h)\b|\b(\d{1,2})[:.](\d{2})\b/g;
  for (const match of words.matchAll(clock)) {
    let hour = Number(match[1] ?? match[4]);
    const minute = Number(match[2] ?? match[5] ?? 0);
    const meridiem = match[3];
    if (meridiem === 'pm' && hour < 12) hour += 12;
    if (meridiem === 'am' && hour === 12) hour = 0;
    if (hour > 23 || minute > 59) continue;
    times.push(`${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`);
  }
  return times;
}

/** The show markers of a title (early, late, matinee, 2nd show, a time), sorted. */
export function showMarkers(title: string): string[] {
  const words = titleWords(title);
  const markers = SHOW_MARKERS.filter(([pattern]) => pattern.test(words)).map(([, name]) => name);
  return [...new Set([...markers, ...titleTimes(words)])].sort();
}

/** A title as compared: folded, without punctuation and without known status markers. */
export function titleKey(title: string): string {
  return titleWords(title)
    .replace(STATUS_PATTERN, ' ')
    .replace(/[:.]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A venue name as compared: folded, without punctuation and a leading article. */
function venueKey(name: string | null): string | null {
  if (name === null) return null;
  const key = titleWords(name)
    .replace(/[:.]/g, ' ')
    .replace(/^(the|das|der|die) /, '')
    .trim();
  return key === '' ? null : key;
}

/** Whether the two records name one venue (by name or within SAME_VENUE_KM); null: unknown. */
export function sameVenue(a: MatchRecord, b: MatchRecord): boolean | null {
  const nameA = venueKey(a.venueName);
  const nameB = venueKey(b.venueName);
  if (nameA !== null && nameA === nameB) return true;
  const located =
    a.latitude !== null && a.longitude !== null && b.latitude !== null && b.longitude !== null;
  if (located) {
    const km = distanceKm(
      { latitude: a.latitude as number, longitude: a.longitude as number },
      { latitude: b.latitude as number, longitude: b.longitude as number },
    );
    return km <= SAME_VENUE_KM;
  }
  if (nameA === null || nameB === null) return null;
  return false;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

/**
 * Compares two records. Never one show: the same source, other cities, other venues, other
 * local dates, or different show markers in both titles. Merged at once: the same ticket URL,
 * or the same venue with starts within AUTO_START_MINUTES and equal titles, each with equal show
 * markers. A person decides the rest (one title with a show marker, starts within
 * CANDIDATE_START_MINUTES, other titles).
 */
export function classifyPair(
  a: MatchRecord,
  b: MatchRecord,
  aliases: CityAliases,
): MatchVerdict | null {
  if (a.source === b.source) return null;
  if (a.city === null || b.city === null) return null;
  if (aliases.canonical(a.city) !== aliases.canonical(b.city)) return null;
  if (localDateKey(a.startsAt, a.timeZone) !== localDateKey(b.startsAt, b.timeZone)) return null;
  const markersA = showMarkers(a.title);
  const markersB = showMarkers(b.title);
  const sameMarkers = sameList(markersA, markersB);
  if (!sameMarkers && markersA.length > 0 && markersB.length > 0) return null;
  const venue = sameVenue(a, b);
  if (venue === false) return null;
  const ticketA = normalizeTicketUrl(a.ticketUrl);
  const ticket = ticketA !== null && ticketA === normalizeTicketUrl(b.ticketUrl);
  const minutes = Math.abs(a.startsAt.getTime() - b.startsAt.getTime()) / 60_000;
  const close = venue === true && minutes <= CANDIDATE_START_MINUTES;
  if (!ticket && !close) return null;
  const title = sameMarkers && titleKey(a.title) === titleKey(b.title);
  const facts: MatchFact[] = [];
  if (ticket) facts.push('ticket-url');
  if (venue === true) facts.push('venue');
  if (minutes <= AUTO_START_MINUTES) facts.push('start-within-15');
  else if (minutes <= CANDIDATE_START_MINUTES) facts.push('start-within-90');
  if (title) facts.push('title');
  const auto =
    sameMarkers && (ticket || (venue === true && minutes <= AUTO_START_MINUTES && title));
  return { auto, facts };
}
