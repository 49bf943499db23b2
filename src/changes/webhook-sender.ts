import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/connection.js';
import type { ChangeKind, EventChange } from '../events/event-changes.js';
import { CityAliases } from '../events/text-key.js';
import { toPublicEvent } from '../render/api.js';
import { findChangesAfter, parseStoredFilter, type ChangeFilter } from './change-log.js';
import {
  claimSubscription,
  findSubscription,
  listSubscriptions,
  recordAttempts,
  releaseAllSubscriptions,
  releaseSubscription,
  renewLease,
  type AttemptOutcome,
  type SubscriptionProgress,
  type WebhookAttempt,
  type WebhookSubscription,
} from './webhook-repository.js';
import { signWebhook } from './webhook-signature.js';

/** The Standard Webhooks event type of each kind of change. */
export const WEBHOOK_EVENT_TYPES: Record<ChangeKind, string> = {
  created: 'event.created',
  updated: 'event.updated',
  relocated: 'event.updated',
  rescheduled: 'event.rescheduled',
  cancelled: 'event.cancelled',
  removed: 'event.removed',
  merged: 'event.removed',
};

/** A subscription failing for this long gives up on its message and moves to the next. */
export const WEBHOOK_GIVE_UP_MS = 24 * 3_600_000;
/** The longest wait between two attempts at one message, Retry-After included. */
export const MAX_RETRY_MS = 3_600_000;
/** How often subscriptions are looked at without a notification (retries, other instances). */
const POLL_MS = 2_000;
/**
 * A worker's lease on its subscription, renewed every third of it while the worker runs: a killed
 * instance's subscriptions pass to another within this time.
 */
const LEASE_MS = 10_000;
/** Changes read per query for one subscription. */
const CHANGES_PER_READ = 100;
/**
 * Delivered attempts are recorded together, at most this many or this old: one commit (and fsync)
 * for several messages. A crash before the commit sends those messages again, with the same
 * `webhook-id`, which receivers deduplicate by; a failure is recorded at once.
 */
const RECORD_EVERY_MESSAGES = 25;
const RECORD_EVERY_MS = 250;
/** Backoff delays are multiplied by a random factor in 1 ± this, so retries do not come in step. */
const JITTER = 0.2;

/** What the sender reports, for the entry point to wire to metrics. */
export type WebhookSenderEvents = {
  attempted: [{ outcome: AttemptOutcome; seconds: number }];
};

/**
 * The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), in milliseconds from
 * `now`; null when absent or unreadable.
 */
export function retryAfterMs(value: string | null, now: Date): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its day and month; Date.parse would also take '-5' for a year.
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

/**
 * The wait before the next attempt after `failures` failures in a row: `baseMs` doubled at each
 * further failure, times a random factor in 1 ± JITTER (`random` in [0, 1)), at least what the
 * subscriber asked for with Retry-After, and never more than MAX_RETRY_MS.
 */
export function retryDelayMs(
  failures: number,
  baseMs: number,
  retryAfter: number | null,
  random: () => number,
): number {
  const backoff = baseMs * 2 ** Math.min(failures - 1, 30) * (1 + JITTER * (2 * random() - 1));
  return Math.round(Math.min(Math.max(backoff, retryAfter ?? 0), MAX_RETRY_MS));
}

/** The HTTP answer (or failure) to one attempt. */
interface Answer {
  attemptedAt: Date;
  status: number | null;
  error: string | null;
  durationMs: number;
  /** What a 429 or 503 asked for with Retry-After. */
  retryAfterMs: number | null;
}

/** The `webhook-id` of a change: one per change, the same for every attempt and subscriber. */
export function webhookMessageId(changeId: number): string {
  return `msg_${changeId}`;
}

/** The change position a `webhook-id` names, or null. */
export function changeIdOfMessage(messageId: string): number | null {
  const match = /^(?:msg_)?(\d{1,15})$/.exec(messageId);
  return match ? Number(match[1]) : null;
}

/** The JSON body of a change's webhook: type, time, the public event, and what changed. */
export function webhookBody(change: EventChange, publicUrl: string): string {
  return JSON.stringify({
    type: WEBHOOK_EVENT_TYPES[change.kind],
    timestamp: change.changedAt.toISOString(),
    data: toPublicEvent(change.event, { publicUrl }),
    change: {
      id: `${change.eventId}#r${change.revision}`,
      kind: change.kind,
      revision: change.revision,
      summary: change.summary,
    },
  });
}

/**
 * Sends logged changes to webhook subscriptions, apart from ingest: each subscription has its
 * own worker, which reads its pending messages in batches, sends them one at a time in log order
 * and moves the subscription's cursor past each once answered 2xx (or given up after
 * WEBHOOK_GIVE_UP_MS). A failure waits about WEBHOOK_RETRY_BASE_SECONDS (with jitter), doubled at
 * each further failure, and at least what a 429 or 503 asked for with Retry-After, never more
 * than MAX_RETRY_MS; a 410 Gone disables the subscription. A slow or dead subscriber holds up
 * only its own worker; a request never outlasts WEBHOOK_TIMEOUT_SECONDS.
 */
export class WebhookSender {
  private readonly events = new EventEmitter();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly requests = new Set<AbortController>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private poll: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | null = null;
  private again = false;
  /** Counts notifications: a worker that found nothing reads again if one came meanwhile. */
  private notifications = 0;
  private started = false;
  private stopped = false;

  constructor(
    private readonly deps: {
      database: DatabaseHandle;
      logger: Logger;
      now: () => Date;
      instanceId: string;
      publicUrl: string;
      timeZone: string;
      cityAliases: Record<string, string>;
      retryBaseMs: number;
      timeoutMs: number;
    },
  ) {}

  /** Calls `listener` on each `event` from now on. */
  on<K extends keyof WebhookSenderEvents>(
    event: K,
    listener: (...args: WebhookSenderEvents[K]) => void,
  ): this {
    this.events.on(event, listener);
    return this;
  }

  /** Starts sending: what was left unsent before a stop or crash goes out first. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // One process owns a SQLite file: a lease left by a killed process is nobody's.
    if (this.deps.database.dialect === 'sqlite') {
      await releaseAllSubscriptions(this.deps.database.db);
    }
    this.poll = setInterval(() => this.notify(), POLL_MS);
    this.poll.unref();
    this.notify();
  }

  /** Looks for messages to send (after a write, a new subscription, a resend). */
  notify(): void {
    this.notifications += 1;
    if (!this.started || this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error }, 'webhooks: looking for messages to send failed'),
      )
      .finally(() => {
        this.pumping = null;
        if (this.again) {
          this.again = false;
          this.notify();
        }
      });
  }

  /** Stops sending: requests in flight are abandoned (sent again on the next start). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    for (const timer of this.retryTimers) clearTimeout(timer);
    for (const request of this.requests) request.abort();
    await this.pumping;
    await Promise.allSettled(this.workers.values());
  }

  /** Resolves once no worker is sending (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.pumping || this.workers.size > 0) {
      await this.pumping;
      await Promise.allSettled(this.workers.values());
    }
  }

  private async pump(): Promise<void> {
    const now = this.deps.now();
    for (const subscription of await listSubscriptions(this.deps.database.db)) {
      if (this.workers.has(subscription.id) || subscription.disabledAt !== null) continue;
      if (subscription.nextAttemptAt !== null && subscription.nextAttemptAt > now) continue;
      const worker = this.work(subscription.id)
        .catch((error: unknown) =>
          this.deps.logger.error(
            { err: error, subscription: subscription.id },
            'webhooks: sending failed; retried shortly',
          ),
        )
        .finally(() => this.workers.delete(subscription.id));
      this.workers.set(subscription.id, worker);
    }
  }

  private leaseUntil(): Date {
    return new Date(this.deps.now().getTime() + LEASE_MS);
  }

  /**
   * Sends one subscription's messages in order while it holds the lease and has some. The lease
   * is renewed on a timer, so it outlasts slow requests and runs out soon after a crash.
   */
  private async work(id: string): Promise<void> {
    const { db } = this.deps.database;
    const owner = this.deps.instanceId;
    if (!(await claimSubscription(db, id, owner, this.deps.now(), this.leaseUntil()))) return;
    let held = true;
    const heartbeat = setInterval(() => {
      renewLease(db, id, owner, this.leaseUntil()).then(
        (renewed) => (held &&= renewed),
        (error: unknown) =>
          this.deps.logger.warn({ err: error, subscription: id }, 'webhooks: lease not renewed'),
      );
    }, LEASE_MS / 3);
    heartbeat.unref();
    try {
      while (!this.stopped && held) {
        const seen = this.notifications;
        // Read after the claim: the cursor is the one the lease holder may move.
        const subscription = await findSubscription(db, id);
        if (!subscription || subscription.disabledAt !== null) return;
        const changes = await findChangesAfter(
          db,
          subscription.cursor,
          this.matchOf(subscription),
          CHANGES_PER_READ,
        );
        if (changes.length === 0) {
          if (seen === this.notifications) return;
          continue;
        }
        if (!(await this.sendAll(subscription, changes, () => held))) return;
      }
    } finally {
      clearInterval(heartbeat);
      await releaseSubscription(db, id, owner).catch(() => undefined);
    }
  }

  private matchOf(subscription: WebhookSubscription): ChangeFilter {
    return {
      filter: parseStoredFilter(subscription.filter, this.deps.timeZone),
      cityAliases: new CityAliases(this.deps.cityAliases),
      timeZone: this.deps.timeZone,
      now: this.deps.now(),
    };
  }

  /**
   * Sends `changes` in order until one is not delivered, recording the attempts as it goes; true
   * when the subscription moved past all of them (and may have more).
   */
  private async sendAll(
    subscription: WebhookSubscription,
    changes: readonly EventChange[],
    holding: () => boolean,
  ): Promise<boolean> {
    let recorded = subscription.cursor;
    let progress: SubscriptionProgress = subscription;
    const unrecorded: Omit<WebhookAttempt, 'id'>[] = [];
    let oldestUnrecorded = 0;
    const record = async (): Promise<boolean> => {
      if (unrecorded.length === 0) return true;
      const { db } = this.deps.database;
      const owner = this.deps.instanceId;
      if (!(await recordAttempts(db, owner, subscription.id, recorded, unrecorded, progress))) {
        // The lease was lost or a resend moved the cursor: these attempts are not the record.
        unrecorded.length = 0;
        return false;
      }
      recorded = progress.cursor;
      unrecorded.length = 0;
      return true;
    };
    try {
      for (const change of changes) {
        if (this.stopped || !holding()) return false;
        const answer = await this.send(subscription, change);
        if (answer === null) return false;
        const { outcome, next, retryMs } = this.judge(progress, change, answer);
        if (unrecorded.length === 0) oldestUnrecorded = performance.now();
        unrecorded.push({
          changeId: change.id,
          attemptedAt: answer.attemptedAt,
          outcome,
          status: answer.status,
          error: answer.error,
          durationMs: answer.durationMs,
        });
        progress = next;
        this.report(subscription, change, answer, outcome);
        const moved = outcome === 'delivered' || outcome === 'given_up';
        if (
          !moved ||
          unrecorded.length >= RECORD_EVERY_MESSAGES ||
          performance.now() - oldestUnrecorded >= RECORD_EVERY_MS
        ) {
          if (!(await record())) return false;
        }
        if (!moved) {
          if (retryMs !== null) this.retryIn(retryMs);
          return false;
        }
      }
      return true;
    } finally {
      // Delivered messages are recorded even when stopping or failing, so they are not sent again.
      await record();
    }
  }

  /** The outcome of an answer, and where the subscription stands after it. */
  private judge(
    progress: SubscriptionProgress,
    change: EventChange,
    answer: Answer,
  ): { outcome: AttemptOutcome; next: SubscriptionProgress; retryMs: number | null } {
    const { attemptedAt, status } = answer;
    const done = { failures: 0, failingSince: null, nextAttemptAt: null };
    if (status !== null && status >= 200 && status < 300) {
      return {
        outcome: 'delivered',
        next: { ...progress, ...done, cursor: change.id },
        retryMs: null,
      };
    }
    if (status === 410) {
      // The subscriber asks to stop; its cursor stays, so a resend goes on from this message.
      return {
        outcome: 'disabled',
        next: {
          ...progress,
          ...done,
          disabledAt: attemptedAt,
          disabledReason: 'the subscriber answered 410 Gone',
        },
        retryMs: null,
      };
    }
    const failingSince = progress.failingSince ?? attemptedAt;
    if (attemptedAt.getTime() - failingSince.getTime() >= WEBHOOK_GIVE_UP_MS) {
      return {
        outcome: 'given_up',
        next: { ...progress, ...done, cursor: change.id },
        retryMs: null,
      };
    }
    const failures = progress.failures + 1;
    const retryMs = retryDelayMs(failures, this.deps.retryBaseMs, answer.retryAfterMs, Math.random);
    return {
      outcome: 'failed',
      next: {
        ...progress,
        failures,
        failingSince,
        nextAttemptAt: new Date(attemptedAt.getTime() + retryMs),
      },
      retryMs,
    };
  }

  /** Counts and logs an attempt that was not delivered. */
  private report(
    subscription: WebhookSubscription,
    change: EventChange,
    answer: Answer,
    outcome: AttemptOutcome,
  ): void {
    this.events.emit('attempted', { outcome, seconds: answer.durationMs / 1000 });
    if (outcome === 'delivered') return;
    const messages: Record<Exclude<AttemptOutcome, 'delivered'>, string> = {
      failed: 'webhooks: message not delivered; retried later',
      given_up: 'webhooks: message given up after failing for 24 hours',
      disabled: 'webhooks: the subscriber answered 410 Gone; subscription disabled',
    };
    this.deps.logger.warn(
      {
        subscription: subscription.id,
        url: subscription.url,
        message: webhookMessageId(change.id),
        status: answer.status,
        err: answer.error,
        outcome,
      },
      messages[outcome],
    );
  }

  private retryIn(ms: number): void {
    if (this.stopped) return;
    const retry = setTimeout(() => {
      this.retryTimers.delete(retry);
      this.notify();
    }, ms);
    retry.unref();
    this.retryTimers.add(retry);
  }

  /** Sends one message once; null when stopped meanwhile. */
  private async send(
    subscription: WebhookSubscription,
    change: EventChange,
  ): Promise<Answer | null> {
    const messageId = webhookMessageId(change.id);
    const body = webhookBody(change, this.deps.publicUrl);
    const attemptedAt = this.deps.now();
    const timestamp = Math.floor(attemptedAt.getTime() / 1000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.deps.timeoutMs);
    this.requests.add(controller);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    let retryAfter: number | null = null;
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Marquee',
          'webhook-id': messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(subscription.secret, messageId, timestamp, body),
        },
        body,
      });
      status = response.status;
      if (status === 429 || status === 503) {
        retryAfter = retryAfterMs(response.headers.get('retry-after'), this.deps.now());
      }
      await response.body?.cancel().catch(() => undefined);
    } catch (failure) {
      if (this.stopped) return null;
      error = controller.signal.aborted
        ? `no answer within ${this.deps.timeoutMs / 1000} s`
        : describeFailure(failure);
    } finally {
      clearTimeout(timer);
      this.requests.delete(controller);
    }
    const delivered = status !== null && status >= 200 && status < 300;
    if (!delivered && error === null) error = `answered ${status}`;
    return {
      attemptedAt,
      status,
      error,
      durationMs: Math.round(performance.now() - started),
      retryAfterMs: retryAfter,
    };
  }
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause ? `${message} (${cause.code ?? cause.message ?? 'no cause'})` : message;
}
