import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import type { DurabilityGate } from '../db/durability.js';
import type { ControlledTransaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { announceEventsChanged } from '../events/event-repository.js';
import { applyMessage, changedAnything, type IngestSummary } from '../events/ingest.js';
import { findSource } from '../sources/index.js';
import {
  beginProcessing,
  findDelivery,
  findPendingDeliveries,
  markDeliveryDone,
  markDeliveryFailed,
  requeueDeliveries,
  type ReplaySelection,
} from './inbox-repository.js';

export type ProcessOutcome = 'processed' | 'ignored' | 'failed';

export interface ProcessorHooks {
  /** Called after a delivery changed stored events (caches key on it). */
  onEventsChanged(): void;
  onProcessed?(source: string, outcome: ProcessOutcome, seconds: number): void;
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
      config: Config;
      now: () => Date;
      logger: Logger;
      hooks: ProcessorHooks;
      /** Names this process in change announcements to other instances. */
      instanceId: string;
    },
  ) {}

  /** Asks for processing of pending deliveries; `payload` spares parsing a body twice. */
  notify(id?: number, payload?: unknown): void {
    if (id !== undefined && payload !== undefined) this.parsed.set(id, payload);
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
      for (;;) {
        const pending = await findPendingDeliveries(this.deps.db, 200);
        if (pending.length === 0) break;
        for (const batch of batchesOf(pending)) {
          if (this.stopped) return;
          await this.processBatch(batch.map((delivery) => delivery.id));
          await yieldToEventLoop();
        }
      }
    }
  }

  /**
   * Processes deliveries in one transaction (one durable commit for a burst), each inside its own
   * savepoint: a failing delivery is rolled back alone and recorded as failed, the others commit.
   */
  private processBatch(ids: readonly number[]): Promise<void> {
    return this.deps.gate.relaxed(() => this.processBatchInTransaction(ids));
  }

  private async processBatchInTransaction(ids: readonly number[]): Promise<void> {
    const { db, hooks } = this.deps;
    const trx = await db.startTransaction().execute();
    const observed: { source: string; outcome: ProcessOutcome; seconds: number }[] = [];
    const logLines: (() => void)[] = [];
    let changed = false;
    try {
      await beginProcessing(trx);
      for (const id of ids) {
        const started = process.hrtime.bigint();
        const result = await this.processInTransaction(trx, id, logLines);
        if (!result) continue;
        changed ||= result.changed;
        observed.push({
          source: result.source,
          outcome: result.outcome,
          seconds: Number(process.hrtime.bigint() - started) / 1e9,
        });
      }
      if (changed) await announceEventsChanged(trx, this.deps.instanceId);
      await trx.commit().execute();
    } catch (error) {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      throw error;
    }
    for (const line of logLines) line();
    if (changed) hooks.onEventsChanged();
    for (const item of observed) hooks.onProcessed?.(item.source, item.outcome, item.seconds);
  }

  private async processInTransaction(
    trx: ControlledTransaction<Database>,
    id: number,
    logLines: (() => void)[],
  ): Promise<{ source: string; outcome: ProcessOutcome; changed: boolean } | null> {
    const { config, now, logger } = this.deps;
    const delivery = await findDelivery(trx, id);
    const hint = this.parsed.get(id);
    this.parsed.delete(id);
    if (!delivery || delivery.status !== 'pending') return null;
    let messageType: string | null = null;
    const savepoint = await trx.savepoint('delivery').execute();
    try {
      const adapter = findSource(delivery.source);
      if (!adapter) throw new Error(`inbox: no source named ${delivery.source}`);
      if (!delivery.body) throw new Error('inbox: body was purged; nothing to process');
      const payload = hint ?? parseJsonBody(delivery.body);
      const receivedAt = new Date(delivery.received_at);
      const message = adapter.interpret(payload, { receivedAt }, config);
      messageType = message.messageType;
      const summary = await applyMessage(savepoint, adapter.name, message, {
        now: now(),
        receivedAt,
        defaultDurationHours: config.defaultDurationHours,
      });
      const outcome: ProcessOutcome = message.kind === 'ignored' ? 'ignored' : 'processed';
      await markDeliveryDone(savepoint, id, {
        status: outcome === 'ignored' ? 'ignored' : 'processed',
        messageType,
        result: message.kind === 'ignored' ? { ignored: message.reason } : summary,
        at: now(),
      });
      await savepoint.releaseSavepoint('delivery').execute();
      logLines.push(() =>
        logger.info(
          {
            delivery: id,
            source: delivery.source,
            messageType,
            outcome,
            summary: summaryForLog(summary),
          },
          'inbox: delivery processed',
        ),
      );
      return { source: delivery.source, outcome, changed: changedAnything(summary) };
    } catch (error) {
      await savepoint.rollbackToSavepoint('delivery').execute();
      const reason = error instanceof Error ? error.message : String(error);
      await markDeliveryFailed(trx, id, { error: reason, messageType, at: now() });
      logLines.push(() =>
        logger.warn(
          { delivery: id, source: delivery.source, messageType, err: reason },
          'inbox: delivery failed',
        ),
      );
      return { source: delivery.source, outcome: 'failed', changed: false };
    }
  }
}

/** Bursts of small deliveries share a transaction; a large one (a sync) gets its own. */
function batchesOf(pending: readonly { id: number; bodySize: number }[]): { id: number }[][] {
  const MAX_BATCH = 50;
  const MAX_BATCH_BYTES = 1_000_000;
  const batches: { id: number }[][] = [];
  let current: { id: number }[] = [];
  let bytes = 0;
  for (const delivery of pending) {
    if (
      current.length > 0 &&
      (current.length >= MAX_BATCH || bytes + delivery.bodySize > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(delivery);
    bytes += delivery.bodySize;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function summaryForLog(summary: IngestSummary) {
  const { skipped, unknown, ...counts } = summary;
  return { ...counts, skipped: skipped.length, unknown: unknown.length };
}
