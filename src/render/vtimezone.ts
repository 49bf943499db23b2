/**
 * VTIMEZONE components (RFC 5545 §3.6.5) built from the runtime's own zone data.
 *
 * Why Intl and not a packaged table: Node ships ICU with current IANA data and moves with
 * every release, while a package snapshot goes stale silently (the table used before this
 * module was tzdata 2018g: 31 zones an hour off, Europe/Kyiv missing). The offsets written
 * here are the offsets every other part of Marquee computes with Intl, so a calendar always
 * agrees with the pages and feeds of the same process.
 */

import { zoneOffsetMs } from '../events/time.js';

const DAY_MS = 86_400_000;
// Offsets are sampled a week apart, then the change is located to the second. Two changes
// less than a week apart (none in current zone data) would cancel out unseen.
const SCAN_STEP_MS = 7 * DAY_MS;

/** A change of a zone's UTC offset. */
export interface OffsetTransition {
  /** The first instant of the new offset, in ms. */
  at: number;
  /** Offsets in seconds east of UTC, before and from `at`. */
  from: number;
  to: number;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    // Bounded: callers pass zones Intl accepted, but names are case-insensitive.
    if (offsetFormats.size > 2_000) offsetFormats.clear();
    offsetFormats.set(timeZone, format);
  }
  return format;
}

const LONG_OFFSET = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** The UTC offset of `timeZone` at `at` (ms), in seconds east of UTC. */
export function offsetSecondsAt(timeZone: string, at: number): number {
  const text = offsetFormat(timeZone).format(at);
  const match = LONG_OFFSET.exec(text);
  if (match === null) throw new Error(`vtimezone: unexpected offset "${text}" for ${timeZone}`);
  if (match[1] === undefined) return 0;
  const seconds =
    Number(match[2]) * 3600 + Number(match[3]) * 60 + (match[4] ? Number(match[4]) : 0);
  return match[1] === '-' ? -seconds : seconds;
}

/** Every offset change of `timeZone` in [start, end) (ms, whole seconds), in order. */
export function offsetTransitions(
  timeZone: string,
  start: number,
  end: number,
  step = SCAN_STEP_MS,
): OffsetTransition[] {
  const transitions: OffsetTransition[] = [];
  let low = Math.floor(start / 1000) * 1000;
  let lowOffset = offsetSecondsAt(timeZone, low);
  while (low < end) {
    const high = Math.min(low + step, end);
    const highOffset = offsetSecondsAt(timeZone, high);
    if (highOffset === lowOffset) {
      low = high;
      continue;
    }
    // Bisect to the first second of a different offset; the scan resumes from there.
    let before = low;
    let after = high;
    while (after - before > 1000) {
      const middle = before + Math.floor((after - before) / 2000) * 1000;
      if (offsetSecondsAt(timeZone, middle) === lowOffset) before = middle;
      else after = middle;
    }
    const to = offsetSecondsAt(timeZone, after);
    if (after < end && after >= start) transitions.push({ at: after, from: lowOffset, to });
    low = after;
    lowOffset = to;
  }
  return transitions;
}

/** The wall-clock reading at `at` under `offset`, as UTC fields of a Date. */
function wallAt(at: number, offset: number): Date {
  return new Date(at + offset * 1000);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function localDateTime(wall: Date): string {
  return (
    `${pad(wall.getUTCFullYear(), 4)}${pad(wall.getUTCMonth() + 1)}${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}${pad(wall.getUTCMinutes())}${pad(wall.getUTCSeconds())}`
  );
}

/** "+0530", "-0300", "+001528" (RFC 5545 UTC-OFFSET). */
function utcOffset(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const abs = Math.abs(seconds);
  const rest = abs % 60;
  return `${sign}${pad(Math.floor(abs / 3600))}${pad(Math.floor(abs / 60) % 60)}${rest === 0 ? '' : pad(rest)}`;
}

const nameFormats = new Map<string, Intl.DateTimeFormat>();

function nameFormat(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`;
  let format = nameFormats.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' });
    if (nameFormats.size > 4_000) nameFormats.clear();
    nameFormats.set(key, format);
  }
  return format;
}

// en-US knows the American abbreviations (EST, AKDT), en-GB the European ones (CET, BST).
const NAME_LOCALES = ['en-US', 'en-GB'];

/**
 * TZNAME: Intl's abbreviation ("CEST") when it has one, else the offset in the form tzdata
 * itself uses for zones without an abbreviation ("+0530", "-03").
 */
function zoneName(timeZone: string, at: number, offset: number): string {
  for (const locale of NAME_LOCALES) {
    const name = nameFormat(locale, timeZone)
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName')?.value;
    if (name !== undefined && /^[A-Z]{2,6}$/.test(name)) return name;
  }
  const text = utcOffset(offset);
  return text.endsWith('00') && text.length === 5 ? text.slice(0, 3) : text;
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/** A yearly onset rule: a month, a day in it, and a wall time. */
interface YearlyRule {
  month: number;
  /** RRULE parts after BYMONTH. */
  byParts: string;
  /** The day of the month the rule picks in `year`, or null when there is none. */
  day(year: number): number | null;
  /** Wall time of day, in seconds. */
  timeOfDay: number;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** The `weekday` within days [first, first + 6] of a month. */
function weekdayFrom(year: number, month: number, weekday: number, first: number): number {
  return first + ((weekday - weekdayOf(year, month, first) + 7) % 7);
}

/**
 * Rules that would put an onset at this wall time, in the order Outlook prefers them:
 * nth weekday, last weekday, fixed date, then "weekday within seven given days" (Israel's
 * "Friday before the last Sunday"), which Outlook cannot read but other clients can.
 */
function candidateRules(wall: Date): YearlyRule[] {
  const year = wall.getUTCFullYear();
  const month = wall.getUTCMonth() + 1;
  const date = wall.getUTCDate();
  const weekday = wall.getUTCDay();
  const timeOfDay = wall.getUTCHours() * 3600 + wall.getUTCMinutes() * 60 + wall.getUTCSeconds();
  const code = WEEKDAYS[weekday] ?? 'SU';
  const rules: YearlyRule[] = [];
  const nth = Math.ceil(date / 7);
  if (nth <= 4) {
    rules.push({
      month,
      byParts: `BYDAY=${nth}${code}`,
      day: (y) => weekdayFrom(y, month, weekday, 7 * (nth - 1) + 1),
      timeOfDay,
    });
  }
  if (date + 7 > daysInMonth(year, month)) {
    rules.push({
      month,
      byParts: `BYDAY=-1${code}`,
      day: (y) => weekdayFrom(y, month, weekday, daysInMonth(y, month) - 6),
      timeOfDay,
    });
  }
  rules.push({
    month,
    byParts: `BYMONTHDAY=${date}`,
    day: (y) => (date <= daysInMonth(y, month) ? date : null),
    timeOfDay,
  });
  for (let first = Math.max(1, date - 6); first <= date && first + 6 <= 28; first++) {
    if ((first - 1) % 7 === 0) continue; // the same as an nth-weekday rule above
    const days = Array.from({ length: 7 }, (_, index) => first + index).join(',');
    rules.push({
      month,
      byParts: `BYDAY=${code};BYMONTHDAY=${days}`,
      day: (y) => weekdayFrom(y, month, weekday, first),
      timeOfDay,
    });
  }
  return rules;
}

/** The onsets `rule` gives in [start, end), as instants under the offset before them. */
function ruleOnsets(rule: YearlyRule, from: number, start: number, end: number): number[] {
  const onsets: number[] = [];
  const firstYear = new Date(start).getUTCFullYear() - 1;
  const lastYear = new Date(end).getUTCFullYear() + 1;
  for (let year = firstYear; year <= lastYear; year++) {
    const day = rule.day(year);
    if (day === null) continue;
    const at = Date.UTC(year, rule.month - 1, day) + rule.timeOfDay * 1000 - from * 1000;
    if (at >= start && at < end) onsets.push(at);
  }
  return onsets;
}

/** The first rule derived from `onsets[0]` that reproduces exactly `onsets` in the window. */
function findRule(
  onsets: readonly OffsetTransition[],
  start: number,
  end: number,
): YearlyRule | null {
  const first = onsets[0];
  if (first === undefined) return null;
  const expected = onsets.map((onset) => onset.at).join(',');
  for (const rule of candidateRules(wallAt(first.at, first.from))) {
    if (ruleOnsets(rule, first.from, start, end).join(',') === expected) return rule;
  }
  return null;
}

function observance(
  kind: 'STANDARD' | 'DAYLIGHT',
  timeZone: string,
  transition: OffsetTransition,
  extra: string[] = [],
): string[] {
  return [
    `BEGIN:${kind}`,
    `DTSTART:${localDateTime(wallAt(transition.at, transition.from))}`,
    ...extra,
    `TZOFFSETFROM:${utcOffset(transition.from)}`,
    `TZOFFSETTO:${utcOffset(transition.to)}`,
    `TZNAME:${zoneName(timeZone, transition.at, transition.to)}`,
    `END:${kind}`,
  ];
}

/** The lines between BEGIN:VTIMEZONE/TZID and END:VTIMEZONE for the window [start, end). */
function observanceLines(timeZone: string, start: number, end: number): string[] {
  const transitions = offsetTransitions(timeZone, start, end);
  const initial = offsetSecondsAt(timeZone, start);
  // Clients read times before the first onset as UTC (ical.js) or guess; 1970 is the usual
  // origin of a zone that did not change in the window.
  const origin = Math.min(start, Date.UTC(1970, 0, 1) - initial * 1000);
  const steady: OffsetTransition = { at: origin, from: initial, to: initial };
  if (transitions.length === 0) return observance('STANDARD', timeZone, steady);

  // Outlook's form: one DAYLIGHT and one STANDARD, each with a yearly RRULE, when the window
  // alternates between two offsets on rules that reproduce every change in it.
  const offsets = new Set(transitions.flatMap((transition) => [transition.from, transition.to]));
  if (offsets.size === 2) {
    const daylightOffset = Math.max(...offsets);
    const daylight = transitions.filter((transition) => transition.to === daylightOffset);
    const standard = transitions.filter((transition) => transition.to !== daylightOffset);
    const daylightRule = findRule(daylight, start, end);
    const standardRule = findRule(standard, start, end);
    if (daylightRule !== null && standardRule !== null && standard[0] && daylight[0]) {
      const rrule = (rule: YearlyRule): string =>
        `RRULE:FREQ=YEARLY;BYMONTH=${rule.month};${rule.byParts}`;
      const blocks = [
        {
          at: daylight[0].at,
          lines: observance('DAYLIGHT', timeZone, daylight[0], [rrule(daylightRule)]),
        },
        {
          at: standard[0].at,
          lines: observance('STANDARD', timeZone, standard[0], [rrule(standardRule)]),
        },
      ].sort((a, b) => a.at - b.at);
      return blocks.flatMap((block) => block.lines);
    }
  }

  // Otherwise (a Ramadan suspension, a rule or standard offset that changes within the
  // window) every change is an observance of its own, which every client reads.
  const lines = observance('STANDARD', timeZone, steady);
  transitions.forEach((transition, index) => {
    const next = transitions[index + 1];
    const isDaylight =
      transition.to > transition.from && next !== undefined && next.to < transition.to;
    lines.push(...observance(isDaylight ? 'DAYLIGHT' : 'STANDARD', timeZone, transition));
  });
  return lines;
}

/** The window a calendar's times fall in, widened to whole years with one to spare each side. */
function windowYears(from: Date, to: Date): { first: number; last: number } {
  return { first: from.getUTCFullYear() - 1, last: to.getUTCFullYear() + 1 };
}

// Zone data does not change within a process, so a zone's component is built once for the
// years asked last; one entry per zone keeps the memo as small as the list of zones.
const memo = new Map<string, { key: string; text: string }>();

/**
 * The unfolded VTIMEZONE lines (CRLF-terminated) for `timeZone` named `tzid`, true for every
 * instant between `from` and `to` (and a year either side).
 */
export function renderVtimezone(tzid: string, timeZone: string, from: Date, to: Date): string {
  const { first, last } = windowYears(from, to);
  const key = `${timeZone}|${first}|${last}`;
  const cached = memo.get(tzid);
  if (cached !== undefined && cached.key === key) return cached.text;
  const lines = [
    'BEGIN:VTIMEZONE',
    `TZID:${tzid}`,
    ...observanceLines(timeZone, Date.UTC(first, 0, 1), Date.UTC(last + 1, 0, 1)),
    'END:VTIMEZONE',
  ];
  const text = lines.join('\r\n') + '\r\n';
  if (memo.size > 2_000) memo.clear();
  memo.set(tzid, { key, text });
  return text;
}

/**
 * Whether the wall-clock reading of `instant` in `timeZone` names it unambiguously: false in
 * the repeated hour of a fall-back night (the reading happens twice) and in the hour after a
 * spring-forward jump (where a wall time that never happened, 02:30, lands: its source's own
 * reading did not exist, and readers disagree on such times).
 */
export function hasUnambiguousWallTime(instant: Date, timeZone: string): boolean {
  const at = instant.getTime();
  // Most times are days away from any change: time.ts caches offsets of days without one.
  const here = zoneOffsetMs(instant, timeZone);
  if (
    zoneOffsetMs(new Date(at - DAY_MS), timeZone) === here &&
    zoneOffsetMs(new Date(at + DAY_MS), timeZone) === here
  ) {
    return true;
  }
  for (const transition of offsetTransitions(timeZone, at - DAY_MS, at + DAY_MS, DAY_MS)) {
    const jump = Math.abs(transition.to - transition.from) * 1000;
    const firstUnsafe = transition.to < transition.from ? transition.at - jump : transition.at;
    if (at >= firstUnsafe && at < transition.at + jump) return false;
  }
  return true;
}
