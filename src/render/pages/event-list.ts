import type { Eta } from 'eta';
import { isoInZone, localDateKey } from '../../events/time.js';
import type { Event } from '../../events/types.js';
import type { FragmentCache } from '../../cache/fragment-cache.js';
import {
  dayHeading,
  formatClock,
  formatDayTime,
  formatEventDayTime,
  genreLines,
  lineOrNull,
  placeLine,
  formatPrice,
  shownZone,
  zoneAbbreviation,
} from '../event-text.js';
import { eventPagePath } from '../event-url.js';
import { STATUS_WORDS } from '../status-words.js';

/**
 * The pieces of events that several pages show: status badges, list items grouped by day (the
 * home page and the embed), and the cached rendering of list items. Pure: no clock, no I/O.
 */

/** A status label shown next to an event: cancelled, rescheduled, new location, sold out. */
export interface StatusBadge {
  kind: 'cancelled' | 'rescheduled' | 'relocated' | 'sold-out';
  label: string;
  /** "was Sat 28 Nov 20:30", when the previous start is known. */
  detail: string | null;
}

/**
 * The status labels of `event`, with times in `timeZone` (or in the event's zone, labelled,
 * when that reads another clock).
 */
export function statusBadges(event: Event, timeZone: string): StatusBadge[] {
  const badges: StatusBadge[] = [];
  if (event.status === 'cancelled')
    badges.push({ kind: 'cancelled', label: STATUS_WORDS.cancelled, detail: null });
  if (event.status === 'rescheduled') {
    badges.push({
      kind: 'rescheduled',
      label: STATUS_WORDS.rescheduled,
      detail: event.previousStartsAt
        ? `was ${formatEventDayTime(event.previousStartsAt, event.timeZone, timeZone)}`
        : null,
    });
  }
  if (event.status === 'relocated')
    badges.push({ kind: 'relocated', label: STATUS_WORDS.relocated, detail: null });
  if (event.soldOut && event.status !== 'cancelled')
    badges.push({ kind: 'sold-out', label: STATUS_WORDS.soldOut, detail: null });
  return badges;
}

/** What a page shows where an event's end time would be when it has none. */
export function openEndNote(event: Event): string | null {
  return event.endsAt === null ? STATUS_WORDS.openEnded : null;
}

/** One event in a list. */
export interface EventListItem {
  id: string;
  url: string;
  title: string;
  subtitle: string | null;
  startIso: string;
  /**
   * "20:30" in the list's zone; "11:00 EST" in the event's zone when that reads another clock
   * ("Sat 12 Dec 23:00 EST" when its day there is not the list's day).
   */
  start: string;
  /** "20:30–23:30", "11:00–14:00 EST": `start` and the end when on the same day. */
  time: string;
  /** "End time not announced" for an open-ended event, shown where the end would be. */
  endNote: string | null;
  place: string | null;
  genres: string[];
  /** Each price with its label ("€12.00 Pre-sale"); a phone wraps the row between them. */
  prices: string[];
  cancelled: boolean;
  badges: StatusBadge[];
}

/** An event whose list markup was rendered (or taken from a cache) beforehand. */
export interface RenderedListItem {
  html: string;
}

/** Events of one day. */
export interface DayGroup {
  dateKey: string;
  heading: string;
  events: (EventListItem | RenderedListItem)[];
}

/** Renders one list item's markup; `build` makes its view model when it is needed. */
export type ListItemRenderer = (event: Event, build: () => EventListItem) => string;

/** An event's start, and its end when on the same day, as `start`, `time` and `startIso` read. */
function listTimes(
  event: Event,
  timeZone: string,
): Pick<EventListItem, 'start' | 'time' | 'startIso'> {
  const { startsAt, endsAt } = event;
  const shown = shownZone(
    event.timeZone,
    timeZone,
    endsAt === null ? [startsAt] : [startsAt, endsAt],
  );
  const zone = shown.timeZone;
  const startDay = localDateKey(startsAt, zone);
  const startIso = isoInZone(startsAt, zone);
  // Under the list's day heading, a start on another day in the event's zone names its day.
  const startText =
    startDay === localDateKey(startsAt, timeZone)
      ? formatClock(startsAt, zone)
      : formatDayTime(startsAt, zone);
  const startLabel = shown.labelled ? ` ${zoneAbbreviation(startsAt, zone)}` : '';
  if (endsAt === null || localDateKey(endsAt, zone) !== startDay) {
    return { start: startText + startLabel, time: startText + startLabel, startIso };
  }
  const endLabel = shown.labelled ? ` ${zoneAbbreviation(endsAt, zone)}` : '';
  // One label for both ends, unless the zone changed its offset in between.
  const range =
    startLabel === endLabel
      ? `${startText}–${formatClock(endsAt, zone)}${endLabel}`
      : `${startText}${startLabel}–${formatClock(endsAt, zone)}${endLabel}`;
  return { start: startText + startLabel, time: range, startIso };
}

function listItem(event: Event, timeZone: string): EventListItem {
  return {
    id: event.id,
    url: eventPagePath(event.id),
    title: lineOrNull(event.title) ?? event.id,
    subtitle: lineOrNull(event.subtitle),
    ...listTimes(event, timeZone),
    endNote: openEndNote(event),
    place: placeLine(event.venue),
    genres: genreLines(event),
    prices: event.prices.map(formatPrice).filter((price): price is string => price !== null),
    cancelled: event.status === 'cancelled',
    badges: statusBadges(event, timeZone),
  };
}

/**
 * Groups events by their start day in `timeZone`, in start order. With `renderItem`, items
 * arrive as markup (so a cache can spare building and rendering unchanged events).
 */
export function groupByDay(
  events: readonly Event[],
  timeZone: string,
  renderItem?: ListItemRenderer,
): DayGroup[] {
  const groups: DayGroup[] = [];
  // A page of announcements (`order=announced`) is chosen by first-seen time, shown by day.
  const byStart = [...events].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
  for (const event of byStart) {
    const dateKey = localDateKey(event.startsAt, timeZone);
    let group = groups.at(-1);
    if (!group || group.dateKey !== dateKey) {
      group = { dateKey, heading: dayHeading(dateKey), events: [] };
      groups.push(group);
    }
    group.events.push(
      renderItem
        ? { html: renderItem(event, () => listItem(event, timeZone)) }
        : listItem(event, timeZone),
    );
  }
  return groups;
}

/**
 * A renderer of list items through the `event-item` template, caching each item's markup per
 * event revision (and everything else the markup depends on) in `cache`.
 */
export function cachedListItems(
  templates: Eta,
  cache: FragmentCache<string> | undefined,
  options: { timeZone: string; compact: boolean; urlPrefix: string },
): ListItemRenderer {
  const render = (item: EventListItem) =>
    templates.render('./partials/event-item', {
      item: { ...item, url: options.urlPrefix + item.url },
      compact: options.compact,
    });
  if (cache === undefined) return (_event, build) => render(build());
  const prefix = cache.namespace(
    `${options.compact ? 'c' : 'l'}|${options.timeZone}|${options.urlPrefix}`,
  );
  return (event, build) => {
    const key = cache.keyOf(prefix, event);
    const known = cache.get(key);
    if (known !== undefined) return known;
    const html = render(build());
    cache.set(key, html);
    return html;
  };
}
