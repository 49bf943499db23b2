import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';

/** A response as rendered from the data. */
export interface Rendered {
  body: Buffer;
  contentType: string;
  lastModified: Date;
  /** When the result changes without a write (an event leaves the window); null: never. */
  expiresAt: Date | null;
}

/** A rendered response with its validators, computed once by the HTTP layer. */
export interface CachedResponse extends Rendered {
  /** Strong ETag of `body`, quoted; unique to these bytes. */
  etag: string;
  lastModifiedHeader: string;
}

interface Stored {
  response: CachedResponse;
  dataVersion: number;
  /** The clock (epoch ms) when it was rendered. */
  renderedAt: number;
}

interface Render {
  dataVersion: number;
  now: number;
  render: () => Promise<CachedResponse>;
}

const MIB = 1024 * 1024;
/**
 * What an entry holds besides its key and body bytes (the objects, dates and header strings
 * around them), counted so that many small entries cannot outgrow the bound.
 */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * Rendered responses in memory, keyed by what was asked (format + canonical filter) and valid
 * while the data version is unchanged and no shown event has left the window, beside their
 * compressed bodies. A hit costs about what serving a static string costs.
 *
 * A response is kept from the second request of its URL on (as nginx's `proxy_cache_min_uses 2`):
 * feeds are polled and pages revisited, so what is asked again is kept, while a flood of distinct
 * URLs, each asked once, is rendered and let go young instead of filling the store and leaving
 * its evictions for the old generation of the heap to collect.
 */
export class ResponseStore {
  private readonly responses: LRUCache<string, Stored, Render>;
  /** Compressed bodies by ETag and encoding: made on first demand, shared by equal bodies. */
  private readonly encodedBodies: LRUCache<string, Buffer, () => Buffer>;
  /** URLs asked once and not kept yet. */
  private readonly askedOnce = new AskedOnce();
  /** Responses rendered for a URL asked once: their compressed bodies are not kept either. */
  private readonly notKept = new WeakSet<CachedResponse>();
  /** Renders for URLs asked once wait here for their turn. */
  private readonly firstAskRenders = new TurnTaking(() => this.stats.hits);
  /** Hits and misses, read by metrics. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: { maxBytes?: number; maxEncodedBytes?: number } = {}) {
    const maxBytes = options.maxBytes ?? 96 * MIB;
    const maxEncodedBytes = options.maxEncodedBytes ?? 32 * MIB;
    // A store too small for the overhead (tests) counts a share of its bound instead.
    const overhead = Math.min(ENTRY_OVERHEAD_BYTES, Math.floor(maxBytes / 64));
    const encodedOverhead = Math.min(ENTRY_OVERHEAD_BYTES, Math.floor(maxEncodedBytes / 64));
    this.responses = new LRUCache<string, Stored, Render>({
      maxSize: maxBytes,
      sizeCalculation: (stored, key) => overhead + key.length + stored.response.body.length,
      fetchMethod: async (_key, _stale, { context }) => ({
        response: await context.render(),
        dataVersion: context.dataVersion,
        renderedAt: context.now,
      }),
      // A render evicted or cleared while running still answers the requests waiting for it.
      ignoreFetchAbort: true,
      // A failed render keeps the previous response for the requests that are served it.
      noDeleteOnFetchRejection: true,
    });
    this.encodedBodies = new LRUCache<string, Buffer, () => Buffer>({
      maxSize: maxEncodedBytes,
      sizeCalculation: (body, key) => encodedOverhead + key.length + body.length,
      memoMethod: (_key, _stale, { context }) => context(),
    });
  }

  /**
   * The response for `key`, rendering it once when the data changed. The request that finds the
   * data changed waits for the new render; requests arriving while it runs get the previous
   * response at once rather than queueing behind it (stale by one render at most).
   */
  async getOrRender(
    key: string,
    dataVersion: number,
    now: Date,
    render: () => Promise<CachedResponse>,
  ): Promise<CachedResponse> {
    const status: LRUCache.Status<string, Stored, Render> = {};
    const stored = this.responses.get(key, { status });
    if (stored !== undefined && isCurrent(stored, dataVersion, now)) {
      this.stats.hits += 1;
      return stored.response;
    }
    this.stats.misses += 1;
    if (status.get === 'miss' && this.askedOnce.firstAsk(key)) {
      const response = await this.firstAskRenders.run(render);
      this.notKept.add(response);
      return response;
    }
    const rendered = await this.responses.forceFetch(key, {
      context: { dataVersion, now: now.getTime(), render },
      forceRefresh: true,
      // Only while another request's render runs: the one that starts a render waits for it.
      allowStale: status.get === 'fetching',
    });
    return rendered.response;
  }

  /** The body of `response` in `encoding`, made by `encode` on first demand. */
  encodedBody(
    response: CachedResponse,
    encoding: string,
    encode: (body: Buffer) => Buffer,
  ): Buffer {
    if (this.notKept.has(response)) return encode(response.body);
    return this.encodedBodies.memo(`${response.etag}${encoding}`, {
      context: () => encode(response.body),
    });
  }

  /** Number of stored responses. */
  get size(): number {
    return this.responses.size;
  }

  /** Empties the store. Which URLs were asked before is kept: they are still asked. */
  clear(): void {
    this.responses.clear();
    this.encodedBodies.clear();
  }
}

/**
 * Whether a stored response still holds: same data, not expired, and rendered no later than
 * `now` (a response rendered while the clock ran ahead, such as an empty upcoming list, must
 * not stay once the clock has come back).
 */
function isCurrent(stored: Stored, dataVersion: number, now: Date): boolean {
  const { expiresAt } = stored.response;
  return (
    stored.dataVersion === dataVersion &&
    now.getTime() >= stored.renderedAt &&
    (expiresAt === null || expiresAt.getTime() > now.getTime())
  );
}

/**
 * Runs work one at a time, each on an event-loop turn of its own, for renders of URLs asked once
 * (a crawler, a flood of distinct filters). While the store also answers hits (polled feeds),
 * each waits three times as long as the one before it took: a flood of cold renders gets a
 * quarter of the thread and the feeds being polled the rest (on 10 connections each, the cached
 * feed kept 0.3x of its rate before). With no hits between them, they run back to back.
 */
class TurnTaking {
  private tail: Promise<unknown> = Promise.resolve();
  private lastMs = 0;
  private hitsAfterLast = 0;

  /** `hits`: the store's hits so far. */
  constructor(private readonly hits: () => number) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail
      .then(() => this.turn())
      .then(async () => {
        const started = performance.now();
        try {
          return await work();
        } finally {
          this.lastMs = performance.now() - started;
          this.hitsAfterLast = this.hits();
        }
      });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async turn(): Promise<void> {
    // The I/O callbacks waiting now (requests that arrived during the last render) run first.
    await nextTurn();
    if (this.hits() > this.hitsAfterLast) {
      await sleep(RENDER_GAP_FACTOR * this.lastMs);
    }
  }
}

/** Under hits, the pause after a render of a URL asked once, as a multiple of its duration. */
const RENDER_GAP_FACTOR = 3;

/**
 * Which keys were asked once, remembered by a 32-bit hash in a fixed table of 64 Ki slots
 * (256 KB whatever is asked): a slot taken by another key forgets the first, which then waits
 * one more request to be kept; two keys of one hash let the second be kept at once.
 */
class AskedOnce {
  private readonly slots = new Uint32Array(1 << 16);

  /** Whether `key` is asked for the first time (remembering it), or was asked before. */
  firstAsk(key: string): boolean {
    const hash = fnv1a(key) >>> 0 || 1; // never 0, the empty slot
    const slot = hash >>> 16;
    if (this.slots[slot] === hash) return false;
    this.slots[slot] = hash;
    return true;
  }
}

/** FNV-1a over the string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash;
}
