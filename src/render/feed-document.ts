import type { FragmentCache } from '../cache/fragment-cache.js';
import type { Event } from '../events/types.js';
import type { FeedChannel } from './channel.js';

const encoder = new TextEncoder();

/**
 * A rendered document: text before, between and after its per-event fragments. Fragments are
 * whole items, so the UTF-8 of the document is the UTF-8 of its parts, concatenated.
 */
export class FeedDocument {
  constructor(
    private readonly head: string,
    private readonly fragments: readonly Uint8Array[],
    private readonly tail: string,
    private readonly separator = '',
  ) {}

  /** The document as UTF-8 bytes, assembled without re-encoding the fragments. */
  bytes(): Buffer {
    const parts: Uint8Array[] = [encoder.encode(this.head)];
    const separator = encoder.encode(this.separator);
    this.fragments.forEach((fragment, index) => {
      if (index > 0 && separator.byteLength > 0) parts.push(separator);
      parts.push(fragment);
    });
    parts.push(encoder.encode(this.tail));
    return Buffer.concat(parts);
  }

  /** The document as text. */
  text(): string {
    return this.bytes().toString('utf8');
  }
}

/**
 * The key prefix of one render: the format and every channel field an event's fragment may show
 * (event URLs, ICS UIDs and feed item ids, the zone of human-readable times, the cancelled prefix).
 */
function renderKey(format: string, channel: FeedChannel): string {
  return [
    format,
    channel.publicUrl,
    channel.uidDomain,
    channel.tagPrefix,
    channel.timeZone,
    channel.cancelledPrefix,
  ].join('\u0000');
}

/**
 * The UTF-8 fragment of each event, in order: cached ones from `cache`, the others from `render`
 * (called once, with the missing events in order, returning one text each).
 */
export function eventFragments(
  format: string,
  events: readonly Event[],
  channel: FeedChannel,
  cache: FragmentCache<Uint8Array> | undefined,
  render: (events: readonly Event[]) => string[],
): Uint8Array[] {
  if (cache === undefined) return encoded(render(events), events.length);
  const prefix = cache.namespace(renderKey(format, channel));
  const keys = events.map((event) => cache.keyOf(prefix, event));
  const fragments: (Uint8Array | undefined)[] = keys.map((key) => cache.get(key));
  const missing: number[] = [];
  for (let index = 0; index < fragments.length; index += 1) {
    if (fragments[index] === undefined) missing.push(index);
  }
  if (missing.length > 0) {
    const rendered = encoded(
      render(missing.map((index) => events[index] as Event)),
      missing.length,
    );
    missing.forEach((index, position) => {
      const fragment = rendered[position] as Uint8Array;
      fragments[index] = fragment;
      cache.set(keys[index] as string, fragment);
    });
  }
  return fragments as Uint8Array[];
}

// Each fragment gets its own buffer: a view into a shared one would keep all of it alive for as
// long as the fragment stays cached.
function encoded(texts: string[], count: number): Uint8Array[] {
  if (texts.length !== count) throw new Error('render: fragment count does not match the events');
  return texts.map((text) => encoder.encode(text));
}
