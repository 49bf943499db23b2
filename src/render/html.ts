import path from 'node:path';
import { Eta } from 'eta';
import type { FragmentCache } from '../cache/fragment-cache.js';
import { escapeHtml, plainTextToHtml, sanitizeDescriptionHtml } from '../events/description.js';
import type { Facets } from '../events/event-repository.js';
import { describeFilter, filterQueryString, type EventFilter } from '../events/filter.js';
import { foldKey } from '../events/text-key.js';
import { localDateKey, wallTimeIn, zoneOffsetMs } from '../events/time.js';
import type { Event } from '../events/types.js';
import {
  formatClock,
  formatDayTime,
  formatPrice,
  locationLine,
  oneLine,
  placeLine,
  pricesLine,
  safeHttpUrl,
} from './event-text.js';

/**
 * HTML pages: the event list with its filter form and subscribe panel, the event page, the
 * embeddable list and error pages. View models are built here from events and site info; the
 * Eta templates in views/ only lay them out and escape every value. Pure: no clock, no I/O
 * besides reading templates.
 */

export const VIEWS_DIR = path.resolve(import.meta.dirname, '..', '..', 'views');

/** The template engine, created once per app: auto-escaping, compiled templates cached. */
export function createTemplates(viewsDir: string = VIEWS_DIR): Eta {
  return new Eta({ views: viewsDir, autoEscape: true, cache: true });
}

/** Site-wide facts every page needs. */
export interface SiteInfo {
  siteTitle: string;
  /** PUBLIC_URL without trailing slash. */
  publicUrl: string;
  /** TIMEZONE: list pages group and show times in it. */
  timeZone: string;
  /** Root-relative URLs of the stylesheets and scripts, with content versions. */
  assets: { siteCss: string; siteJs: string; embedCss: string; embedFrameJs: string };
  /** Paths of the feed formats: `/events.ics`, `/events.rss`, ... */
  feedPaths: { ics: string; rss: string; atom: string; json: string };
}

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

/** "Saturday 5 December 2026": a day heading for `YYYY-MM-DD`. */
export function dayHeading(dateKey: string): string {
  const [year, month, day] = dateKey.split('-').map(Number) as [number, number, number];
  const weekday = WEEKDAYS[new Date(Date.UTC(year, month - 1, day)).getUTCDay()];
  return `${weekday} ${day} ${MONTHS[month - 1]} ${year}`;
}

/** "2026-12-05T20:30:00+01:00": an instant as the wall time of `timeZone` with its offset. */
export function isoInZone(instant: Date, timeZone: string): string {
  const wall = wallTimeIn(instant, timeZone);
  const offsetMinutes = Math.round(zoneOffsetMs(instant, timeZone) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** A status label shown next to an event: cancelled, rescheduled, new location, sold out. */
export interface StatusBadge {
  kind: 'cancelled' | 'rescheduled' | 'relocated' | 'sold-out';
  label: string;
  /** "was Sat 28 Nov 20:30", when the previous start is known. */
  detail: string | null;
}

function statusBadges(event: Event, timeZone: string): StatusBadge[] {
  const badges: StatusBadge[] = [];
  if (event.status === 'cancelled')
    badges.push({ kind: 'cancelled', label: 'Cancelled', detail: null });
  if (event.status === 'rescheduled') {
    badges.push({
      kind: 'rescheduled',
      label: 'Rescheduled',
      detail: event.previousStartsAt
        ? `was ${formatDayTime(event.previousStartsAt, timeZone)}`
        : null,
    });
  }
  if (event.status === 'relocated')
    badges.push({ kind: 'relocated', label: 'New location', detail: null });
  if (event.soldOut && event.status !== 'cancelled')
    badges.push({ kind: 'sold-out', label: 'Sold out', detail: null });
  return badges;
}

/** One event in a list. */
export interface EventListItem {
  id: string;
  url: string;
  title: string;
  subtitle: string | null;
  startIso: string;
  /** "20:30" in the list's zone. */
  start: string;
  /** "20:30–23:30" in the list's zone (the end only when on the same day). */
  time: string;
  place: string | null;
  genres: string[];
  prices: string | null;
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

const text = (value: string | null): string | null => {
  if (value === null) return null;
  const line = oneLine(value);
  return line === '' ? null : line;
};

function listItem(event: Event, timeZone: string): EventListItem {
  const start = formatClock(event.startsAt, timeZone);
  const sameDayEnd =
    event.endsAt !== null &&
    localDateKey(event.endsAt, timeZone) === localDateKey(event.startsAt, timeZone);
  return {
    id: event.id,
    url: `/events/${encodeURIComponent(event.id)}`,
    title: text(event.title) ?? event.id,
    subtitle: text(event.subtitle),
    startIso: isoInZone(event.startsAt, timeZone),
    start,
    time:
      event.endsAt !== null && sameDayEnd
        ? `${start}–${formatClock(event.endsAt, timeZone)}`
        : start,
    place: placeLine(event.venue),
    genres: event.genres.map(oneLine).filter((genre) => genre !== ''),
    prices: pricesLine(event.prices),
    cancelled: event.status === 'cancelled',
    badges: statusBadges(event, timeZone),
  };
}

/**
 * Groups events (sorted by start) by their start day in `timeZone`. With `renderItem`, items
 * arrive as markup (so a cache can spare building and rendering unchanged events).
 */
export function groupByDay(
  events: readonly Event[],
  timeZone: string,
  renderItem?: ListItemRenderer,
): DayGroup[] {
  const groups: DayGroup[] = [];
  for (const event of events) {
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

/** The links of a subscribe panel for one filter. */
export interface SubscribeLinks {
  name: string;
  ics: string;
  webcal: string;
  google: string;
  outlook: string;
  rss: string;
  atom: string;
  json: string;
}

/** Subscription URLs for `filter`: https and webcal ICS, Google, Outlook.com, RSS, Atom, JSON. */
export function subscribeLinks(site: SiteInfo, filter: EventFilter): SubscribeLinks {
  const query = filterQueryString(filter);
  const ics = `${site.publicUrl}${site.feedPaths.ics}${query}`;
  const webcal = ics.replace(/^https?:/, 'webcal:');
  const name = `${site.siteTitle}: ${describeFilter(filter)}`;
  return {
    name,
    ics,
    webcal,
    google: `https://calendar.google.com/calendar/r?cid=${encodeURIComponent(webcal)}`,
    outlook: `https://outlook.live.com/calendar/0/addfromweb?url=${encodeURIComponent(ics)}&name=${encodeURIComponent(name)}`,
    rss: `${site.publicUrl}${site.feedPaths.rss}${query}`,
    atom: `${site.publicUrl}${site.feedPaths.atom}${query}`,
    json: `${site.publicUrl}${site.feedPaths.json}${query}`,
  };
}

/** The `<script>` tag that embeds this filter's list in another site (see views/assets/embed.js). */
export function embedSnippet(site: SiteInfo, filter: EventFilter): string {
  const attributes = new URLSearchParams(filterQueryString(filter).replace(/^\?/, ''));
  const data = [...attributes.entries()]
    .map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`)
    .join('');
  return `<script src="${escapeHtml(site.publicUrl)}/embed.js"${data} data-limit="10" async></script>`;
}

/** `<link rel="alternate">` entries of a listing page. */
function alternates(links: SubscribeLinks) {
  return [
    { type: 'application/rss+xml', title: `RSS: ${links.name}`, href: links.rss },
    { type: 'application/atom+xml', title: `Atom: ${links.name}`, href: links.atom },
    { type: 'application/feed+json', title: `JSON Feed: ${links.name}`, href: links.json },
    { type: 'text/calendar', title: `Calendar: ${links.name}`, href: links.ics },
  ];
}

interface Choice {
  value: string;
  label: string;
  selected: boolean;
}

/** Options of a filter select: the facet values, plus selected values the facets lack. */
function choices(
  available: readonly string[],
  selected: readonly string[],
): { options: Choice[]; multiple: boolean } {
  const wanted = new Set(selected.map(foldKey));
  const options: Choice[] = available.map((value) => ({
    value,
    label: value,
    selected: wanted.has(foldKey(value)),
  }));
  const offered = new Set(available.map(foldKey));
  for (const value of selected) {
    if (!offered.has(foldKey(value))) {
      options.push({ value, label: value, selected: true });
      offered.add(foldKey(value));
    }
  }
  return { options, multiple: selected.length > 1 };
}

/** The date to show in a date input for a filter bound (`to` is exclusive: show the day before). */
function dateInputValue(instant: Date | null, timeZone: string, exclusiveEnd: boolean): string {
  if (instant === null) return '';
  return localDateKey(exclusiveEnd ? new Date(instant.getTime() - 1) : instant, timeZone);
}

/** Paging of a list page. */
export interface Paging {
  /** 1-based. */
  page: number;
  pageSize: number;
  defaultPageSize: number;
}

/** Everything the list page shows. */
export interface ListPageInput {
  site: SiteInfo;
  filter: EventFilter;
  page: { total: number; events: readonly Event[] };
  facets: Facets;
  paging: Paging;
}

function pageUrl(filter: EventFilter, paging: Paging, page: number): string {
  const params = new URLSearchParams(filterQueryString(filter).replace(/^\?/, ''));
  if (paging.pageSize !== paging.defaultPageSize) params.set('limit', String(paging.pageSize));
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

/** Builds the list page's view model. */
export function listPageModel(input: ListPageInput, renderItem?: ListItemRenderer) {
  const { site, filter, page, facets, paging } = input;
  const links = subscribeLinks(site, filter);
  const first = page.total === 0 ? 0 : filter.offset + 1;
  const last = filter.offset + page.events.length;
  const filtered =
    filter.city.length +
      filter.genre.length +
      filter.organizer.length +
      filter.venue.length +
      filter.source.length +
      filter.q.length >
      0 ||
    filter.from !== null ||
    filter.to !== null;
  const pages = Math.max(1, Math.ceil(page.total / paging.pageSize));
  return {
    site,
    title: filtered ? `${describeFilter(filter)} · ${site.siteTitle}` : site.siteTitle,
    heading: filtered ? describeFilter(filter) : 'Upcoming events',
    canonical: `${site.publicUrl}${pageUrl(filter, paging, paging.page)}`,
    alternates: alternates(links),
    links,
    embedSnippet: embedSnippet(site, filter),
    form: {
      city: choices(facets.cities, filter.city),
      genre: choices(facets.genres, filter.genre),
      organizer: choices(
        facets.organizers.map((organizer) => organizer.name),
        filter.organizer,
      ),
      from: dateInputValue(filter.from, site.timeZone, false),
      to: dateInputValue(filter.to, site.timeZone, true),
      q: filter.q.join(', '),
      // Filter parameters the form has no field for travel along unchanged.
      hidden: [
        ...(filter.venue.length > 0 ? [{ name: 'venue', value: filter.venue.join(',') }] : []),
        ...(filter.source.length > 0 ? [{ name: 'source', value: filter.source.join(',') }] : []),
        ...(paging.pageSize !== paging.defaultPageSize
          ? [{ name: 'limit', value: String(paging.pageSize) }]
          : []),
      ],
      filtered,
    },
    days: groupByDay(page.events, site.timeZone, renderItem),
    total: page.total,
    range: page.events.length > 0 ? `${first}–${last} of ${page.total}` : null,
    pager: {
      previous: paging.page > 1 ? pageUrl(filter, paging, Math.min(paging.page - 1, pages)) : null,
      next: last < page.total ? pageUrl(filter, paging, paging.page + 1) : null,
      first: paging.page > 1 ? pageUrl(filter, paging, 1) : null,
      page: paging.page,
      pages,
    },
  };
}

/** The event list page; `itemCache` keeps each event's markup across renders. */
export function renderListPage(
  templates: Eta,
  input: ListPageInput,
  itemCache?: FragmentCache<string>,
): string {
  const renderItem = cachedListItems(templates, itemCache, {
    timeZone: input.site.timeZone,
    compact: false,
    urlPrefix: '',
  });
  return templates.render('./home', listPageModel(input, renderItem));
}

/** Theme and accent of an embed, validated by the HTTP layer. */
export interface EmbedTheme {
  theme: 'light' | 'dark' | null;
  /** `#rgb` or `#rrggbb`, lower case. */
  accent: string | null;
}

/**
 * The inline style block of an embed with an accent colour. The HTTP layer hashes this very
 * string for the Content-Security-Policy, so the renderer and the header always agree.
 */
export function embedAccentStyle(accent: string | null): string | null {
  return accent === null ? null : `:root{--accent:${accent}}`;
}

export interface EmbedInput {
  site: SiteInfo;
  filter: EventFilter;
  page: { total: number; events: readonly Event[] };
  theme: EmbedTheme;
}

/** Builds the embed's view model. */
export function embedModel(input: EmbedInput, renderItem?: ListItemRenderer) {
  const { site, filter, page, theme } = input;
  const listQuery = filterQueryString(filter);
  return {
    site,
    title: `${describeFilter(filter)} · ${site.siteTitle}`,
    theme: theme.theme,
    accentStyle: embedAccentStyle(theme.accent),
    days: groupByDay(page.events, site.timeZone, renderItem),
    more: page.total > page.events.length ? page.total - page.events.length : 0,
    listUrl: `${site.publicUrl}/${listQuery}`,
    subscribeUrl: `${site.publicUrl}/${listQuery}#subscribe`,
  };
}

/** The compact list shown inside an iframe; `itemCache` keeps each event's markup. */
export function renderEmbed(
  templates: Eta,
  input: EmbedInput,
  itemCache?: FragmentCache<string>,
): string {
  const renderItem = cachedListItems(templates, itemCache, {
    timeZone: input.site.timeZone,
    compact: true,
    urlPrefix: input.site.publicUrl,
  });
  return templates.render('./embed', embedModel(input, renderItem));
}

const SCHEMA_STATUS: Record<Event['status'], string> = {
  scheduled: 'https://schema.org/EventScheduled',
  cancelled: 'https://schema.org/EventCancelled',
  rescheduled: 'https://schema.org/EventRescheduled',
  // schema.org has no "relocated"; the new location is simply the location.
  relocated: 'https://schema.org/EventScheduled',
};

const withoutNulls = (value: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(value).filter(
      ([, item]) =>
        item !== null && item !== undefined && !(Array.isArray(item) && item.length === 0),
    ),
  );

/** Schema.org `Event` data for search engines and link previews. */
export function eventJsonLd(
  event: Event,
  site: Pick<SiteInfo, 'publicUrl'>,
): Record<string, unknown> {
  const url = `${site.publicUrl}/events/${encodeURIComponent(event.id)}`;
  const ticketUrl = safeHttpUrl(event.ticketUrl);
  const availability = event.soldOut ? 'https://schema.org/SoldOut' : 'https://schema.org/InStock';
  const offers = event.prices
    .filter((price) => Number.isFinite(price.amount))
    .map((price) =>
      withoutNulls({
        '@type': 'Offer',
        name: text(price.label),
        price: price.amount,
        priceCurrency: oneLine(price.currency).toUpperCase(),
        url: ticketUrl,
        availability,
      }),
    );
  if (offers.length === 0 && ticketUrl !== null)
    offers.push({ '@type': 'Offer', url: ticketUrl, availability });
  const venue = event.venue;
  const address = withoutNulls({
    '@type': 'PostalAddress',
    streetAddress: text(venue.street),
    postalCode: text(venue.postalCode),
    addressLocality: text(venue.city),
    addressCountry: text(venue.country),
  });
  const image = safeHttpUrl(event.image?.url);
  return withoutNulls({
    '@context': 'https://schema.org',
    '@type': 'Event',
    '@id': url,
    url,
    name: text(event.title) ?? event.id,
    description:
      event.descriptionText === null ? null : event.descriptionText.trim().slice(0, 5000) || null,
    startDate: isoInZone(event.startsAt, event.timeZone),
    endDate: event.endsAt ? isoInZone(event.endsAt, event.timeZone) : null,
    doorTime: event.doorsAt ? isoInZone(event.doorsAt, event.timeZone) : null,
    eventStatus: SCHEMA_STATUS[event.status],
    previousStartDate:
      event.previousStartsAt !== null && event.status === 'rescheduled'
        ? isoInZone(event.previousStartsAt, event.timeZone)
        : null,
    eventAttendanceMode: 'https://schema.org/OfflineEventAttendanceMode',
    location: withoutNulls({
      '@type': 'Place',
      name: text(venue.name) ?? locationLine(venue),
      address: Object.keys(address).length > 1 ? address : null,
      geo:
        venue.latitude !== null && venue.longitude !== null
          ? { '@type': 'GeoCoordinates', latitude: venue.latitude, longitude: venue.longitude }
          : null,
    }),
    organizer:
      text(event.organizer.name) === null
        ? null
        : { '@type': 'Organization', name: text(event.organizer.name) },
    offers,
    image: image === null ? [] : [image],
  });
}

/**
 * JSON for a `<script type="application/ld+json">` element: `<`, `>` and `&` escaped so no
 * value can close the element or open a comment; U+2028/2029 escaped for old parsers.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** An OpenStreetMap link for a venue: its coordinates, else a search for its address. */
export function mapUrl(venue: Event['venue']): string | null {
  if (
    venue.latitude !== null &&
    venue.longitude !== null &&
    Number.isFinite(venue.latitude) &&
    Number.isFinite(venue.longitude)
  ) {
    const lat = venue.latitude.toFixed(5);
    const lon = venue.longitude.toFixed(5);
    return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
  }
  const address = [venue.name, venue.street, venue.postalCode, venue.city, venue.country]
    .map((part) => (part === null ? '' : oneLine(part)))
    .filter((part) => part !== '')
    .join(', ');
  return address === ''
    ? null
    : `https://www.openstreetmap.org/search?query=${encodeURIComponent(address)}`;
}

/** The description as safe HTML: the sanitizer runs again here, the renderer trusts no input. */
function descriptionBody(event: Event): string | null {
  if (event.descriptionHtml !== null && event.descriptionHtml.trim() !== '') {
    const html = sanitizeDescriptionHtml(event.descriptionHtml);
    if (html !== '') return html;
  }
  if (event.descriptionText !== null && event.descriptionText.trim() !== '') {
    return plainTextToHtml(event.descriptionText);
  }
  return null;
}

function summary(event: Event): string | null {
  if (event.descriptionText === null) return null;
  const line = oneLine(event.descriptionText);
  if (line === '') return null;
  return line.length > 200 ? `${line.slice(0, 197).trimEnd()}…` : line;
}

export interface EventPageInput {
  site: SiteInfo;
  event: Event;
}

/** Builds the event page's view model. */
export function eventPageModel(input: EventPageInput) {
  const { site, event } = input;
  const zone = event.timeZone;
  const url = `${site.publicUrl}/events/${encodeURIComponent(event.id)}`;
  const title = text(event.title) ?? event.id;
  const image = safeHttpUrl(event.image?.url);
  const venue = event.venue;
  const locality = [text(venue.postalCode), text(venue.city)]
    .filter((part) => part !== null)
    .join(' ');
  const startKey = localDateKey(event.startsAt, zone);
  const startClock = formatClock(event.startsAt, zone);
  let when = { day: dayHeading(startKey), time: startClock };
  if (event.endsAt !== null) {
    const endKey = localDateKey(event.endsAt, zone);
    const end = formatClock(event.endsAt, zone);
    if (endKey === startKey) when = { ...when, time: `${startClock}–${end}` };
    else if (event.endsAt.getTime() - event.startsAt.getTime() < 86_400_000) {
      when = { ...when, time: `${startClock}–${end} (next day)` };
    } else when = { ...when, time: `${startClock} until ${dayHeading(endKey)}, ${end}` };
  }
  const description = summary(event);
  return {
    site,
    title: `${title} · ${site.siteTitle}`,
    canonical: url,
    description,
    og: {
      title,
      description,
      url,
      image,
      imageAlt: image === null ? null : (text(event.image?.alt ?? null) ?? title),
      siteName: site.siteTitle,
    },
    jsonLd: jsonForScriptElement(eventJsonLd(event, site)),
    event: {
      id: event.id,
      title,
      subtitle: text(event.subtitle),
      cancelled: event.status === 'cancelled',
      badges: statusBadges(event, zone),
      when,
      startIso: isoInZone(event.startsAt, zone),
      timeZone: zone,
      otherZone: zone !== site.timeZone,
      doors: event.doorsAt === null ? null : formatClock(event.doorsAt, zone),
      venue: {
        name: text(venue.name),
        street: text(venue.street),
        locality: locality === '' ? null : locality,
        country: text(venue.country),
      },
      mapUrl: mapUrl(venue),
      descriptionHtml: descriptionBody(event),
      genres: event.genres
        .map(oneLine)
        .filter((genre) => genre !== '')
        .map((genre) => ({ name: genre, url: `/?genre=${encodeURIComponent(genre)}` })),
      organizer:
        text(event.organizer.name) === null
          ? null
          : {
              name: text(event.organizer.name) as string,
              url: `/?organizer=${encodeURIComponent(text(event.organizer.name) as string)}`,
            },
      prices: event.prices.map(formatPrice).filter((price): price is string => price !== null),
      soldOut: event.soldOut,
      ticketUrl: safeHttpUrl(event.ticketUrl),
      // Only https images: the page's CSP allows no plain-http image.
      image:
        image !== null && image.startsWith('https:')
          ? { url: image, alt: text(event.image?.alt ?? null) ?? '' }
          : null,
      icsUrl: `/events/${encodeURIComponent(event.id)}.ics`,
    },
  };
}

/** The page of one event. */
export function renderEventPage(templates: Eta, input: EventPageInput): string {
  return templates.render('./event', eventPageModel(input));
}

export interface ErrorPageInput {
  site: SiteInfo;
  status: number;
  message: string;
}

const ERROR_TEXTS: Record<number, { heading: string; text: string | null }> = {
  // 400: the message names the parameter and what it accepts; it is worth showing.
  400: { heading: 'This address has a problem', text: null },
  404: {
    heading: 'Not found',
    text: 'There is nothing at this address. The event may have been hidden, or the link is mistyped.',
  },
  410: {
    heading: 'This event was removed',
    text: 'The organizer removed this event; it is no longer listed here.',
  },
};

/** An error page: 400 (bad filter, with its explanation), 404, 410 or a 500 without detail. */
export function renderErrorPage(templates: Eta, input: ErrorPageInput): string {
  const known = ERROR_TEXTS[input.status];
  const heading =
    known?.heading ?? (input.status >= 500 ? 'Something went wrong' : 'Request failed');
  const message =
    input.status >= 500
      ? 'The page could not be shown. Please try again in a moment.'
      : (known?.text ?? input.message);
  return templates.render('./error', {
    site: input.site,
    title: `${heading} · ${input.site.siteTitle}`,
    status: input.status,
    heading,
    message,
  });
}
