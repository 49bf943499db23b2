import type { Logger } from 'pino';

/**
 * Tells a WebSub hub that topics changed: one form-encoded POST per topic, `hub.mode=publish`
 * with the topic as `hub.url` (the Google hub's and Superfeedr's parameter, which the W3C
 * Recommendation leaves to hubs) and as `hub.topic` (what websubhub.com and newer hubs read).
 * A failed ping is retried with exponential backoff; a topic already waiting is not queued twice,
 * since the hub fetches the topic's current content whichever ping reaches it.
 */

/** The outcome of one ping attempt: `sent` (2xx), `retrying` (will be tried again), `failed` (given up). */
export type PingOutcome = 'sent' | 'retrying' | 'failed';

/** Attempts per topic before giving up: with the default 10 s base, the last is 2.5 minutes later. */
const MAX_ATTEMPTS = 5;
/** How long a hub has to answer one ping. */
const PING_TIMEOUT_MS = 10_000;
/** Pings in flight at once: a slow hub holds a few sockets, not one per changed feed. */
const CONCURRENCY = 4;

interface Waiting {
  topic: string;
  attempt: number;
}

export class HubPinger {
  private readonly queue: Waiting[] = [];
  /** Topics queued, in flight or waiting for a retry. */
  private readonly pending = new Set<string>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly options: {
      hubUrl: string;
      retryBaseMs: number;
      logger: Logger;
      /** Called after each attempt (metrics). */
      onOutcome(outcome: PingOutcome): void;
    },
  ) {}

  /** Queues a publish ping for each topic not already waiting for one. */
  ping(topics: readonly string[]): void {
    if (this.stopped) return;
    for (const topic of topics) {
      if (this.pending.has(topic)) continue;
      this.pending.add(topic);
      this.queue.push({ topic, attempt: 1 });
    }
    this.pump();
  }

  /** Resolves when nothing is queued, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops queued pings and retries; pings in flight finish on their own. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.queue.length = 0;
    this.pending.clear();
    this.settleIdle();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < CONCURRENCY && this.queue.length > 0) {
      const next = this.queue.shift() as Waiting;
      this.inFlight += 1;
      void this.send(next).finally(() => {
        this.inFlight -= 1;
        this.pump();
        this.settleIdle();
      });
    }
  }

  private async send(waiting: Waiting): Promise<void> {
    const { hubUrl, logger } = this.options;
    let problem: string;
    try {
      const response = await fetch(hubUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          'hub.mode': 'publish',
          'hub.url': waiting.topic,
          'hub.topic': waiting.topic,
        }).toString(),
        signal: AbortSignal.timeout(PING_TIMEOUT_MS),
        redirect: 'error',
      });
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        this.pending.delete(waiting.topic);
        this.options.onOutcome('sent');
        logger.debug({ topic: waiting.topic }, 'websub: hub notified');
        return;
      }
      problem = `HTTP ${response.status}`;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (this.stopped) return;
    if (waiting.attempt >= MAX_ATTEMPTS) {
      this.pending.delete(waiting.topic);
      this.options.onOutcome('failed');
      logger.warn(
        { topic: waiting.topic, attempts: waiting.attempt, problem },
        'websub: hub refused the ping; given up',
      );
      return;
    }
    const delayMs = this.options.retryBaseMs * 2 ** (waiting.attempt - 1);
    this.options.onOutcome('retrying');
    logger.warn(
      { topic: waiting.topic, attempt: waiting.attempt, problem, retryInMs: delayMs },
      'websub: hub ping failed; retrying',
    );
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.queue.push({ topic: waiting.topic, attempt: waiting.attempt + 1 });
      this.pump();
    }, delayMs);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private settleIdle(): void {
    if (this.pending.size > 0 || this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
