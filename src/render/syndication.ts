import { Feed, type Enclosure, type FeedOptions, type Item } from 'feed';
import type { Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';
import {
  descriptionHtml,
  descriptionPlainText,
  escapeHtml,
  eventUrl,
  imageMediaType,
  itemTitle,
  oneLine,
  safeHttpUrl,
} from './event-text.js';

/**
 * RSS 2.0 and Atom (through the `feed` package) and JSON Feed 1.1 (emitted directly). One item
 * per event, in the given order; every date comes from the events or `channel.updated`.
 *
 * What `feed` (with xml-js underneath) leaves to its caller, and how it is handled here:
 * - CDATA sections (item titles and HTML) escape only the first `]]>`: CDATA text is HTML here
 *   and every `]]>` becomes `]]&gt;`.
 * - Attribute values get only `"` escaped, so `&` and `<` are escaped before (xmlAttr).
 * - Element text is unescaped once (`&amp;` → `&`) before escaping, so `&` is escaped before
 *   (xmlText) to keep a literal `&amp;` intact.
 * - XML-illegal control characters pass through: every text goes through cleanText (oneLine
 *   and the description helpers).
 * - Atom entry titles are `type="html"`, so titles are HTML-escaped (RSS titles likewise:
 *   readers treat them as HTML).
 * - Enclosure types are derived from the URL's extension, so Atom gets an image only when the
 *   URL has one; RSS gets an explicit type.
 */

const GENERATOR = 'Marquee';

/** Renders an RSS 2.0 feed; `channel.selfUrl` is the RSS URL. */
export function renderRss(events: readonly Event[], channel: FeedChannel): string {
  const feed = new Feed(feedOptions(channel, { rss: channel.selfUrl }));
  for (const event of events) {
    const url = eventUrl(channel, event);
    const item: Item = {
      title: cdataHtml(escapeHtml(itemTitle(event, channel))),
      link: url,
      date: event.lastChangedAt,
      published: event.firstSeenAt,
      description: cdataHtml(descriptionHtml(event, channel)),
      category: genres(event).map((genre) => ({ name: xmlText(genre) })),
    };
    const image = safeHttpUrl(event.image?.url);
    if (image !== null) {
      // RSS requires a length; 0 is the usual "unknown".
      const enclosure: Enclosure = {
        url: xmlAttr(image),
        type: imageMediaType(image) ?? 'image/jpeg',
        length: 0,
      };
      item.image = enclosure;
    }
    feed.addItem(item);
  }
  return feed.rss2();
}

/** Renders an Atom 1.0 feed; `channel.selfUrl` is the Atom URL. */
export function renderAtom(events: readonly Event[], channel: FeedChannel): string {
  const feed = new Feed(feedOptions(channel, { atom: channel.selfUrl }));
  for (const event of events) {
    const url = eventUrl(channel, event);
    const html = descriptionHtml(event, channel);
    const item: Item = {
      title: cdataHtml(escapeHtml(itemTitle(event, channel))),
      id: url,
      link: url,
      date: event.lastChangedAt,
      published: event.firstSeenAt,
      category: genres(event).map((genre) => ({ name: xmlAttr(genre), term: xmlAttr(genre) })),
    };
    if (html !== '') item.content = cdataHtml(html);
    const image = safeHttpUrl(event.image?.url);
    // `feed` writes type="image/<extension>" whatever the item says.
    if (image !== null && imageMediaType(image) !== null) item.image = xmlAttr(image);
    feed.addItem(item);
  }
  return feed.atom1();
}

/** Renders a JSON Feed 1.1 document; `channel.selfUrl` is the JSON Feed URL. */
export function renderJsonFeed(events: readonly Event[], channel: FeedChannel): string {
  // Emitted directly: `feed` writes version 1 (`author`, no `authors`) and an enclosure object
  // where JSON Feed wants an image URL.
  const description = oneLine(channel.description);
  const document = {
    version: 'https://jsonfeed.org/version/1.1',
    title: oneLine(channel.title),
    home_page_url: channel.htmlUrl,
    feed_url: channel.selfUrl,
    ...(description === '' ? {} : { description }),
    authors: [{ name: oneLine(channel.siteTitle), url: channel.publicUrl }],
    items: events.map((event) => jsonFeedItem(event, channel)),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function feedOptions(channel: FeedChannel, feedLinks: FeedOptions['feedLinks']): FeedOptions {
  return {
    id: channel.htmlUrl,
    title: xmlText(oneLine(channel.title)),
    description: xmlText(oneLine(channel.description)),
    link: channel.htmlUrl,
    updated: channel.updated,
    generator: GENERATOR,
    feedLinks,
    author: { name: xmlText(oneLine(channel.siteTitle)), link: channel.publicUrl },
  };
}

function jsonFeedItem(event: Event, channel: FeedChannel): Record<string, unknown> {
  const url = eventUrl(channel, event);
  const text = descriptionPlainText(event, channel);
  const image = safeHttpUrl(event.image?.url);
  const nullableLine = (value: string | null): string | null => {
    const line = value === null ? '' : oneLine(value);
    return line === '' ? null : line;
  };
  const venue = event.venue;
  return {
    id: url,
    url,
    title: itemTitle(event, channel),
    content_html: descriptionHtml(event, channel),
    ...(text === null ? {} : { content_text: text }),
    ...(image === null ? {} : { image }),
    date_published: event.firstSeenAt.toISOString(),
    date_modified: event.lastChangedAt.toISOString(),
    tags: genres(event),
    _event: {
      start: event.startsAt.toISOString(),
      end: event.endsAt === null ? null : event.endsAt.toISOString(),
      timeZone: event.timeZone,
      status: event.status,
      venue: {
        name: nullableLine(venue.name),
        street: nullableLine(venue.street),
        postalCode: nullableLine(venue.postalCode),
        city: nullableLine(venue.city),
        country: nullableLine(venue.country),
        latitude: Number.isFinite(venue.latitude) ? venue.latitude : null,
        longitude: Number.isFinite(venue.longitude) ? venue.longitude : null,
      },
      organizer: {
        id: nullableLine(event.organizer.id),
        name: nullableLine(event.organizer.name),
      },
      genres: genres(event),
      ticketUrl: safeHttpUrl(event.ticketUrl),
      prices: event.prices
        .filter((price) => Number.isFinite(price.amount))
        .map((price) => ({
          amount: price.amount,
          currency: oneLine(price.currency),
          label: nullableLine(price.label),
        })),
      soldOut: event.soldOut,
      doorsOpen: event.doorsAt === null ? null : event.doorsAt.toISOString(),
      previousStart: event.previousStartsAt === null ? null : event.previousStartsAt.toISOString(),
      subtitle: nullableLine(event.subtitle),
    },
  };
}

function genres(event: Event): string[] {
  return event.genres.map(oneLine).filter((genre) => genre !== '');
}

/** HTML for a CDATA section: `]]>` would end it, `]]&gt;` reads the same as HTML. */
function cdataHtml(html: string): string {
  return html.replace(/]]>/g, ']]&gt;');
}

/** Text for an xml-js element: it turns `&amp;` back into `&` before escaping. */
function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;');
}

/** Text for an xml-js attribute: it escapes only `"`. */
function xmlAttr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
