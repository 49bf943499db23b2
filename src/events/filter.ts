import { InvalidInputError } from '../errors.js';
import { foldKey } from './text-key.js';
import { instantFromWallTime, isCalendarDate } from './time.js';
import type { SourceName } from './types.js';

/**
 * The one filter grammar shared by every output: feeds, API, HTML pages and embeds. A parameter
 * may repeat or hold comma-separated values (OR within a parameter, AND across parameters); a
 * value with a comma is written in double quotes (splitValueList).
 */
export interface EventFilter {
  city: string[];
  genre: string[];
  organizer: string[];
  venue: string[];
  source: SourceName[];
  /** Events that have not ended before this instant. Null: the default window (now - PAST_DAYS). */
  from: Date | null;
  /** Events that start before this instant. */
  to: Date | null;
  /** Free-text queries; an event matches one when it contains all of its words. */
  q: string[];
  /**
   * How calendars show cancelled and withdrawn events: `status` (STATUS:CANCELLED, the default)
   * or `visible` (STATUS:CONFIRMED with the title prefix, for clients that drop cancelled events,
   * such as Google Calendar). Other outputs show them the same either way.
   */
  cancelled: CancelledDisplay;
  /**
   * `days=N`: events that start before the end of day today+N-1 in TIMEZONE (today counts as
   * the first day). Resolved against the clock at read time, so a subscription never runs dry.
   */
  days: number | null;
  /** Which events a limited page holds, and in which order: by start, or newest announced first. */
  order: EventOrder;
  /** `near=<lat>,<lon>`: only events whose venue lies within `radius` km of this point. */
  near: GeoPoint | null;
  /** Kilometres around `near` (DEFAULT_RADIUS_KM when not given). */
  radius: number;
  limit: number;
  offset: number;
}

/** The values of the `order` parameter; `start` is the default and is never written out. */
export const EVENT_ORDERS = ['start', 'announced'] as const;

export type EventOrder = (typeof EVENT_ORDERS)[number];

/** A point on the earth in decimal degrees (WGS 84). */
export interface GeoPoint {
  latitude: number;
  longitude: number;
}

/** `days` takes 1 to this many days. */
export const MAX_DAYS = 366;
/** `radius` when `near` comes without one, in kilometres. */
export const DEFAULT_RADIUS_KM = 25;
/** The largest `radius`, in kilometres. */
export const MAX_RADIUS_KM = 500;

/** The values of the `cancelled` parameter; `status` is the default and is never written out. */
export const CANCELLED_DISPLAYS = ['status', 'visible'] as const;

export type CancelledDisplay = (typeof CANCELLED_DISPLAYS)[number];

export const FILTER_PARAMETERS = [
  'city',
  'genre',
  'organizer',
  'venue',
  'source',
  'from',
  'to',
  'q',
  'cancelled',
  'days',
  'order',
  'near',
  'radius',
  'limit',
  'offset',
] as const;

export interface FilterOptions {
  defaultLimit: number;
  maxLimit?: number;
  /** Zone for date-only and offset-less values of `from` and `to`. */
  timeZone: string;
  /** Sources the registry knows; `source` must name one of them. */
  sources: readonly SourceName[];
  /** Further parameters this endpoint accepts (and ignores here), such as `theme`. */
  extraParameters?: readonly string[];
}

type QueryValue = string | string[] | undefined | unknown;

/** The longest value of a list parameter (`city`, `q`...), in characters. */
export const MAX_VALUE_LENGTH = 200;
/** The most values one list parameter takes. */
export const MAX_VALUES = 50;
/** The largest `limit` when the endpoint sets none of its own. */
export const MAX_LIMIT = 1000;
/** The largest `offset`. */
export const MAX_OFFSET = 1_000_000;

function values(name: string, raw: QueryValue): string[] {
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== 'string') {
      throw new InvalidInputError(`filter: "${name}" must be plain text values`);
    }
    for (const value of splitValueList(item)) {
      if (value.length === 0) continue;
      if (value.length > MAX_VALUE_LENGTH) {
        throw new InvalidInputError(
          `filter: "${name}" values are at most ${MAX_VALUE_LENGTH} characters`,
        );
      }
      out.push(value);
    }
  }
  if (out.length > MAX_VALUES) {
    throw new InvalidInputError(`filter: "${name}" takes at most ${MAX_VALUES} values`);
  }
  return out;
}

/**
 * Splits one parameter's text into values: comma-separated, each trimmed; a value in double
 * quotes may hold commas, with `""` for a quote inside (`"Rock, Pop",Jazz`). A quote that does not
 * close before a comma or the end is taken literally, as is any other text.
 */
export function splitValueList(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const quoted = readQuotedValue(text, start);
    const end = quoted ? quoted.end : text.indexOf(',', start);
    out.push(quoted ? quoted.value.trim() : text.slice(start, end < 0 ? undefined : end).trim());
    if (end < 0 || end >= text.length) return out;
    start = end + 1;
  }
}

/** The double-quoted value at `start` and the index of the comma (or end) after it; or null. */
function readQuotedValue(text: string, start: number): { value: string; end: number } | null {
  const open = text.slice(start).search(/\S/);
  if (open < 0 || text[start + open] !== '"') return null;
  let value = '';
  let at = start + open + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return null;
    value += text.slice(at, quote);
    at = quote + 1;
    if (text[at] !== '"') break;
    value += '"';
    at += 1;
  }
  const comma = text.indexOf(',', at);
  const end = comma < 0 ? text.length : comma;
  return text.slice(at, end).trim() === '' ? { value, end } : null;
}

/** One value as splitValueList reads it back: quoted when it holds a comma or starts with `"`. */
export function formatFilterValue(value: string): string {
  return value.includes(',') || value.startsWith('"') ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A parameter's values as one comma-separated text that splitValueList reads back. */
export function formatValueList(list: readonly string[]): string {
  return list.map(formatFilterValue).join(',');
}

function single(name: string, raw: QueryValue): string | null {
  const list = values(name, raw);
  if (list.length > 1) throw new InvalidInputError(`filter: "${name}" takes one value`);
  return list[0] ?? null;
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const ZONED_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an ISO date or date-time. A date alone means the start of that day in `timeZone`
 * (or, with `endOfDay`, the start of the next day); a date-time without offset is read in
 * `timeZone`.
 */
export function parseFilterDate(
  name: string,
  value: string,
  timeZone: string,
  endOfDay: boolean,
): Date {
  const accepted = `accepted: a date (2026-12-05), a local date-time (2026-12-05T20:00) or one with an offset (2026-12-05T20:00:00+01:00)`;
  const dateOnly = DATE_ONLY.exec(value);
  if (dateOnly) {
    const [year, month, day] = dateOnly.slice(1).map(Number) as [number, number, number];
    if (!isCalendarDate(year, month, day)) {
      throw new InvalidInputError(`filter: "${name}" is not a valid date (${accepted})`);
    }
    const start = instantFromWallTime(
      { year, month, day, hour: 0, minute: 0, second: 0 },
      timeZone,
    );
    if (!endOfDay) return start;
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    return instantFromWallTime(
      {
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
        hour: 0,
        minute: 0,
        second: 0,
      },
      timeZone,
    );
  }
  const local = LOCAL_DATE_TIME.exec(value);
  if (local) {
    const [year, month, day, hour, minute, second = 0] = local
      .slice(1)
      .map((part) => (part === undefined ? 0 : Number(part))) as number[] as [
      number,
      number,
      number,
      number,
      number,
      number?,
    ];
    if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
      throw new InvalidInputError(`filter: "${name}" is not a valid date-time (${accepted})`);
    }
    return instantFromWallTime({ year, month, day, hour, minute, second }, timeZone);
  }
  if (ZONED_DATE_TIME.test(value)) {
    const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [
      number,
      number,
      number,
    ];
    const instant = new Date(value);
    // Date() would move 2027-02-30T20:00Z to 2 March; the other forms reject it, so does this one.
    if (!Number.isNaN(instant.getTime()) && isCalendarDate(year, month, day)) return instant;
  }
  throw new InvalidInputError(`filter: "${name}" must be an ISO date or date-time (${accepted})`);
}

function parseCancelled(value: string | null): CancelledDisplay {
  if (value === null) return 'status';
  if (value.toLowerCase() === 'visible') return 'visible';
  throw new InvalidInputError(
    'filter: "cancelled" takes only "visible" (calendars then show cancelled and removed events as confirmed, with the title prefix)',
  );
}

function parseDays(value: string | null): number | null {
  return value === null ? null : parseInteger('days', value, 0, 1, MAX_DAYS);
}

function parseOrder(value: string | null): EventOrder {
  if (value === null) return 'start';
  const order = value.toLowerCase();
  if (order === 'start' || order === 'announced') return order;
  throw new InvalidInputError(
    'filter: "order" must be "start" (by start time, the default) or "announced" (newest announcements first)',
  );
}

const DECIMAL = '[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)';
const NEAR = new RegExp(`^(${DECIMAL})\\s*,\\s*(${DECIMAL})$`);
const RADIUS = new RegExp(`^${DECIMAL}$`);

/**
 * `near=<lat>,<lon>`, read from the raw value: the comma here separates the two coordinates, not
 * alternatives, so it does not go through the list splitting of other parameters.
 */
function parseNear(raw: QueryValue): GeoPoint | null {
  if (raw === undefined || raw === '') return null;
  const shape =
    'filter: "near" must be a latitude and longitude in decimal degrees, such as near=52.37,4.89';
  if (typeof raw !== 'string') throw new InvalidInputError(`${shape} (one value)`);
  const match = NEAR.exec(raw.trim());
  if (!match) throw new InvalidInputError(shape);
  const latitude = Number(match[1]);
  const longitude = Number(match[2]);
  if (Math.abs(latitude) > 90) {
    throw new InvalidInputError('filter: "near" latitude must be from -90 to 90');
  }
  if (Math.abs(longitude) > 180) {
    throw new InvalidInputError('filter: "near" longitude must be from -180 to 180');
  }
  return { latitude, longitude };
}

function parseRadius(value: string | null, near: GeoPoint | null): number {
  if (value === null) return DEFAULT_RADIUS_KM;
  if (near === null) {
    throw new InvalidInputError('filter: "radius" needs "near" (near=<lat>,<lon>&radius=<km>)');
  }
  const radius = RADIUS.test(value) ? Number(value) : Number.NaN;
  if (!(radius > 0 && radius <= MAX_RADIUS_KM)) {
    throw new InvalidInputError(
      `filter: "radius" must be a number of kilometres above 0 and at most ${MAX_RADIUS_KM}`,
    );
  }
  return radius;
}

function parseInteger(
  name: string,
  value: string | null,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InvalidInputError(`filter: "${name}" must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** Parses a request's query into an EventFilter; throws InvalidInputError naming the parameter. */
export function parseEventFilter(
  query: Record<string, unknown>,
  options: FilterOptions,
): EventFilter {
  const allowed = new Set<string>([...FILTER_PARAMETERS, ...(options.extraParameters ?? [])]);
  const unknown = Object.keys(query).filter((key) => !allowed.has(key));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `filter: unknown parameter "${unknown[0]}"; accepted: ${[...allowed].join(', ')}`,
    );
  }
  const maxLimit = options.maxLimit ?? MAX_LIMIT;

  const source = values('source', query.source).map((value) => value.toLowerCase());
  for (const name of source) {
    if (!options.sources.includes(name as SourceName)) {
      throw new InvalidInputError(`filter: "source" must be one of ${options.sources.join(', ')}`);
    }
  }

  const fromValue = single('from', query.from);
  const toValue = single('to', query.to);
  const from =
    fromValue === null ? null : parseFilterDate('from', fromValue, options.timeZone, false);
  const to = toValue === null ? null : parseFilterDate('to', toValue, options.timeZone, true);
  if (from && to && to.getTime() <= from.getTime()) {
    throw new InvalidInputError('filter: "to" must be after "from"');
  }
  const near = parseNear(query.near);

  return {
    city: values('city', query.city),
    genre: values('genre', query.genre),
    organizer: values('organizer', query.organizer),
    venue: values('venue', query.venue),
    source: source as SourceName[],
    from,
    to,
    q: values('q', query.q),
    cancelled: parseCancelled(single('cancelled', query.cancelled)),
    days: parseDays(single('days', query.days)),
    order: parseOrder(single('order', query.order)),
    near,
    radius: parseRadius(single('radius', query.radius), near),
    limit: parseInteger('limit', single('limit', query.limit), options.defaultLimit, 1, maxLimit),
    offset: parseInteger('offset', single('offset', query.offset), 0, 0, MAX_OFFSET),
  };
}

/**
 * A stable key for a filter: same meaning, same key, whatever the order, case or accents of
 * the values. Render caches are keyed by it.
 */
export function filterKey(filter: EventFilter): string {
  const fold = (list: string[]) => [...new Set(list.map(foldKey))].sort();
  return JSON.stringify([
    fold(filter.city),
    fold(filter.genre),
    fold(filter.organizer),
    fold(filter.venue),
    [...new Set(filter.source)].sort(),
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
    fold(filter.q),
    filter.cancelled,
    filter.days,
    filter.order,
    filter.near && [filter.near.latitude, filter.near.longitude, filter.radius],
    filter.limit,
    filter.offset,
  ]);
}

/**
 * The query string that reproduces `filter` (without limit/offset unless asked): the canonical
 * form of a filter's URL, which self links, short feed ids and caches agree on.
 */
export function filterQueryString(
  filter: EventFilter,
  include: { limit?: boolean; offset?: boolean } = {},
): string {
  const params = new URLSearchParams();
  const add = (name: string, list: readonly string[]) => {
    if (list.length > 0) params.set(name, formatValueList(list));
  };
  add('city', filter.city);
  add('genre', filter.genre);
  add('organizer', filter.organizer);
  add('venue', filter.venue);
  add('source', filter.source);
  if (filter.from) params.set('from', filter.from.toISOString());
  if (filter.to) params.set('to', filter.to.toISOString());
  for (const q of filter.q) params.append('q', formatFilterValue(q));
  if (filter.cancelled !== 'status') params.set('cancelled', filter.cancelled);
  if (filter.days !== null) params.set('days', String(filter.days));
  if (filter.order !== 'start') params.set('order', filter.order);
  if (filter.near) {
    params.set('near', `${filter.near.latitude},${filter.near.longitude}`);
    if (filter.radius !== DEFAULT_RADIUS_KM) params.set('radius', String(filter.radius));
  }
  if (include.limit) params.set('limit', String(filter.limit));
  if (include.offset && filter.offset > 0) params.set('offset', String(filter.offset));
  return canonicalQuery(params);
}

/** The canonical query string of one value of a list parameter, such as an organizer's link. */
export function valueQueryString(
  name: 'city' | 'genre' | 'organizer' | 'venue',
  value: string,
): string {
  return canonicalQuery(new URLSearchParams({ [name]: formatFilterValue(value) }));
}

function canonicalQuery(params: URLSearchParams): string {
  // The canonical form writes a space as %20, as feed validators expect of a self link
  // (URLSearchParams writes `+`, and a literal `+` as %2B, so every `+` here is a space).
  const text = params.toString().replace(/\+/g, '%20');
  return text ? `?${text}` : '';
}

/**
 * A human title for a filter: "House in München", "Events by Paradiso", "Events in the next
 * 7 days within 25 km of 52.37, 4.89", "New announcements: Jazz in Utrecht".
 */
export function describeFilter(filter: EventFilter): string {
  const list = (items: string[]) =>
    items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
  let text = filter.genre.length > 0 ? list(filter.genre) : 'Events';
  if (filter.q.length > 0) text += ` matching “${list(filter.q)}”`;
  if (filter.venue.length > 0) text += ` at ${list(filter.venue)}`;
  if (filter.city.length > 0) text += ` in ${list(filter.city)}`;
  if (filter.organizer.length > 0) text += ` by ${list(filter.organizer)}`;
  if (filter.source.length > 0) text += ` from ${list(filter.source)}`;
  if (filter.near) {
    text += ` within ${filter.radius} km of ${filter.near.latitude}, ${filter.near.longitude}`;
  }
  if (filter.days !== null) {
    text += filter.days === 1 ? ' today' : ` in the next ${filter.days} days`;
  }
  return filter.order === 'announced' ? `New announcements: ${text}` : text;
}
