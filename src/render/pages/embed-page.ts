import type { Eta } from 'eta';
import { describeFilter, filterQueryString, type EventFilter } from '../../events/filter.js';
import type { Event } from '../../events/types.js';
import type { FragmentCache } from '../../cache/fragment-cache.js';
import { cachedListItems, groupByDay, type ListItemRenderer } from './event-list.js';
import type { SiteInfo } from './templates.js';

/**
 * The embed (GET /embed): a compact event list shown inside an iframe on other sites, with an
 * optional theme and accent colour. Laid out by views/embed.eta.
 */

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
