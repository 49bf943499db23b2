import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/connection.js';
import { applyMessage, changedAnything, type IngestSummary } from '../events/ingest.js';
import { findSource } from '../sources/index.js';
import {
  findDelivery,
  findPendingDeliveryIds,
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

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Parses a stored body: UTF-8 JSON, a leading byte-order mark tolerated. */
export function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/**
 * Turns stored deliveries into events, one at a time in arrival order, each in its own
 * transaction with its status, so a crash mid-way leaves it pending and it is redone on start.
 */
export class InboxProcessor {
  private running: Promise<void> | null = null;
  private wake = false;
  private stopped = false;
  private readonly parsed = new Map<number, unknown>();

  constructor(
    private readonly deps: { db: Db; config: Config; now: () => Date; logger: Logger; hooks: ProcessorHooks },
  ) {}

  /** Asks for processing of pending deliveries; `payload` spares parsing a body twice. */
  notify(id?: number, payload?: unknown): void {
    if (id !== undefined && payload !== undefined) this.parsed.set(id, payload);
    if (this.stopped) return;
    this.wake = true;
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = null;
        if (this.wake && !this.stopped) this.notify();
      });
    }
  }

  /** Resolves when nothing is pending or being processed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Finishes the delivery being processed and stops taking new ones. */
  async stop(): Promise<void> {
    this.stopped = true;
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
        const ids = await findPendingDeliveryIds(this.deps.db, 100);
        if (ids.length === 0) break;
        for (const id of ids) {
          if (this.stopped) return;
          await this.processDelivery(id);
          await yieldToEventLoop();
        }
      }
    }
  }

  /** Processes one stored delivery and records the outcome; never throws for bad content. */
  async processDelivery(id: number): Promise<ProcessOutcome> {
    const { db, config, now, logger, hooks } = this.deps;
    const started = process.hrtime.bigint();
    const delivery = await findDelivery(db, id);
    if (!delivery || delivery.status !== 'pending') {
      this.parsed.delete(id);
      return 'ignored';
    }
    const hint = this.parsed.get(id);
    this.parsed.delete(id);
    let messageType: string | null = null;
    let outcome: ProcessOutcome;
    try {
      const adapter = findSource(delivery.source);
      if (!adapter) throw new Error(`inbox: no source named ${delivery.source}`);
      if (!delivery.body) throw new Error('inbox: body was purged; nothing to process');
      const payload = hint ?? parseJsonBody(delivery.body);
      const receivedAt = new Date(delivery.received_at);
      const message = adapter.interpret(payload, { receivedAt }, config);
      messageType = message.messageType;
      let summary: IngestSummary | null = null;
      await db.transaction().execute(async (trx) => {
        summary = await applyMessage(trx, adapter.name, message, { now: now(), receivedAt, defaultDurationHours: config.defaultDurationHours });
        await markDeliveryDone(trx, id, {
          status: message.kind === 'ignored' ? 'ignored' : 'processed',
          messageType,
          result: message.kind === 'ignored' ? { ignored: message.reason } : summary,
          at: now(),
        });
      });
      outcome = message.kind === 'ignored' ? 'ignored' : 'processed';
      if (summary && changedAnything(summary)) hooks.onEventsChanged();
      logger.info({ delivery: id, source: delivery.source, messageType, outcome, summary: summaryForLog(summary) }, 'inbox: delivery processed');
    } catch (error) {
      outcome = 'failed';
      const reason = error instanceof Error ? error.message : String(error);
      await markDeliveryFailed(db, id, { error: reason, messageType, at: now() });
      logger.warn({ delivery: id, source: delivery.source, messageType, err: reason }, 'inbox: delivery failed');
    }
    hooks.onProcessed?.(delivery.source, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }
}

function summaryForLog(summary: IngestSummary | null) {
  if (!summary) return undefined;
  const { skipped, unknown, ...counts } = summary;
  return { ...counts, skipped: skipped.length, unknown: unknown.length };
}
