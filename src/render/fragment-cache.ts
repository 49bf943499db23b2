import type { Event } from '../events/types.js';
import { LruCache } from '../lru-cache.js';
import type { FeedChannel } from './channel.js';

/**
 * Per-event output (a VEVENT, an RSS item, a JSON Feed item...) as UTF-8, so that after one
 * event changed a feed renders that event only and assembles its body from cached bytes.
 * Shared by every format: keys start with a namespace per format and channel fields.
 */
export class FragmentCache extends LruCache<Uint8Array> {
  private readonly namespaces = new Map<string, string>();

  constructor(maxEntries = 50_000, maxBytes = 32 * 1024 * 1024) {
    super(maxEntries, maxBytes, (key, value) => key.length + value.byteLength);
  }

  /**
   * A short key prefix standing for `name` (a format and channel fields), so that entry keys
   * stay short. Never reused for another name, so entries of a forgotten name are only orphaned.
   */
  namespace(name: string): string {
    let prefix = this.namespaces.get(name);
    if (prefix === undefined) {
      if (this.namespaces.size >= 1000) this.namespaces.clear();
      prefix = `${++namespaceCount}`;
      this.namespaces.set(name, prefix);
    }
    return prefix;
  }
}

let namespaceCount = 0;

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
 * (event URLs, ICS UIDs, the zone of human-readable times, the cancelled prefix).
 */
function renderKey(format: string, channel: FeedChannel): string {
  return [format, channel.publicUrl, channel.host, channel.timeZone, channel.cancelledPrefix].join(
    '\u0000',
  );
}

// Revision is the documented key: it increases on every material change. The dates shown in
// fragments are keyed too; that costs nothing and keeps entries right should one change
// without a revision bump.
function eventKey(prefix: string, event: Event): string {
  return `${prefix}:${event.id}:${event.revision}:${event.lastChangedAt.getTime()}:${event.firstSeenAt.getTime()}:${event.effectiveEndsAt.getTime()}`;
}

/**
 * The UTF-8 fragment of each event, in order: cached ones from `cache`, the others from `render`
 * (called once, with the missing events in order, returning one text each).
 */
export function eventFragments(
  format: string,
  events: readonly Event[],
  channel: FeedChannel,
  cache: FragmentCache | undefined,
  render: (events: readonly Event[]) => string[],
): Uint8Array[] {
  if (cache === undefined) return encoded(render(events), events.length);
  const prefix = cache.namespace(renderKey(format, channel));
  const keys = events.map((event) => eventKey(prefix, event));
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
