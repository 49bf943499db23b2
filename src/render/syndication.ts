import { Feed, type Enclosure, type FeedOptions, type Item } from 'feed';
import { escapeHtml } from '../events/description.js';
import type { Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';
import type { FragmentCache } from '../cache/fragment-cache.js';
import { FeedDocument, eventFragments } from './feed-document.js';
import {
  descriptionHtml,
  eventSources,
  descriptionPlainText,
  imageMediaType,
  genreLines,
  itemTitle,
  lineOrNull,
  oneLine,
  safeHttpUrl,
} from './event-text.js';
import { eventPageUrl } from './event-url.js';
import { feedItemId } from './feed-ids.js';
import { statusNotes, withNotes } from './status-words.js';

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
 * - Item titles are plain text (the RSS profile and the W3C validator: no markup, no entities
 *   meant as HTML; feedparser then reads `&` as `&`). `feed` would write them in CDATA, and Atom's
 *   as `type="html"`, so each is written as escaped element text in place of a marker
 *   (plainTitle).
 * - Item ids: RSS guids and Atom ids are `tag:` URIs (channel.tagPrefix), not links, so that a
 *   domain move keeps them; RSS guids given as `guid` are written with isPermaLink="false".
 * - Enclosure types are derived from the URL's extension (`image/jpg` for .jpg), so Atom gets an
 *   image only when the URL has a known one, and its type is set to imageMediaType's
 *   afterwards; RSS gets an explicit type.
 */

const GENERATOR = 'Marquee';

/** Renders an RSS 2.0 feed; `channel.selfUrl` is the RSS URL. */
export function renderRss(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): string {
  return rssDocument(events, channel, cache).text();
}

/**
 * An RSS 2.0 feed as a document of items. With a cache, each item is rendered once per event
 * revision and channel.
 */
export function rssDocument(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): FeedDocument {
  return xmlFeedDocument('rss', events, channel, cache);
}

/** Renders an Atom 1.0 feed; `channel.selfUrl` is the Atom URL. */
export function renderAtom(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): string {
  return atomDocument(events, channel, cache).text();
}

/**
 * An Atom 1.0 feed as a document of entries. With a cache, each entry is rendered once per event
 * revision and channel.
 */
export function atomDocument(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): FeedDocument {
  return xmlFeedDocument('atom', events, channel, cache);
}

/** An RSS or Atom document: the shell `feed` writes for the channel, the items spliced in. */
function xmlFeedDocument(
  format: 'rss' | 'atom',
  events: readonly Event[],
  channel: FeedChannel,
  cache: FragmentCache<Uint8Array> | undefined,
): FeedDocument {
  const { tail, render, item } = xmlFormats[format];
  const shell = splitShell(
    render(new Feed(feedOptions(channel, { [format]: channel.selfUrl }))),
    tail,
  );
  const items = eventFragments(format, events, channel, cache, (missing) => {
    const texts = itemTexts(
      missing.map((event) => item(event, channel)),
      format,
    );
    return texts.map((text, i) => {
      const titled = plainTitle(text, format, missing[i]!, channel);
      return format === 'atom' ? atomEnclosureType(titled, missing[i]!) : titled;
    });
  });
  return new FeedDocument(shell.head, items, shell.tail);
}

function rssItem(event: Event, channel: FeedChannel): Item {
  const url = eventPageUrl(channel.publicUrl, event.id);
  const item: Item = {
    title: TITLE_MARKER,
    link: url,
    // `feed` writes a guid given this way with isPermaLink="false": it is no URL.
    guid: feedItemId(channel.tagPrefix, event.id),
    date: event.lastChangedAt,
    published: event.firstSeenAt,
    description: cdataHtml(contentHtml(event, channel)),
    category: genreLines(event).map((genre) => ({ name: xmlText(genre) })),
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
  return item;
}

// Cleaned text never holds NUL (cleanText), so the marker cannot be a title.
const TITLE_MARKER = '\u0000title\u0000';
const MARKED_TITLES = {
  rss: `<title><![CDATA[${TITLE_MARKER}]]></title>`,
  atom: `<title type="html"><![CDATA[${TITLE_MARKER}]]></title>`,
};

/** An item's text with its plain-text title, XML-escaped, in place of the marker. */
function plainTitle(
  text: string,
  format: 'rss' | 'atom',
  event: Event,
  channel: FeedChannel,
): string {
  const marked = MARKED_TITLES[format];
  if (!text.includes(marked)) throw new Error('render: unexpected feed item text from feed');
  // Atom's default title type is text.
  return text.replace(marked, () => `<title>${xmlEscape(itemTitle(event, channel))}</title>`);
}

/** An Atom entry's text with the enclosure type `feed` derived from the extension corrected. */
function atomEnclosureType(text: string, event: Event): string {
  const image = safeHttpUrl(event.image?.url);
  const type = image === null ? null : imageMediaType(image);
  if (type === null) return text;
  return text.replace(
    /(<link rel="enclosure" href="[^"]*" type=")[^"]*"/,
    (_match, head: string) => `${head}${type}"`,
  );
}

function atomItem(event: Event, channel: FeedChannel): Item {
  const url = eventPageUrl(channel.publicUrl, event.id);
  const html = contentHtml(event, channel);
  const item: Item = {
    title: TITLE_MARKER,
    id: feedItemId(channel.tagPrefix, event.id),
    link: url,
    date: event.lastChangedAt,
    published: event.firstSeenAt,
    category: genreLines(event).map((genre) => ({ name: xmlAttr(genre), term: xmlAttr(genre) })),
  };
  if (html !== '') item.content = cdataHtml(html);
  const image = safeHttpUrl(event.image?.url);
  // `feed` writes type="image/<extension>" whatever the item says.
  if (image !== null && imageMediaType(image) !== null) item.image = xmlAttr(image);
  return item;
}

/*
 * Items are spliced into a document rendered without items. `feed` writes the items last in the
 * channel (RSS) or feed (Atom) element, each at the same depth and so with the same indentation
 * whatever precedes it; nothing else in the document depends on the items (dates come from
 * `channel.updated`; the only item-dependent namespace, RSS content:, is never used here).
 */
const RSS_TAIL = '\n    </channel>\n</rss>';
const ATOM_TAIL = '\n</feed>';

interface Shell {
  head: string;
  tail: string;
}

function splitShell(document: string, tail: string): Shell {
  if (!document.endsWith(tail)) throw new Error('render: unexpected feed text from feed');
  return { head: document.slice(0, -tail.length), tail };
}

// Items are rendered in a fixed, clock-free shell and cut out of it.
const ITEM_SHELL_OPTIONS: FeedOptions = { id: '', title: '', updated: new Date(0) };
const xmlFormats = {
  rss: {
    tail: RSS_TAIL,
    shell: splitShell(new Feed(ITEM_SHELL_OPTIONS).rss2(), RSS_TAIL),
    start: '\n        <item>',
    render: (feed: Feed) => feed.rss2(),
    item: rssItem,
  },
  atom: {
    tail: ATOM_TAIL,
    shell: splitShell(new Feed(ITEM_SHELL_OPTIONS).atom1(), ATOM_TAIL),
    start: '\n    <entry>',
    render: (feed: Feed) => feed.atom1(),
    item: atomItem,
  },
};

/** The text `feed` writes for each item inside a document (`\n    <entry>…</entry>` etc.). */
function itemTexts(items: readonly Item[], format: 'rss' | 'atom'): string[] {
  const { shell, start, render } = xmlFormats[format];
  const cut = (list: readonly Item[]): string => {
    const feed = new Feed(ITEM_SHELL_OPTIONS);
    for (const item of list) feed.addItem(item);
    const document = render(feed);
    if (!document.startsWith(shell.head) || !document.endsWith(shell.tail)) {
      throw new Error('render: unexpected feed item text from feed');
    }
    return document.slice(shell.head.length, document.length - shell.tail.length);
  };
  // All in one document, split where each item starts. Item text never holds the start line
  // (its markup is escaped or sanitized), but should it, the count shows and items are cut one
  // by one instead.
  const [before, ...texts] = cut(items).split(start);
  if (before === '' && texts.length === items.length) return texts.map((text) => start + text);
  return items.map((item) => cut([item]));
}

/** Renders a JSON Feed 1.1 document; `channel.selfUrl` is the JSON Feed URL. */
export function renderJsonFeed(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): string {
  return jsonFeedDocument(events, channel, cache).text();
}

/**
 * A JSON Feed 1.1 document of items. With a cache, each item is rendered once per event revision
 * and channel.
 */
export function jsonFeedDocument(
  events: readonly Event[],
  channel: FeedChannel,
  cache?: FragmentCache<Uint8Array>,
): FeedDocument {
  // Emitted directly: `feed` writes version 1 (`author`, no `authors`) and an enclosure object
  // where JSON Feed wants an image URL.
  const description = oneLine(channel.description);
  const document = {
    version: 'https://jsonfeed.org/version/1.1',
    title: oneLine(channel.title),
    home_page_url: channel.htmlUrl,
    feed_url: channel.selfUrl,
    ...(channel.hubUrl ? { hubs: [{ type: 'WebSub', url: channel.hubUrl }] } : {}),
    ...(description === '' ? {} : { description }),
    authors: [{ name: oneLine(channel.siteTitle), url: channel.publicUrl }],
  };
  // `JSON.stringify({ ...document, items }, null, 2)`, assembled: items are the last member.
  const items = eventFragments('jsonfeed', events, channel, cache, (missing) =>
    missing.map((event) => jsonFeedItemText(jsonFeedItem(event, channel))),
  );
  const head = `${JSON.stringify(document, null, 2).slice(0, -'\n}'.length)},\n  "items": `;
  if (items.length === 0) return new FeedDocument(`${head}[]`, items, '\n}\n');
  return new FeedDocument(`${head}[\n${ITEM_INDENT}`, items, '\n  ]\n}\n', `,\n${ITEM_INDENT}`);
}

const ITEM_INDENT = '    ';
const ITEMS_HEAD = `{\n  "items": [\n${ITEM_INDENT}`;
const ITEMS_TAIL = '\n  ]\n}';

/** An item's JSON as it reads inside the document's `items`, indented to its depth. */
function jsonFeedItemText(item: Record<string, unknown>): string {
  const text = JSON.stringify({ items: [item] }, null, 2);
  return text.slice(ITEMS_HEAD.length, text.length - ITEMS_TAIL.length);
}

function feedOptions(channel: FeedChannel, feedLinks: FeedOptions['feedLinks']): FeedOptions {
  return {
    id: channel.feedId,
    title: xmlText(oneLine(channel.title)),
    description: xmlText(oneLine(channel.description)),
    link: channel.htmlUrl,
    updated: channel.updated,
    generator: GENERATOR,
    feedLinks,
    // Written as <atom:link rel="hub"> (RSS) or <link rel="hub"> (Atom), beside the self link.
    ...(channel.hubUrl ? { hub: channel.hubUrl } : {}),
    author: { name: xmlText(oneLine(channel.siteTitle)), link: channel.publicUrl },
  };
}

function jsonFeedItem(event: Event, channel: FeedChannel): Record<string, unknown> {
  const url = eventPageUrl(channel.publicUrl, event.id);
  const text = contentText(event, channel);
  const image = safeHttpUrl(event.image?.url);
  const venue = event.venue;
  return {
    id: feedItemId(channel.tagPrefix, event.id),
    url,
    title: itemTitle(event, channel),
    content_html: contentHtml(event, channel),
    ...(text === null ? {} : { content_text: text }),
    ...(image === null ? {} : { image }),
    date_published: event.firstSeenAt.toISOString(),
    date_modified: event.lastChangedAt.toISOString(),
    tags: genreLines(event),
    _event: {
      about: jsonFeedExtensionUrl(channel.publicUrl),
      start: event.startsAt.toISOString(),
      end: event.endsAt === null ? null : event.endsAt.toISOString(),
      timeZone: event.timeZone,
      status: event.status,
      venue: {
        name: lineOrNull(venue.name),
        street: lineOrNull(venue.street),
        postalCode: lineOrNull(venue.postalCode),
        city: lineOrNull(venue.city),
        country: lineOrNull(venue.country),
        latitude: Number.isFinite(venue.latitude) ? venue.latitude : null,
        longitude: Number.isFinite(venue.longitude) ? venue.longitude : null,
      },
      organizer: {
        id: lineOrNull(event.organizer.id),
        name: lineOrNull(event.organizer.name),
      },
      genres: genreLines(event),
      ticketUrl: safeHttpUrl(event.ticketUrl),
      prices: event.prices
        .filter((price) => Number.isFinite(price.amount))
        .map((price) => ({
          amount: price.amount,
          currency: oneLine(price.currency),
          label: lineOrNull(price.label),
        })),
      soldOut: event.soldOut,
      doorsOpen: event.doorsAt === null ? null : event.doorsAt.toISOString(),
      previousStart: event.previousStartsAt === null ? null : event.previousStartsAt.toISOString(),
      subtitle: lineOrNull(event.subtitle),
      sources: eventSources(event),
    },
  };
}

/**
 * An item's HTML content: the status facts nothing else in the item states (a new location, a
 * reschedule without its earlier start, an end not announced), in the words of the HTML badges,
 * then the description.
 */
function contentHtml(event: Event, channel: FeedChannel): string {
  const notes = statusNotes(event);
  const lead = notes.length > 0 ? `<p>${notes.map(escapeHtml).join('<br>')}</p>` : '';
  return lead + descriptionHtml(event, channel);
}

/** An item's plain-text content: the status facts, as in contentHtml, then the description. */
function contentText(event: Event, channel: FeedChannel): string | null {
  return withNotes(statusNotes(event), descriptionPlainText(event, channel));
}

/** Where every instance documents the JSON Feed `_event` extension (views/assets/). */
export function jsonFeedExtensionUrl(publicUrl: string): string {
  return `${publicUrl}/assets/json-feed-event.html`;
}

/** Plain text as XML element content. */
function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
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
