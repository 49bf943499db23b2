import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/connection.js';
import type { ChangeKind, EventChange } from '../events/event-changes.js';
import { CityAliases } from '../events/text-key.js';
import { toPublicEvent } from '../render/api.js';
import { findChangeAfter, parseStoredFilter, type ChangeFilter } from './change-log.js';
import {
  claimSubscription,
  findSubscription,
  listSubscriptions,
  recordAttempt,
  releaseAllSubscriptions,
  releaseSubscription,
  type AttemptOutcome,
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
/** The longest wait between two attempts at one message. */
const MAX_RETRY_MS = 3_600_000;
/** How often subscriptions are looked at without a notification (retries, other instances). */
const POLL_MS = 2_000;

/** What the sender reports, for the entry point to wire to metrics. */
export type WebhookSenderEvents = {
  attempted: [{ outcome: AttemptOutcome; seconds: number }];
};

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
 * own worker, which sends one message at a time in log order and moves the subscription's cursor
 * past it once answered 2xx (or given up after WEBHOOK_GIVE_UP_MS); a failure waits
 * WEBHOOK_RETRY_BASE_SECONDS, doubled at each further failure. A slow or dead subscriber holds up
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
      if (this.workers.has(subscription.id)) continue;
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

  private leaseUntil(now: Date): Date {
    return new Date(now.getTime() + this.deps.timeoutMs + 30_000);
  }

  /** Sends one subscription's messages in order while it holds the lease and has some. */
  private async work(id: string): Promise<void> {
    const { db } = this.deps.database;
    const owner = this.deps.instanceId;
    try {
      // The lease is renewed only when less than one request's time is left on it: one write
      // fewer per message.
      let leaseEnds = 0;
      while (!this.stopped) {
        const now = this.deps.now();
        if (leaseEnds - now.getTime() < this.deps.timeoutMs + 5_000) {
          const until = this.leaseUntil(now);
          if (!(await claimSubscription(db, id, owner, now, until))) return;
          leaseEnds = until.getTime();
        }
        // Read after the claim: the cursor is the one the lease holder may move.
        const subscription = await findSubscription(db, id);
        if (!subscription) return;
        const change = await findChangeAfter(db, subscription.cursor, this.matchOf(subscription));
        if (change === null) return;
        const delivered = await this.attempt(subscription, change);
        if (!delivered) return;
      }
    } finally {
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

  /** Sends one message once; true when the subscription moved past it. */
  private async attempt(subscription: WebhookSubscription, change: EventChange): Promise<boolean> {
    const { logger, now } = this.deps;
    const messageId = webhookMessageId(change.id);
    const body = webhookBody(change, this.deps.publicUrl);
    const attemptedAt = now();
    const timestamp = Math.floor(attemptedAt.getTime() / 1000);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.deps.timeoutMs);
    this.requests.add(controller);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
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
      await response.body?.cancel().catch(() => undefined);
    } catch (failure) {
      if (this.stopped) return false;
      error = controller.signal.aborted
        ? `no answer within ${this.deps.timeoutMs / 1000} s`
        : describeFailure(failure);
    } finally {
      clearTimeout(timer);
      this.requests.delete(controller);
    }
    const durationMs = Math.round(performance.now() - started);
    const delivered = status !== null && status >= 200 && status < 300;
    if (!delivered && error === null) error = `answered ${status}`;
    const failingSince = delivered ? null : (subscription.failingSince ?? attemptedAt);
    const givenUp =
      !delivered && attemptedAt.getTime() - (failingSince as Date).getTime() >= WEBHOOK_GIVE_UP_MS;
    const outcome: AttemptOutcome = delivered ? 'delivered' : givenUp ? 'given_up' : 'failed';
    const failures = outcome === 'failed' ? subscription.failures + 1 : 0;
    const retryMs = Math.min(this.deps.retryBaseMs * 2 ** (failures - 1), MAX_RETRY_MS);
    const moved = outcome !== 'failed';
    const recorded = await recordAttempt(
      this.deps.database.db,
      this.deps.instanceId,
      subscription.id,
      { changeId: change.id, attemptedAt, outcome, status, error, durationMs },
      {
        cursor: moved ? change.id : subscription.cursor,
        failures,
        failingSince: moved ? null : failingSince,
        nextAttemptAt: moved ? null : new Date(attemptedAt.getTime() + retryMs),
      },
    );
    this.events.emit('attempted', { outcome, seconds: durationMs / 1000 });
    if (outcome !== 'delivered') {
      logger.warn(
        { subscription: subscription.id, message: messageId, status, err: error, outcome },
        outcome === 'given_up'
          ? 'webhooks: message given up after failing for 24 hours'
          : 'webhooks: message not delivered; retried later',
      );
    }
    if (outcome === 'failed' && !this.stopped) {
      const retry = setTimeout(() => {
        this.retryTimers.delete(retry);
        this.notify();
      }, retryMs);
      retry.unref();
      this.retryTimers.add(retry);
    }
    return recorded && moved;
  }
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause ? `${message} (${cause.code ?? cause.message ?? 'no cause'})` : message;
}
