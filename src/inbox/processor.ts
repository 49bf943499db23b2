import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/connection.js';
import type { DurabilityGate } from '../db/durability.js';
import type { ControlledTransaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { announceEventsChanged } from '../cache/events-changed.js';
import { applyMessage, changedAnything, type IngestSummary } from '../events/ingest.js';
import { isSourceName, type Sources } from '../sources/index.js';
import {
  beginProcessing,
  findAppliedDuplicate,
  loadPendingDeliveries,
  findPendingDeliveries,
  markDeliveryDone,
  markDeliveryFailed,
  requeueDeliveries,
  type ReplaySelection,
  type StoredDelivery,
} from './inbox-repository.js';
import { observePayload, recordObservation } from './schema-watch-repository.js';
import type { SourceMessage } from '../events/types.js';
import type { SourceAdapter } from '../sources/types.js';

export type ProcessOutcome = 'processed' | 'ignored' | 'failed';

/** One delivery's processing, as the inbox reports it (metrics, the CLI's replay). */
export interface ProcessedDelivery {
  source: string;
  outcome: ProcessOutcome;
  seconds: number;
}

/** Stored events changed; `facets` when the filter choices (cities, genres...) may have too. */
export interface ChangedEvents {
  facets: boolean;
}

export interface ProcessorHooks {
  /** Called after deliveries changed stored events (caches key on it). */
  onEventsChanged(change: ChangedEvents): void;
  onProcessed(processed: ProcessedDelivery): void;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Parses a stored body: UTF-8 JSON, a leading byte-order mark tolerated. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/**
 * Turns stored deliveries into events in arrival order, a batch per transaction with each
 * delivery's status, so a crash mid-way leaves them pending and they are redone on start (or, on
 * PostgreSQL, by another instance: see `beginProcessing`).
 */
export class InboxProcessor {
  private running: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private wake = false;
  private stopped = false;
  private readonly parsed = new Map<number, unknown>();

  constructor(
    private readonly deps: {
      db: Db;
      gate: DurabilityGate;
      sources: Sources;
      /** DEFAULT_DURATION_HOURS: how long an open-ended event counts as running. */
      defaultDurationHours: number;
      now: () => Date;
      logger: Logger;
      hooks: ProcessorHooks;
      /** Names this process in change announcements to other instances. */
      instanceId: string;
    },
  ) {}

  /** Asks for processing of pending deliveries; `payload` spares parsing a body twice. */
  notify(id?: number, payload?: unknown): void {
    if (id !== undefined && payload !== undefined) {
      // Another instance may process it instead (PostgreSQL): hints must not pile up.
      if (this.parsed.size >= 1000) this.parsed.clear();
      this.parsed.set(id, payload);
    }
    if (this.stopped) return;
    this.wake = true;
    if (!this.running) {
      this.running = this.drain()
        .then(() => {
          this.retryMs = RETRY_MIN_MS;
        })
        .catch((error: unknown) => this.retryLater(error))
        .finally(() => {
          this.running = null;
          if (this.wake && !this.stopped) this.notify();
        });
    }
  }

  /**
   * A failed batch (the database went away, a deadlock, a bug) leaves its deliveries pending:
   * nothing is lost, and processing is tried again after a growing pause rather than at once.
   */
  private retryLater(error: unknown): void {
    this.wake = false;
    this.deps.logger.error(
      { err: error, retryInMs: this.retryMs },
      'inbox: processing failed; the deliveries stay pending and are retried',
    );
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.notify(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Resolves when nothing is pending or being processed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Finishes the delivery being processed and stops taking new ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.idle();
  }

  /** Queues failed (or all) deliveries again and processes them; returns how many. */
  async replay(selection: ReplaySelection): Promise<number> {
    const count = await requeueDeliveries(this.deps.db, selection);
    this.notify();
    await this.idle();
    return count;
  }

  private async drain(): Promise<void> {
    while (this.wake && !this.stopped) {
      this.wake = false;
      while (!this.stopped && (await this.processNextBatch())) await yieldToEventLoop();
    }
  }

  /**
   * Processes the oldest pending deliveries in one transaction (one durable commit for a burst);
   * false when there were none. They are chosen inside the transaction, after
   * `beginProcessing`: on PostgreSQL that is under the lock all instances take, so no two pick
   * the same ones. Each is applied without a savepoint, as that costs two round trips to a
   * PostgreSQL server: a delivery that fails before writing (an unreadable message, the common
   * case) is simply marked failed. One that fails half-way through its writes rolls the whole
   * batch back, and the batch is redone with a savepoint per delivery, so that only that one is
   * undone and recorded as failed.
   */
  private async processNextBatch(): Promise<boolean> {
    const { gate } = this.deps;
    try {
      return await gate.relaxed(() => this.processBatchInTransaction({ isolateEach: false }));
    } catch (error) {
      if (!(error instanceof PartialWriteError)) throw error;
      return gate.relaxed(() => this.processBatchInTransaction({ isolateEach: true }));
    }
  }

  private async processBatchInTransaction(options: { isolateEach: boolean }): Promise<boolean> {
    const { db, hooks } = this.deps;
    const trx = await db.startTransaction().execute();
    const observed: ProcessedDelivery[] = [];
    const logLines: (() => void)[] = [];
    let changed = false;
    let facetsChanged = false;
    let deliveries: StoredDelivery[];
    try {
      await beginProcessing(trx);
      const pending = await findPendingDeliveries(trx, MAX_BATCH);
      deliveries = await loadPendingDeliveries(trx, withinByteBudget(pending));
      for (const delivery of deliveries) {
        const started = process.hrtime.bigint();
        const result = options.isolateEach
          ? await this.processInSavepoint(trx, delivery, logLines)
          : await this.processDelivery(trx, delivery, logLines);
        changed ||= result.changed;
        facetsChanged ||= result.facetsChanged;
        observed.push({
          source: delivery.source,
          outcome: result.outcome,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      }
      if (changed) {
        await announceEventsChanged(trx, { writer: this.deps.instanceId, facets: facetsChanged });
      }
      await trx.commit().execute();
    } catch (error) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      throw error;
    }
    for (const delivery of deliveries) this.parsed.delete(delivery.id);
    for (const line of logLines) line();
    if (changed) hooks.onEventsChanged({ facets: facetsChanged });
    for (const item of observed) hooks.onProcessed(item);
    return deliveries.length > 0;
  }

  /** Applies one delivery inside its own savepoint: a failure undoes its writes only. */
  private async processInSavepoint(
    trx: ControlledTransaction<Database>,
    delivery: StoredDelivery,
    logLines: (() => void)[],
  ): Promise<DeliveryOutcome> {
    const savepoint = await trx.savepoint('delivery').execute();
    try {
      const result = await this.processDelivery(savepoint, delivery, logLines);
      await savepoint.releaseSavepoint('delivery').execute();
      return result;
    } catch (error) {
      if (!(error instanceof PartialWriteError)) throw error;
      await savepoint.rollbackToSavepoint('delivery').execute();
      return this.recordFailure(trx, delivery, error.messageType, error.cause, logLines);
    }
  }

  /**
   * Interprets a delivery and applies it. A message that cannot be read is recorded as failed
   * here; a failure after writes began is thrown as a PartialWriteError, for the caller to undo.
   */
  private async processDelivery(
    db: Queryable,
    delivery: StoredDelivery,
    logLines: (() => void)[],
  ): Promise<DeliveryOutcome> {
    const { sources, now, logger } = this.deps;
    let message: SourceMessage;
    let adapter: SourceAdapter;
    const receivedAt = new Date(delivery.received_at);
    try {
      if (!isSourceName(delivery.source))
        throw new Error(`inbox: no source named ${delivery.source}`);
      adapter = sources[delivery.source];
      if (!delivery.body) throw new Error('inbox: body was purged; nothing to process');
      const original = await findAppliedDuplicate(db, delivery);
      if (original !== null) return this.recordDuplicate(db, delivery, original, logLines);
      const payload = this.parsed.get(delivery.id) ?? parseJsonBody(delivery.body);
      await recordObservation(
        db,
        delivery,
        observePayload(adapter, delivery, payload, this.deps.logger),
      );
      message = adapter.interpret(payload, { receivedAt });
    } catch (error) {
      return this.recordFailure(db, delivery, null, error, logLines);
    }
    const { messageType } = message;
    try {
      const { summary, facetsChanged } = await applyMessage(db, adapter.name, message, {
        now: now(),
        receivedAt,
        defaultDurationHours: this.deps.defaultDurationHours,
        deliveryId: delivery.id,
      });
      const outcome: ProcessOutcome = message.kind === 'ignored' ? 'ignored' : 'processed';
      await markDeliveryDone(db, delivery.id, {
        status: outcome === 'ignored' ? 'ignored' : 'processed',
        messageType,
        result: message.kind === 'ignored' ? { ignored: message.reason } : summary,
        at: now(),
      });
      logLines.push(() =>
        logger.info(
          {
            delivery: delivery.id,
            source: delivery.source,
            messageType,
            outcome,
            summary: summaryForLog(summary),
          },
          'inbox: delivery processed',
        ),
      );
      return { outcome, changed: changedAnything(summary), facetsChanged };
    } catch (error) {
      throw new PartialWriteError(messageType, error);
    }
  }

  /** A body identical to one already applied changes nothing (a replayed capture, a resend). */
  private async recordDuplicate(
    db: Queryable,
    delivery: StoredDelivery,
    original: number,
    logLines: (() => void)[],
  ): Promise<DeliveryOutcome> {
    await markDeliveryDone(db, delivery.id, {
      status: 'ignored',
      messageType: null,
      result: { ignored: 'duplicate', duplicateOf: original },
      at: this.deps.now(),
    });
    logLines.push(() =>
      this.deps.logger.info(
        { delivery: delivery.id, source: delivery.source, duplicateOf: original },
        'inbox: delivery ignored: identical to one already applied',
      ),
    );
    return { outcome: 'ignored', changed: false, facetsChanged: false };
  }

  private async recordFailure(
    db: Queryable,
    delivery: StoredDelivery,
    messageType: string | null,
    error: unknown,
    logLines: (() => void)[],
  ): Promise<DeliveryOutcome> {
    const reason = error instanceof Error ? error.message : String(error);
    await markDeliveryFailed(db, delivery.id, { error: reason, messageType, at: this.deps.now() });
    logLines.push(() =>
      this.deps.logger.warn(
        { delivery: delivery.id, source: delivery.source, messageType, err: reason },
        'inbox: delivery failed',
      ),
    );
    return { outcome: 'failed', changed: false, facetsChanged: false };
  }
}

interface DeliveryOutcome {
  outcome: ProcessOutcome;
  changed: boolean;
  facetsChanged: boolean;
}

/** A delivery failed after some of its writes were made; they must be undone. */
class PartialWriteError extends Error {
  constructor(
    readonly messageType: string | null,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Bursts of small deliveries share a transaction; a large one (a sync) gets one of its own. */
const MAX_BATCH = 50;
const MAX_BATCH_BYTES = 1_000_000;

/** The ids of the first pending deliveries whose bodies fit the batch's byte budget (at least one). */
function withinByteBudget(pending: readonly { id: number; bodySize: number }[]): number[] {
  const ids: number[] = [];
  let bytes = 0;
  for (const delivery of pending) {
    if (ids.length > 0 && bytes + delivery.bodySize > MAX_BATCH_BYTES) break;
    ids.push(delivery.id);
    bytes += delivery.bodySize;
  }
  return ids;
}

function summaryForLog(summary: IngestSummary) {
  const { skipped, unknown, ...counts } = summary;
  return { ...counts, skipped: skipped.length, unknown: unknown.length };
}
