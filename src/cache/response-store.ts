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
 */
export class ResponseStore {
  private readonly responses: LRUCache<string, Stored, Render>;
  /** Compressed bodies by ETag and encoding: made on first demand, shared by equal bodies. */
  private readonly encodedBodies: LRUCache<string, Buffer, () => Buffer>;
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
    return this.encodedBodies.memo(`${response.etag}${encoding}`, {
      context: () => encode(response.body),
    });
  }

  /** Number of stored responses. */
  get size(): number {
    return this.responses.size;
  }

  /** Empties the store. */
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
