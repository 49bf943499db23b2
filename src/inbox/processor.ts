import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/connection.js';
import type { DurabilityGate } from '../db/durability.js';
import type { ControlledTransaction } from 'kysely';
import type { Database, DeliveryRow } from '../db/schema.js';
import { announceEventsChanged } from '../cache/events-changed.js';
import { createChangeRecorder } from '../changes/change-log.js';
import {
  applyMessage,
  changedAnything,
  emptySummary,
  finishSync,
  upsertNormalized,
  type IngestSummary,
} from '../events/ingest.js';
import { findSourceHashes } from '../events/event-writes.js';
import { isSourceName, type Sources } from '../sources/index.js';
import type { CityAliases } from '../events/text-key.js';
import {
  beginProcessing,
  countAttempt,
  findAppliedDuplicate,
  loadDeliveryBody,
  loadPendingDeliveries,
  loadPendingDelivery,
  findPendingDeliveries,
  markDeliveryDone,
  markDeliveryFailed,
  requeueDeliveries,
  requeueDelivery,
  type ReplaySelection,
  type StoredDelivery,
} from './inbox-repository.js';
import { observePayload, recordObservation } from './schema-watch-repository.js';
import type { SchemaObservation } from '../sources/schema-watcher.js';
import {
  eventId,
  type NormalizedEvent,
  type SourceMessage,
  type SourceName,
} from '../events/types.js';

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

/**
 * The least time from one batch's start to the next one's while fewer than a full batch wait.
 * A stream of small deliveries (a few hundred a second) would otherwise be processed one or two
 * at a time: a commit and a new data version per delivery, and every cached feed a reader asks
 * for rendered again after each. Spaced, the stream is processed in a few batches a second; a
 * backlog (a full batch waiting) goes on at once, and a delivery after a quiet spell at once too.
 */
const BATCH_SPACING_MS = 100;

/** A delivery whose processing began this often without finishing is set aside as failed. */
export const MAX_ATTEMPTS = 5;
/** How long one delivery's processing may take by default. */
export const DEFAULT_BUDGET_MS = 120_000;
/** Bodies above this size are processed alone, in slices, each attempt counted beforehand. */
const LARGE_BODY_BYTES = 256_000;
/** Events upserted per transaction when a large message is applied in parts. */
const EVENTS_PER_TRANSACTION = 100;
/** Work done between two pauses for the event loop, at most (about). */
const SLICE_MS = 8;

/** Processing stopped at a pause because the processor is stopping; the delivery stays pending. */
class ProcessingInterrupted extends Error {}

/** Processing of one delivery went past its time budget. */
class BudgetExceeded extends Error {}

/**
 * Cuts long work into slices: `pause()` lets the event loop run (requests are served) once a
 * slice's time is up, and throws when the processor is stopping or the budget is spent.
 */
class Slicer {
  private sliceStarted = performance.now();
  private readonly deadline: number;

  constructor(
    budgetMs: number,
    private readonly isStopping: () => boolean,
    private readonly progress: () => string,
  ) {
    this.deadline = performance.now() + budgetMs;
    this.budgetMs = budgetMs;
  }

  private readonly budgetMs: number;

  async pause(): Promise<void> {
    if (performance.now() - this.sliceStarted < SLICE_MS) return;
    await yieldToEventLoop();
    this.sliceStarted = performance.now();
    this.check();
  }

  check(): void {
    if (this.isStopping()) throw new ProcessingInterrupted('inbox: processing interrupted');
    if (performance.now() > this.deadline) {
      throw new BudgetExceeded(
        `inbox: processing took longer than its budget of ${this.budgetMs / 1000} s (${this.progress()}); set aside, replay it after a fix`,
      );
    }
  }
}

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
  /** When the last batch of small deliveries began (performance.now()). */
  private lastBatchAt = Number.NEGATIVE_INFINITY;

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
      /** How long one delivery's processing may take. */
      budgetMs?: number;
      /** BATCH_SPACING_MS unless given. */
      batchSpacingMs?: number;
      /** CITY_ALIASES, for matching cross-source duplicates at ingest. */
      cityAliases?: CityAliases;
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

  /** Queues one delivery again and processes it; false when it cannot be replayed. */
  async replayDelivery(id: number): Promise<boolean> {
    const queued = await requeueDelivery(this.deps.db, id);
    if (!queued) return false;
    this.notify();
    await this.idle();
    return true;
  }

  private async drain(): Promise<void> {
    try {
      while (this.wake && !this.stopped) {
        this.wake = false;
        while (!this.stopped && (await this.processNext())) await yieldToEventLoop();
      }
    } catch (error) {
      // Stopping mid-way is not a failure: the delivery stays pending for the next start.
      if (!(error instanceof ProcessingInterrupted)) throw error;
    }
  }

  /**
   * Processes what is next in arrival order: sets aside deliveries whose processing began too
   * often without finishing, processes a large one alone in slices, else a batch of small ones;
   * false when nothing was pending.
   */
  private async processNext(): Promise<boolean> {
    const { db, gate } = this.deps;
    let pending = await findPendingDeliveries(db, MAX_BATCH);
    if (pending.length === 0) return false;
    const spacing = this.deps.batchSpacingMs ?? BATCH_SPACING_MS;
    const wait = this.lastBatchAt + spacing - performance.now();
    if (wait > 0 && !fillsBatch(pending)) {
      await sleep(wait);
      if (this.stopped) return false;
      // More arrived meanwhile; on PostgreSQL another instance may have taken some.
      pending = await findPendingDeliveries(db, MAX_BATCH);
      if (pending.length === 0) return false;
    }
    const wornOut = pending.filter((delivery) => delivery.attempts >= MAX_ATTEMPTS);
    if (wornOut.length > 0) {
      await gate.relaxed(() => this.setAside(wornOut));
      return true;
    }
    const first = pending[0] as (typeof pending)[number];
    if (first.bodySize > LARGE_BODY_BYTES) {
      await this.processLarge(first.id);
      return true;
    }
    const firstLarge = pending.findIndex((delivery) => delivery.bodySize > LARGE_BODY_BYTES);
    const small = firstLarge === -1 ? pending : pending.slice(0, firstLarge);
    this.lastBatchAt = performance.now();
    await this.processNextBatch(withinByteBudget(small));
    return true;
  }

  /** Marks deliveries failed that were interrupted (or timed out) too often, with the reason. */
  private async setAside(deliveries: readonly { id: number; attempts: number }[]): Promise<void> {
    const { db, now, logger, hooks } = this.deps;
    await db.transaction().execute(async (trx) => {
      await beginProcessing(trx);
      for (const { id } of deliveries) {
        const delivery = await loadPendingDelivery(trx, id);
        if (delivery === undefined) continue;
        await markDeliveryFailed(trx, delivery.id, {
          error: `inbox: processing began ${delivery.attempts} times without finishing (interrupted or over its time budget); set aside, replay it after a fix`,
          messageType: delivery.message_type,
          at: now(),
          countAttempt: false,
        });
        logger.warn(
          { delivery: delivery.id, source: delivery.source, attempts: delivery.attempts },
          'inbox: delivery set aside as failed',
        );
        hooks.onProcessed({ source: delivery.source, outcome: 'failed', seconds: 0 });
      }
    });
  }

  /**
   * Processes one large delivery in slices, so that requests are served meanwhile: its attempt
   * is counted first (a crash or a hang is counted too); it is read in steps; a long list of
   * events is upserted in several short transactions; the last one finishes the message (a
   * sync's removals) and marks the delivery. A crash between them leaves the delivery pending,
   * and redoing it is harmless: upserts already made compare as unchanged.
   */
  private async processLarge(id: number): Promise<void> {
    const { db, gate, now, hooks } = this.deps;
    const started = performance.now();
    await gate.relaxed(() => countAttempt(db, id));
    // Without its body: the parsed payload is usually at hand, and a duplicate needs neither.
    const delivery = await loadPendingDelivery(db, id);
    if (!delivery) return;
    let applied = 0;
    let total = 0;
    const slicer = new Slicer(
      this.deps.budgetMs ?? DEFAULT_BUDGET_MS,
      () => this.stopped,
      () => (total === 0 ? 'while reading it' : `${applied} of ${total} events applied`),
    );
    const logLines: (() => void)[] = [];
    // Recorded with the delivery's outcome, in its last transaction: an interrupted attempt
    // records nothing, so a delivery is counted once.
    const watched: WatchedPayload = { observation: null };
    const report = (outcome: ProcessOutcome) => {
      this.parsed.delete(id);
      for (const line of logLines) line();
      hooks.onProcessed({
        source: delivery.source,
        outcome,
        seconds: (performance.now() - started) / 1000,
      });
    };
    const fail = async (messageType: string | null, error: unknown) => {
      await gate.relaxed(() =>
        db.transaction().execute(async (trx) => {
          await beginProcessing(trx);
          if ((await loadPendingDelivery(trx, id)) === undefined) return;
          await recordObservation(trx, delivery, watched.observation);
          await this.recordFailure(trx, delivery, messageType, error, logLines, false);
        }),
      );
      report('failed');
    };
    const original = await findAppliedDuplicate(db, delivery);
    if (original !== null) {
      const recorded = await gate.relaxed(() =>
        db.transaction().execute(async (trx) => {
          await beginProcessing(trx);
          if ((await loadPendingDelivery(trx, id)) === undefined) return false;
          await this.recordDuplicate(trx, delivery, original, logLines, false);
          return true;
        }),
      );
      if (recorded) report('ignored');
      return;
    }
    let message: SourceMessage;
    // The stored raw-copy hashes the reading skipped copies by, checked again before finishing.
    const storedHashes = new Map<string, string>();
    try {
      message = await this.interpretInSlices(delivery, slicer, watched, storedHashes);
    } catch (error) {
      if (error instanceof ProcessingInterrupted) throw error;
      await fail(null, error);
      return;
    }
    const receivedAt = new Date(delivery.received_at);
    const options = {
      now: now(),
      receivedAt,
      defaultDurationHours: this.deps.defaultDurationHours,
      deliveryId: delivery.id,
      test: delivery.test === 1,
      changes: createChangeRecorder(),
      cityAliases: this.deps.cityAliases,
    };
    const events =
      message.kind === 'upsert' || message.kind === 'sync' ? latestCopies(message.events) : [];
    total = events.length;
    const summary = emptySummary();
    if (message.kind === 'upsert' || message.kind === 'sync') {
      summary.skipped = message.skipped;
      summary.unchanged += message.unchanged?.length ?? 0;
    }
    let facetsChanged = false;
    try {
      for (; applied < events.length; applied += EVENTS_PER_TRANSACTION) {
        slicer.check();
        const part = events.slice(applied, applied + EVENTS_PER_TRANSACTION);
        // Caches learn of the change once, with the last part: feeds re-rendered at every
        // part would cost more than the processing.
        const partFacets = await gate.relaxed(() =>
          db.transaction().execute(async (trx) => {
            await beginProcessing(trx);
            return upsertNormalized(trx, part, options, summary, message.kind === 'sync');
          }),
        );
        facetsChanged ||= partFacets;
        await yieldToEventLoop();
      }
      slicer.check();
    } catch (error) {
      if (error instanceof BudgetExceeded) {
        await fail(message.messageType, error);
        return;
      }
      throw error;
    }
    const outcome = await gate.relaxed(() =>
      db.transaction().execute(async (trx) => {
        await beginProcessing(trx);
        if ((await loadPendingDelivery(trx, id)) === undefined) return null;
        await recordObservation(trx, delivery, watched.observation);
        if (message.kind === 'upsert' || message.kind === 'sync') {
          // Another write (another instance's) may have changed an event whose copy was skipped
          // since it was read: then the delivery is read again, without that skip.
          const skippedIds = message.unchanged ?? [];
          const current =
            skippedIds.length === 0
              ? new Map<string, string>()
              : await findSourceHashes(
                  trx,
                  delivery.source as SourceName,
                  skippedIds,
                  message.kind === 'sync' ? message.organization.id : undefined,
                );
          if (
            skippedIds.some(
              (externalId) => current.get(externalId) !== storedHashes.get(externalId),
            )
          ) {
            return 'read again' as const;
          }
          const removed =
            message.kind === 'sync'
              ? await finishSync(trx, delivery.source as SourceName, message, options, summary)
              : false;
          await this.recordDone(trx, delivery, message, summary, logLines, false);
          // An interrupted earlier attempt may have written parts that count as unchanged now.
          const changed = changedAnything(summary) || delivery.attempts > 1;
          const facets = facetsChanged || removed || delivery.attempts > 1;
          if (changed) {
            await announceEventsChanged(trx, { writer: this.deps.instanceId, facets });
          }
          return { outcome: 'processed' as const, changed, facetsChanged: facets };
        }
        return this.applyAndRecord(trx, delivery, message, logLines, false);
      }),
    );
    if (outcome === null) return;
    if (outcome === 'read again') {
      await this.processLarge(id);
      return;
    }
    if (outcome.changed) hooks.onEventsChanged({ facets: outcome.facetsChanged });
    report(outcome.outcome);
  }

  /** Reads a delivery's message, in steps when its source can (a long list of events). */
  private async interpretInSlices(
    delivery: DeliveryRow,
    slicer: Slicer,
    watched: WatchedPayload,
    storedHashes: Map<string, string>,
  ): Promise<SourceMessage> {
    if (!isSourceName(delivery.source))
      throw new Error(`inbox: no source named ${delivery.source}`);
    const adapter = this.deps.sources[delivery.source];
    const payload = this.parsed.get(delivery.id) ?? parseJsonBody(await this.bodyOf(delivery.id));
    watched.observation = observePayload(adapter, delivery, payload, this.deps.logger);
    await slicer.pause();
    const context = {
      receivedAt: new Date(delivery.received_at),
      sourceHashSeed: this.sourceHashSeed(delivery),
    };
    if (!adapter.interpretSteps) return adapter.interpret(payload, context);
    const steps = adapter.interpretSteps(payload, context);
    let answer: Map<string, string> | undefined;
    for (;;) {
      const step = steps.next(answer);
      answer = undefined;
      if (step.done) return step.value;
      if (step.value) {
        // Copies hashing as the stored ones are skipped unread (a nightly sync's most).
        answer = await findSourceHashes(
          this.deps.db,
          delivery.source as SourceName,
          step.value.sourceHashesOf,
          step.value.organizationId,
        );
        for (const [externalId, hash] of answer) storedHashes.set(externalId, hash);
      }
      await slicer.pause();
    }
  }

  /** The stored body of delivery `id`, which must not have been purged. */
  private async bodyOf(id: number): Promise<Buffer> {
    const body = await loadDeliveryBody(this.deps.db, id);
    if (body === null) throw new Error('inbox: body was purged; nothing to process');
    return body;
  }

  /**
   * What stored events depend on besides their raw copies (see `InterpretContext`): a test
   * delivery's copies never hash as a real one's.
   */
  private sourceHashSeed(delivery: { test: number }): string {
    return `default-duration-hours=${this.deps.defaultDurationHours};test=${delivery.test === 1}`;
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
  private async processNextBatch(ids: readonly number[]): Promise<void> {
    const { gate } = this.deps;
    try {
      await gate.relaxed(() => this.processBatchInTransaction(ids, { isolateEach: false }));
    } catch (error) {
      if (!(error instanceof PartialWriteError)) throw error;
      await gate.relaxed(() => this.processBatchInTransaction(ids, { isolateEach: true }));
    }
  }

  private async processBatchInTransaction(
    ids: readonly number[],
    options: { isolateEach: boolean },
  ): Promise<void> {
    const { db, hooks } = this.deps;
    const trx = await db.startTransaction().execute();
    const observed: ProcessedDelivery[] = [];
    const logLines: (() => void)[] = [];
    let changed = false;
    let facetsChanged = false;
    let deliveries: StoredDelivery[];
    try {
      await beginProcessing(trx);
      // Read again under the lock: on PostgreSQL another instance may have processed some.
      deliveries = await loadPendingDeliveries(trx, ids);
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
    const { sources } = this.deps;
    let message: SourceMessage;
    const receivedAt = new Date(delivery.received_at);
    try {
      if (!isSourceName(delivery.source))
        throw new Error(`inbox: no source named ${delivery.source}`);
      const adapter = sources[delivery.source];
      if (!delivery.body) throw new Error('inbox: body was purged; nothing to process');
      const original = await findAppliedDuplicate(db, delivery);
      if (original !== null) return this.recordDuplicate(db, delivery, original, logLines, true);
      const payload = this.parsed.get(delivery.id) ?? parseJsonBody(delivery.body);
      await recordObservation(
        db,
        delivery,
        observePayload(adapter, delivery, payload, this.deps.logger),
      );
      message = adapter.interpret(payload, {
        receivedAt,
        sourceHashSeed: this.sourceHashSeed(delivery),
      });
    } catch (error) {
      return this.recordFailure(db, delivery, null, error, logLines);
    }
    try {
      return await this.applyAndRecord(db, delivery, message, logLines, true);
    } catch (error) {
      throw new PartialWriteError(message.messageType, error);
    }
  }

  /** Applies an interpreted message and marks its delivery done, in the caller's transaction. */
  private async applyAndRecord(
    db: Queryable,
    delivery: DeliveryRow,
    message: SourceMessage,
    logLines: (() => void)[],
    countAttempt: boolean,
  ): Promise<DeliveryOutcome> {
    const { now } = this.deps;
    const { summary, facetsChanged } = await applyMessage(
      db,
      delivery.source as SourceName,
      message,
      {
        now: now(),
        receivedAt: new Date(delivery.received_at),
        defaultDurationHours: this.deps.defaultDurationHours,
        deliveryId: delivery.id,
        test: delivery.test === 1,
        changes: createChangeRecorder(),
        cityAliases: this.deps.cityAliases,
      },
    );
    const outcome = await this.recordDone(db, delivery, message, summary, logLines, countAttempt);
    return { outcome, changed: changedAnything(summary), facetsChanged };
  }

  private async recordDone(
    db: Queryable,
    delivery: DeliveryRow,
    message: SourceMessage,
    summary: IngestSummary,
    logLines: (() => void)[],
    countAttempt: boolean,
  ): Promise<ProcessOutcome> {
    const { now, logger } = this.deps;
    const { messageType } = message;
    const outcome: ProcessOutcome = message.kind === 'ignored' ? 'ignored' : 'processed';
    await markDeliveryDone(db, delivery.id, {
      status: outcome === 'ignored' ? 'ignored' : 'processed',
      messageType,
      result: message.kind === 'ignored' ? { ignored: message.reason } : summary,
      at: now(),
      countAttempt,
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
    return outcome;
  }

  /** A body identical to one already applied changes nothing (a replayed capture, a resend). */
  private async recordDuplicate(
    db: Queryable,
    delivery: DeliveryRow,
    original: number,
    logLines: (() => void)[],
    countAttempt: boolean,
  ): Promise<DeliveryOutcome> {
    await markDeliveryDone(db, delivery.id, {
      status: 'ignored',
      messageType: null,
      result: { ignored: 'duplicate', duplicateOf: original },
      at: this.deps.now(),
      countAttempt,
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
    delivery: DeliveryRow,
    messageType: string | null,
    error: unknown,
    logLines: (() => void)[],
    countAttempt = true,
  ): Promise<DeliveryOutcome> {
    const reason = error instanceof Error ? error.message : String(error);
    await markDeliveryFailed(db, delivery.id, {
      error: reason,
      messageType,
      at: this.deps.now(),
      countAttempt,
    });
    logLines.push(() =>
      this.deps.logger.warn(
        { delivery: delivery.id, source: delivery.source, messageType, err: reason },
        'inbox: delivery failed',
      ),
    );
    return { outcome: 'failed', changed: false, facetsChanged: false };
  }
}

/** A large delivery's schema watch findings, kept until its last transaction records them. */
interface WatchedPayload {
  observation: SchemaObservation | null;
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

/** Whether `pending` (at most MAX_BATCH) is a backlog: as many deliveries or bytes as a batch takes. */
function fillsBatch(pending: readonly { bodySize: number }[]): boolean {
  if (pending.length >= MAX_BATCH) return true;
  return pending.reduce((bytes, delivery) => bytes + delivery.bodySize, 0) >= MAX_BATCH_BYTES;
}

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
  const { skipped, unknown, cut, ...counts } = summary;
  return {
    ...counts,
    skipped: skipped.length,
    unknown: unknown.length,
    ...(cut ? { cut: cut.length } : {}),
  };
}

/** The last copy of each event, in first-seen order: within one message the last one wins. */
function latestCopies(events: readonly NormalizedEvent[]): NormalizedEvent[] {
  const latest = new Map<string, NormalizedEvent>();
  for (const event of events) latest.set(eventId(event.source, event.externalId), event);
  return [...latest.values()];
}
