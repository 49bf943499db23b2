/**
 * Time-zone arithmetic on top of Intl, so wall-clock dates in a zone (a `from=2026-12-05`
 * filter, a day heading) map to the right instant across DST changes.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function intlWallTime(instant: Date, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

function intlOffsetMs(instant: Date, timeZone: string): number {
  const wall = intlWallTime(instant, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** Milliseconds in a day of UTC (no leap seconds). */
export const DAY_MS = 86_400_000;
// Per zone, per UTC day: a map per zone spares building a string key on every call.
const dayOffsets = new Map<string, Map<number, number | null>>();
let cachedDays = 0;

/**
 * Offset of `timeZone` from UTC at `instant`, in milliseconds. Intl is slow (microseconds per
 * call), and offsets change at most once a day, so a UTC day whose both ends agree is cached.
 */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const day = Math.floor(instant.getTime() / DAY_MS);
  let days = dayOffsets.get(timeZone);
  if (days === undefined) {
    days = new Map();
    dayOffsets.set(timeZone, days);
  }
  let offset = days.get(day);
  if (offset === undefined) {
    const start = intlOffsetMs(new Date(day * DAY_MS), timeZone);
    const end = intlOffsetMs(new Date(day * DAY_MS + DAY_MS - 1000), timeZone);
    offset = start === end ? start : null;
    if (cachedDays > 200_000) {
      dayOffsets.clear();
      cachedDays = 0;
      days = new Map();
      dayOffsets.set(timeZone, days);
    }
    days.set(day, offset);
    cachedDays += 1;
  }
  return offset ?? intlOffsetMs(instant, timeZone);
}

/** The wall-clock reading of `instant` in `timeZone`. */
export function wallTimeIn(instant: Date, timeZone: string): WallTime {
  const shifted = new Date(
    Math.floor(instant.getTime() / 1000) * 1000 + zoneOffsetMs(instant, timeZone),
  );
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
  };
}

/** The instant at which the wall clock in `timeZone` shows the given time. */
export function instantFromWallTime(wall: WallTime, timeZone: string): Date {
  const naive = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  // Two passes settle the offset on both sides of a DST change.
  let guess = naive - zoneOffsetMs(new Date(naive), timeZone);
  guess = naive - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

/** `value` in decimal with leading zeros up to `width` digits: `zeroPad(5)` is "05". */
export function zeroPad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `YYYY-MM-DD` of `instant` in `timeZone`. */
export function localDateKey(instant: Date, timeZone: string): string {
  const wall = wallTimeIn(instant, timeZone);
  return `${wall.year}-${zeroPad(wall.month)}-${zeroPad(wall.day)}`;
}

/** "2026-12-05T20:30:00+01:00": an instant as the wall time of `timeZone` with its offset. */
export function isoInZone(instant: Date, timeZone: string): string {
  const wall = wallTimeIn(instant, timeZone);
  const offsetMinutes = Math.round(zoneOffsetMs(instant, timeZone) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${zeroPad(wall.year, 4)}-${zeroPad(wall.month)}-${zeroPad(wall.day)}` +
    `T${zeroPad(wall.hour)}:${zeroPad(wall.minute)}:${zeroPad(wall.second)}` +
    `${sign}${zeroPad(Math.floor(abs / 60))}:${zeroPad(abs % 60)}`
  );
}

const knownZones = new Map<string, boolean>();

/** Whether `zone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    // Bounded: senders could send endless distinct invalid names.
    if (knownZones.size > 10_000) knownZones.clear();
    knownZones.set(zone, known);
  }
  return known;
}

/** Whether the year, month and day name a day that exists (no 30 February). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}
