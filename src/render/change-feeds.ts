import { cleanText, escapeHtml } from '../events/description.js';
import type { EventChange } from '../events/event-changes.js';
import type { FeedChannel } from './channel.js';
import { CHANGE_KIND_WORDS } from './change-words.js';
import { displayTitle, oneLine } from './event-text.js';
import { eventPageUrl } from './event-url.js';
import { feedItemId } from './feed-ids.js';

/**
 * The changes feed (/changes.rss, /changes.atom, /changes.json): one entry per published revision
 * of an event, newest first, titled by the kind of change and saying in plain words what changed.
 * Entry ids are `<the event's feed item id>#r<revision>`, so a reader that has seen an event keeps
 * seeing each of its revisions as a new entry. Written directly rather than through `feed`: every
 * element is plain text here, escaped once.
 */

/** `tag:<domain>,<date>:<event id>#r<revision>`: the id of one revision's entry. */
export function changeEntryId(
  channel: Pick<FeedChannel, 'tagPrefix'>,
  change: EventChange,
): string {
  return `${feedItemId(channel.tagPrefix, change.eventId)}#r${change.revision}`;
}

/** "Rescheduled: Night Tapes (+ support)" */
export function changeTitle(change: EventChange): string {
  return `${CHANGE_KIND_WORDS[change.kind]}: ${displayTitle(change.event)}`;
}

function xml(text: string): string {
  return cleanText(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function summaryHtml(change: EventChange): string {
  return `<p>${escapeHtml(oneLine(change.summary))}</p>`;
}

/** The changes feed as RSS 2.0. */
export function renderChangesRss(changes: readonly EventChange[], channel: FeedChannel): string {
  const items = changes.map((change) =>
    [
      '    <item>',
      `      <title>${xml(changeTitle(change))}</title>`,
      `      <link>${xml(eventPageUrl(channel.publicUrl, change.eventId))}</link>`,
      `      <guid isPermaLink="false">${xml(changeEntryId(channel, change))}</guid>`,
      `      <pubDate>${change.changedAt.toUTCString()}</pubDate>`,
      `      <category>${xml(change.kind)}</category>`,
      `      <description>${xml(summaryHtml(change))}</description>`,
      '    </item>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '  <channel>',
    `    <title>${xml(oneLine(channel.title))}</title>`,
    `    <link>${xml(channel.htmlUrl)}</link>`,
    `    <description>${xml(oneLine(channel.description))}</description>`,
    `    <lastBuildDate>${channel.updated.toUTCString()}</lastBuildDate>`,
    '    <generator>Marquee</generator>',
    `    <atom:link href="${xml(channel.selfUrl)}" rel="self" type="application/rss+xml"/>`,
    ...items,
    '  </channel>',
    '</rss>',
    '',
  ].join('\n');
}

/** The changes feed as Atom 1.0. */
export function renderChangesAtom(changes: readonly EventChange[], channel: FeedChannel): string {
  const entries = changes.map((change) =>
    [
      '  <entry>',
      `    <title>${xml(changeTitle(change))}</title>`,
      `    <id>${xml(changeEntryId(channel, change))}</id>`,
      `    <link href="${xml(eventPageUrl(channel.publicUrl, change.eventId))}"/>`,
      `    <updated>${change.changedAt.toISOString()}</updated>`,
      `    <category term="${xml(change.kind)}"/>`,
      `    <summary>${xml(oneLine(change.summary))}</summary>`,
      '  </entry>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${xml(channel.feedId)}</id>`,
    `  <title>${xml(oneLine(channel.title))}</title>`,
    `  <subtitle>${xml(oneLine(channel.description))}</subtitle>`,
    `  <updated>${channel.updated.toISOString()}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xml(channel.selfUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xml(channel.htmlUrl)}"/>`,
    `  <author><name>${xml(oneLine(channel.siteTitle))}</name><uri>${xml(channel.publicUrl)}</uri></author>`,
    '  <generator>Marquee</generator>',
    ...entries,
    '</feed>',
    '',
  ].join('\n');
}

/** The changes feed as JSON Feed 1.1; `_change` carries the kind and revision of each entry. */
export function renderChangesJsonFeed(
  changes: readonly EventChange[],
  channel: FeedChannel,
): string {
  return `${JSON.stringify(
    {
      version: 'https://jsonfeed.org/version/1.1',
      title: oneLine(channel.title),
      home_page_url: channel.htmlUrl,
      feed_url: channel.selfUrl,
      description: oneLine(channel.description),
      authors: [{ name: oneLine(channel.siteTitle), url: channel.publicUrl }],
      items: changes.map((change) => ({
        id: changeEntryId(channel, change),
        url: eventPageUrl(channel.publicUrl, change.eventId),
        title: oneLine(changeTitle(change)),
        content_text: oneLine(change.summary),
        date_published: change.changedAt.toISOString(),
        tags: [change.kind],
        _change: {
          event: change.eventId,
          kind: change.kind,
          revision: change.revision,
        },
      })),
    },
    null,
    2,
  )}\n`;
}
