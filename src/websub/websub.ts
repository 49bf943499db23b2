import { EventEmitter } from 'node:events';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { HubPinger, type PingOutcome } from './hub-pinger.js';

/**
 * WebSub publishing: after a change, the feeds whose content it altered are announced to the
 * hub (WEBSUB_HUB_URL), which then fetches them and pushes them to its subscribers. Candidates
 * are the always-announced feeds (the unfiltered ones) and the feeds fetched in the last 24 hours
 * (filtered and short URLs, remembered with the ETag they were served with); each is rendered
 * again and announced only when its ETag differs. Everything runs after ingest, debounced, so a
 * burst of deliveries costs one round.
 */

/** A feed that can be announced. */
export interface FeedTopic {
  /** The feed's canonical URL: its self link, and the topic of its pings. */
  url: string;
  /** The ETag of the feed's content as it would be served now. */
  currentEtag(): Promise<string>;
}

/** What one round after a change did. */
export interface AnnounceRound {
  /** Feeds rendered again to compare. */
  checked: number;
  /** Feeds whose content changed and were announced. */
  announced: number;
}

/** What the WebSub service reports, for the entry point to wire to metrics. */
export type WebSubEvents = {
  /** One ping attempt ended. */
  pinged: [PingOutcome];
  /** One round after a change ended. */
  round: [AnnounceRound];
};

interface Tracked {
  topic: FeedTopic;
  etag: string;
  fetchedAt: number;
}

/** Feeds fetched longer ago than this are not announced (nobody seems to read them). */
const FETCH_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Feeds remembered at most; the least recently fetched are forgotten first. */
const MAX_TRACKED_FEEDS = 10_000;
/** Bytes of URLs remembered at most (a URL is at most about 4 kB, see MAX_QUERY_LENGTH). */
const MAX_TRACKED_BYTES = 8 * 1024 * 1024;
/** Per round, feeds rendered again at most, as a multiple of WEBSUB_MAX_PINGS. */
const CHECKS_PER_PING = 10;

export class WebSub {
  /** WEBSUB_HUB_URL, or null when WebSub is off. */
  readonly hubUrl: string | null;
  private readonly events = new EventEmitter();
  private readonly fetched = new LRUCache<string, Tracked>({
    max: MAX_TRACKED_FEEDS,
    maxSize: MAX_TRACKED_BYTES,
    sizeCalculation: (_tracked, url) => 128 + url.length,
  });
  private readonly pinger: HubPinger | null;
  private announcedFeeds: readonly FeedTopic[] = [];
  /** The last ETag of each always-announced feed. */
  private readonly baselines = new Map<string, string>();
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly options: {
      hubUrl: string | null;
      maxPingsPerChange: number;
      delayMs: number;
      retryBaseMs: number;
      logger: Logger;
      now: () => Date;
    },
  ) {
    this.hubUrl = options.hubUrl;
    this.pinger =
      options.hubUrl === null
        ? null
        : new HubPinger({
            hubUrl: options.hubUrl,
            retryBaseMs: options.retryBaseMs,
            logger: options.logger,
            onOutcome: (outcome) => this.events.emit('pinged', outcome),
          });
  }

  /** Calls `listener` on each `event` from now on. */
  on<K extends keyof WebSubEvents>(event: K, listener: (...args: WebSubEvents[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  /** Whether a hub is configured. */
  get enabled(): boolean {
    return this.hubUrl !== null;
  }

  /** Feeds remembered as fetched (metrics). */
  get trackedFeeds(): number {
    return this.fetched.size;
  }

  /** Remembers that `topic` was just served with `etag`, so that a change to it is announced. */
  recordFetch(topic: FeedTopic, etag: string): void {
    if (!this.enabled) return;
    this.fetched.set(topic.url, { topic, etag, fetchedAt: this.options.now().getTime() });
  }

  /**
   * Starts announcing, with `announcedFeeds` checked after every change whether fetched or not;
   * their current ETags are taken now, as what the next change is compared with.
   */
  start(announcedFeeds: readonly FeedTopic[]): void {
    if (!this.enabled || this.started) return;
    this.started = true;
    this.announcedFeeds = announcedFeeds;
    this.running = this.takeBaselines().finally(() => (this.running = null));
  }

  /** Called after each change of stored events: a round follows WEBSUB_DELAY_SECONDS later. */
  changed(): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runRound();
    }, this.options.delayMs);
    this.timer.unref();
  }

  /** Resolves when no round is due or running and every ping was sent or given up. */
  async idle(): Promise<void> {
    while (this.timer || this.running) {
      if (this.running) await this.running;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.pinger?.idle();
  }

  /**
   * Stops: a due round is dropped, a running one ends after the feed it is rendering (before the
   * database closes), and pings waiting for a retry are dropped.
   */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pinger?.stop();
    await this.running;
  }

  private runRound(): void {
    if (this.running) {
      // Changes that arrived during a round are compared in the next one.
      this.again = true;
      return;
    }
    this.running = this.announceChanged()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'websub: comparing feeds failed'),
      )
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
  }

  private async takeBaselines(): Promise<void> {
    for (const topic of this.announcedFeeds) {
      if (!this.started) return;
      const etag = await this.etagOf(topic);
      if (etag !== null) this.baselines.set(topic.url, etag);
    }
  }

  /** One round: render the candidates again and announce those whose ETag changed. */
  private async announceChanged(): Promise<void> {
    const { maxPingsPerChange, logger } = this.options;
    const changedUrls: string[] = [];
    let checked = 0;
    const maxChecks = this.announcedFeeds.length + maxPingsPerChange * CHECKS_PER_PING;
    for (const candidate of this.candidates()) {
      if (!this.started || changedUrls.length >= maxPingsPerChange || checked >= maxChecks) break;
      const etag = await this.etagOf(candidate.topic);
      checked += 1;
      if (etag === null || etag === candidate.etag) continue;
      changedUrls.push(candidate.topic.url);
      candidate.remember(etag);
    }
    this.pinger?.ping(changedUrls);
    this.events.emit('round', { checked, announced: changedUrls.length });
    logger.debug({ checked, announced: changedUrls.length }, 'websub: feeds compared');
  }

  /**
   * The always-announced feeds, then those fetched within the last 24 hours, most recently
   * fetched first.
   */
  private *candidates(): Generator<{
    topic: FeedTopic;
    etag: string | null;
    remember(etag: string): void;
  }> {
    for (const topic of this.announcedFeeds) {
      yield {
        topic,
        etag: this.baselines.get(topic.url) ?? null,
        remember: (etag) => this.baselines.set(topic.url, etag),
      };
    }
    const since = this.options.now().getTime() - FETCH_WINDOW_MS;
    const always = new Set(this.announcedFeeds.map((topic) => topic.url));
    // entries() runs from the most recently used; a snapshot, since fetches go on meanwhile.
    for (const [url, tracked] of [...this.fetched.entries()]) {
      if (tracked.fetchedAt < since || always.has(url)) continue;
      yield {
        topic: tracked.topic,
        etag: tracked.etag,
        remember: (etag) => (tracked.etag = etag),
      };
    }
  }

  /** The current ETag of a feed, rendered after yielding so that requests and ingest go first. */
  private async etagOf(topic: FeedTopic): Promise<string | null> {
    await yieldToEventLoop();
    try {
      return await topic.currentEtag();
    } catch (error) {
      this.options.logger.warn({ err: error, topic: topic.url }, 'websub: feed not rendered');
      return null;
    }
  }
}
