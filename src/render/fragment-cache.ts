import type { Event } from '../events/types.js';
import { LruCache } from '../lru-cache.js';
import type { FeedChannel } from './channel.js';

/**
 * Per-event output text (a VEVENT, an RSS item, a JSON Feed item...), so that after one event
 * changed a feed re-renders that event only and assembles the document from cached text.
 * Shared by every format: keys start with the format's name.
 */
export class FragmentCache extends LruCache<string> {
  constructor(maxEntries = 50_000, maxChars = 32 * 1024 * 1024) {
    super(maxEntries, maxChars, (key, value) => key.length + value.length);
  }
}

/**
 * The key prefix of one render: the format and every channel field an event's fragment may show
 * (event URLs, ICS UIDs, the zone of human-readable times, the cancelled prefix).
 */
function renderKey(format: string, channel: FeedChannel): string {
  return [format, channel.publicUrl, channel.host, channel.timeZone, channel.cancelledPrefix].join('\u0000');
}

// Revision is the documented key: it increases on every material change. The dates shown in
// fragments are keyed too; that costs nothing and keeps entries right should one change
// without a revision bump.
function eventKey(prefix: string, event: Event): string {
  return `${prefix}\u0000${event.id}:${event.revision}:${event.lastChangedAt.getTime()}:${event.firstSeenAt.getTime()}:${event.effectiveEndsAt.getTime()}`;
}

/**
 * The fragment of each event, in order: cached ones from `cache`, the others from `render`
 * (called once, with the missing events in order, returning one fragment each).
 */
export function eventFragments(
  format: string,
  events: readonly Event[],
  channel: FeedChannel,
  cache: FragmentCache | undefined,
  render: (events: readonly Event[]) => string[],
): string[] {
  if (cache === undefined) return checked(render(events), events.length);
  const prefix = renderKey(format, channel);
  const keys = events.map((event) => eventKey(prefix, event));
  const fragments: (string | undefined)[] = keys.map((key) => cache.get(key));
  const missing: number[] = [];
  for (let index = 0; index < fragments.length; index += 1) {
    if (fragments[index] === undefined) missing.push(index);
  }
  if (missing.length > 0) {
    const rendered = checked(
      render(missing.map((index) => events[index] as Event)),
      missing.length,
    );
    missing.forEach((index, position) => {
      const fragment = rendered[position] as string;
      fragments[index] = fragment;
      cache.set(keys[index] as string, fragment);
    });
  }
  return fragments as string[];
}

function checked(fragments: string[], count: number): string[] {
  if (fragments.length !== count) throw new Error('render: fragment count does not match the events');
  return fragments;
}
