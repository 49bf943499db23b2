import type { Eta } from 'eta';
import { escapeHtml } from '../../events/description.js';
import type { Facets } from '../../events/event-facets.js';
import {
  describeFilter,
  filterQueryString,
  formatFilterValue,
  formatValueList,
  type EventFilter,
} from '../../events/filter.js';
import { shortFeedPath } from '../../events/short-feeds.js';
import { foldKey } from '../../events/text-key.js';
import { localDateKey } from '../../events/time.js';
import type { Event } from '../../events/types.js';
import type { FragmentCache } from '../../cache/fragment-cache.js';
import { cachedListItems, groupByDay, type ListItemRenderer } from './event-list.js';
import type { SiteInfo } from './templates.js';

/**
 * The home page (GET /): the event list of a filter with its filter form, paging, subscribe
 * panel and embed snippet. Laid out by views/home.eta.
 */

/**
 * The longest link the subscribe panel offers: Google Calendar fails silently to subscribe to
 * longer URLs, and the other clients are spared them too.
 */
export const MAX_SUBSCRIBE_LINK = 256;

/** The links of a subscribe panel for one filter; null where no link fits MAX_SUBSCRIBE_LINK. */
export interface SubscribeLinks {
  name: string;
  ics: string | null;
  webcal: string | null;
  google: string | null;
  outlook: string | null;
  rss: string | null;
  atom: string | null;
  json: string | null;
  /** The same filter's newest announcements first (`order=announced`), as feeds. */
  announcements: { rss: string | null; atom: string | null; json: string | null };
}

/** The short feed id of a canonical query string, or null when it has none. */
export type ShortFeedIds = (query: string) => string | null;

type FeedKind = keyof SiteInfo['feedPaths'];

/**
 * Subscription URLs for `filter`: https and webcal ICS, Google, Outlook.com, RSS, Atom, JSON.
 * Google Calendar drops STATUS:CANCELLED events from subscriptions, so its calendar asks for
 * `cancelled=visible`: cancellations and removals then show as confirmed events whose title says so.
 * A link that would be longer than MAX_SUBSCRIBE_LINK uses the filter's short feed URL
 * (/f/<id>.ics, from `shortIds`) instead; the long URLs stay wherever they fit, readable.
 */
export function subscribeLinks(
  site: SiteInfo,
  filter: EventFilter,
  shortIds: ShortFeedIds = () => null,
): SubscribeLinks {
  const query = filterQueryString(filter);
  const googleQuery = filterQueryString({ ...filter, cancelled: 'visible' });
  const fits = (link: string) => link.length <= MAX_SUBSCRIBE_LINK;
  // The link `wrap` makes of the feed's long URL if it fits, else of its short URL if that fits.
  const link = (
    kind: FeedKind,
    feedQuery: string,
    wrap: (url: string) => string | null,
  ): string | null => {
    const long = wrap(`${site.publicUrl}${site.feedPaths[kind]}${feedQuery}`);
    if (long !== null && fits(long)) return long;
    const id = shortIds(feedQuery);
    const short =
      id === null ? null : wrap(`${site.publicUrl}${shortFeedPath(id, site.feedPaths[kind])}`);
    return short !== null && fits(short) ? short : null;
  };
  const webcal = (url: string) => url.replace(/^https?:/, 'webcal:');
  const name = `${site.siteTitle}: ${describeFilter(filter)}`;
  const announced = filterQueryString({ ...filter, order: 'announced' });
  // Outlook.com shows `name` as the calendar's name; a long one gives way to the site's title.
  const outlook = (url: string) =>
    [name, site.siteTitle]
      .map(
        (calendarName) =>
          `https://outlook.live.com/calendar/0/addfromweb?url=${encodeURIComponent(url)}&name=${encodeURIComponent(calendarName)}`,
      )
      .find(fits) ?? null;
  return {
    name,
    ics: link('ics', query, (url) => url),
    webcal: link('ics', query, webcal),
    google: link(
      'ics',
      googleQuery,
      (url) => `https://calendar.google.com/calendar/r?cid=${encodeURIComponent(webcal(url))}`,
    ),
    outlook: link('ics', query, outlook),
    rss: link('rss', query, (url) => url),
    atom: link('atom', query, (url) => url),
    json: link('json', query, (url) => url),
    announcements: {
      rss: link('rss', announced, (url) => url),
      atom: link('atom', announced, (url) => url),
      json: link('json', announced, (url) => url),
    },
  };
}

/** The canonical query strings whose subscribe links need a short feed id. */
export function subscribeShortQueries(site: SiteInfo, filter: EventFilter): string[] {
  const wanted = new Set<string>();
  subscribeLinks(site, filter, (query) => {
    wanted.add(query);
    return SHORT_ID_PLACEHOLDER;
  });
  return [...wanted];
}

// As long as a short feed id (events/short-feeds.ts).
const SHORT_ID_PLACEHOLDER = 'x'.repeat(12);

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
  ].filter((alternate) => alternate.href !== null);
}

interface Choice {
  value: string;
  label: string;
  selected: boolean;
}

/**
 * Options of a filter select: the facet values, plus selected values the facets lack. An
 * option's value is written as the filter grammar reads it back (quoted when it has a comma).
 */
function choices(
  available: readonly string[],
  selected: readonly string[],
): { options: Choice[]; multiple: boolean } {
  const wanted = new Set(selected.map(foldKey));
  const options: Choice[] = available.map((value) => ({
    value: formatFilterValue(value),
    label: value,
    selected: wanted.has(foldKey(value)),
  }));
  const offered = new Set(available.map(foldKey));
  for (const value of selected) {
    if (!offered.has(foldKey(value))) {
      options.push({ value: formatFilterValue(value), label: value, selected: true });
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

/** The relative windows the form offers; another `days` value shows as an extra choice. */
const OFFERED_DAYS = [7, 30];

function daysChoices(days: number | null): Choice[] {
  const offered =
    days === null || OFFERED_DAYS.includes(days) ? OFFERED_DAYS : [...OFFERED_DAYS, days];
  return offered.map((value) => ({
    value: String(value),
    label: value === 1 ? 'Today' : `Next ${value} days`,
    selected: value === days,
  }));
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
  /** Short feed ids for subscribe links too long otherwise (subscribeShortQueries). */
  shortIds?: ShortFeedIds;
}

function pageUrl(filter: EventFilter, paging: Paging, page: number): string {
  const params = new URLSearchParams(filterQueryString(filter).replace(/^\?/, ''));
  if (paging.pageSize !== paging.defaultPageSize) params.set('limit', String(paging.pageSize));
  if (page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

/** `near` and `radius` as the form carries them along. */
function nearFields(filter: EventFilter): { name: string; value: string }[] {
  const params = new URLSearchParams(filterQueryString(filter).replace(/^\?/, ''));
  return ['near', 'radius'].flatMap((name) => {
    const value = params.get(name);
    return value === null ? [] : [{ name, value }];
  });
}

/** Builds the list page's view model. */
export function listPageModel(input: ListPageInput, renderItem?: ListItemRenderer) {
  const { site, filter, page, facets, paging } = input;
  const links = subscribeLinks(site, filter, input.shortIds);
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
    filter.to !== null ||
    filter.days !== null ||
    filter.near !== null ||
    filter.order !== 'start';
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
      days: { options: daysChoices(filter.days), multiple: false },
      q: filter.q.map(formatFilterValue).join(', '),
      // Filter parameters the form has no field for travel along unchanged.
      hidden: [
        ...(filter.venue.length > 0
          ? [{ name: 'venue', value: formatValueList(filter.venue) }]
          : []),
        ...(filter.source.length > 0
          ? [{ name: 'source', value: formatValueList(filter.source) }]
          : []),
        ...(filter.cancelled !== 'status' ? [{ name: 'cancelled', value: filter.cancelled }] : []),
        ...nearFields(filter),
        ...(filter.order !== 'start' ? [{ name: 'order', value: filter.order }] : []),
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
