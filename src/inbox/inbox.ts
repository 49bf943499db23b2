import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/connection.js';
import { isTemporaryDatabaseFailure } from '../db/failures.js';
import { DurabilityGate } from '../db/durability.js';
import type { SourceName } from '../events/types.js';
import { HttpError } from '../errors.js';
import type { Sources } from '../sources/index.js';
import type { AuthResult, WebhookRequestHead } from '../sources/types.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliverySpool } from './delivery-spool.js';
import { CityAliases } from '../events/text-key.js';
import {
  findSpooledDelivery,
  insertDeliveries,
  type NewDelivery,
  type ReplaySelection,
} from './inbox-repository.js';
import {
  InboxProcessor,
  parseJsonBody,
  type ChangedEvents,
  type ProcessedDelivery,
} from './processor.js';

/** What the inbox reports, for the entry point to wire to metrics and caches. */
export type InboxEvents = {
  /** One delivery was processed (or ignored, or failed). */
  processed: [ProcessedDelivery];
  /** Processing changed stored events. */
  eventsChanged: [ChangedEvents];
};

/** A webhook request whose head passed the checks that need no body (see `Inbox.admit`). */
export interface Admission {
  source: SourceName;
  /** True when the head alone proved the credentials; false while a check of the body decides. */
  authenticated: boolean;
  /** Feeds the next chunk of the body to the check of the body, if any. */
  update(chunk: Buffer): void;
  /** The outcome, once the whole body was fed. */
  result(): AuthResult;
}

export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
  remoteAddress: string | undefined;
}

/**
 * The header `marquee send-test` marks its deliveries with. It counts only on authenticated
 * requests, so only a holder of a source's secret can mark one.
 */
export const TEST_DELIVERY_HEADER = 'x-marquee-test';
const SPOOL_RETRY_MIN_MS = 200;
const SPOOL_RETRY_MAX_MS = 2_000;

/** Headers worth keeping with a delivery. Authorization and X-Signature never are. */
const KEPT_HEADERS = [
  'content-type',
  'content-encoding',
  'content-length',
  'user-agent',
  'x-request-id',
  'x-forwarded-for',
  TEST_DELIVERY_HEADER,
];

function keptHeaders(
  headers: IncomingHttpHeaders,
  remoteAddress: string | undefined,
  authMethod: string,
): Record<string, string> {
  const kept: Record<string, string> = { 'x-marquee-auth': authMethod };
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value.slice(0, 500);
  }
  if (remoteAddress) kept['x-marquee-remote-address'] = remoteAddress;
  return kept;
}

function authenticationFailed(source: SourceName): HttpError {
  return new HttpError(
    401,
    `${source}: authentication failed`,
    source === 'eventport' ? { 'WWW-Authenticate': 'Basic realm="marquee"' } : {},
  );
}

/**
 * The inbox: receives deliveries (authenticated by their source, stored durably before they are
 * acknowledged), processes them in arrival order, replays stored ones, and reports outcomes as
 * typed events (`processed`, `eventsChanged`).
 */
export class Inbox {
  /** Every source's adapter, built from its own settings. */
  readonly sources: Sources;
  /** Untyped inside; `on`, `off` and `emit` below give it its types. */
  private readonly events = new EventEmitter();
  private readonly recorder: DeliveryRecorder;
  private readonly processor: InboxProcessor;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly database: DatabaseHandle;
  private readonly gate: DurabilityGate;
  private readonly spool: DeliverySpool | null;
  private spoolTimer: NodeJS.Timeout | undefined;
  private spoolRetryMs = SPOOL_RETRY_MIN_MS;
  private importing: Promise<number> | null = null;
  private closed = false;

  constructor(options: {
    database: DatabaseHandle;
    sources: Sources;
    /** DEFAULT_DURATION_HOURS: how long an open-ended event counts as running. */
    defaultDurationHours: number;
    now: () => Date;
    logger: Logger;
    /** Names this process in change announcements to other instances. */
    instanceId: string;
    /** Where deliveries wait while the database cannot take writes; null: refuse them (503). */
    spoolDirectory?: string | null;
    /** How long one delivery's processing may take (a sync of many events included). */
    processingBudgetMs?: number;
    /** CITY_ALIASES, for matching cross-source duplicates at ingest. */
    cityAliases?: Record<string, string>;
  }) {
    this.sources = options.sources;
    this.now = options.now;
    this.logger = options.logger;
    this.database = options.database;
    this.spool = options.spoolDirectory ? new DeliverySpool(options.spoolDirectory) : null;
    const gate = new DurabilityGate(options.database);
    this.gate = gate;
    this.recorder = new DeliveryRecorder(options.database.db, gate);
    this.processor = new InboxProcessor({
      db: options.database.db,
      gate,
      sources: options.sources,
      defaultDurationHours: options.defaultDurationHours,
      now: options.now,
      logger: options.logger,
      instanceId: options.instanceId,
      budgetMs: options.processingBudgetMs,
      cityAliases:
        options.cityAliases === undefined ? undefined : new CityAliases(options.cityAliases),
      hooks: {
        onEventsChanged: (change) => this.emit('eventsChanged', change),
        onProcessed: (processed) => this.emit('processed', processed),
      },
    });
  }

  /** Calls `listener` on each `event` from now on. */
  on<K extends keyof InboxEvents>(event: K, listener: (...args: InboxEvents[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  /** Stops calling `listener` on `event`. */
  off<K extends keyof InboxEvents>(event: K, listener: (...args: InboxEvents[K]) => void): this {
    this.events.off(event, listener);
    return this;
  }

  private emit<K extends keyof InboxEvents>(event: K, ...args: InboxEvents[K]): void {
    this.events.emit(event, ...args);
  }

  /**
   * The first half of receiving, before any body is read: the source must be configured (503)
   * and the credentials of the head must hold (401). A signature over the body is checked by
   * the returned admission while the body streams in.
   */
  admit(source: SourceName, head: WebhookRequestHead): Admission {
    const adapter = this.sources[source];
    if (!adapter.isConfigured()) {
      throw new HttpError(
        503,
        `${adapter.name}: webhook not configured; set ${adapter.secretVariables.join(' or ')} to receive deliveries`,
      );
    }
    const auth = adapter.authenticate(head);
    if (auth.ok === false) throw authenticationFailed(source);
    if (auth.ok === true) {
      return { source, authenticated: true, update: () => {}, result: () => auth };
    }
    return {
      source,
      authenticated: false,
      update: (chunk) => auth.check.update(chunk),
      result: () => auth.check.result(),
    };
  }

  /**
   * The receiving use case, once the whole body was read for `admission`: authenticate, store
   * the raw delivery durably, then queue it. Anything authenticated is stored, even when it is
   * not JSON (kept as rejected, answered 400).
   */
  async receive(
    admission: Admission,
    request: ReceivedRequest,
  ): Promise<{ deliveryId: number | null }> {
    const adapter = this.sources[admission.source];
    const auth = admission.result();
    if (!auth.ok) throw authenticationFailed(admission.source);
    let payload: unknown;
    let parseError: string | null = null;
    try {
      payload = parseJsonBody(request.body);
    } catch (error) {
      parseError = `body is not JSON: ${error instanceof Error ? error.message : String(error)}`;
    }
    const contentType =
      typeof request.headers['content-type'] === 'string' ? request.headers['content-type'] : null;
    const deliveryId = await this.store({
      source: adapter.name,
      receivedAt: this.now(),
      contentType,
      headers: keptHeaders(request.headers, request.remoteAddress, auth.method),
      body: request.body,
      bodySha256: createHash('sha256').update(request.body).digest('hex'),
      status: parseError ? 'rejected' : 'pending',
      error: parseError,
      test: request.headers[TEST_DELIVERY_HEADER] === '1',
    });
    if (parseError) {
      throw new HttpError(
        400,
        `${adapter.name}: ${parseError} (kept as ${deliveryId === null ? 'a spooled delivery' : `delivery ${deliveryId}`})`,
      );
    }
    if (deliveryId !== null) this.processor.notify(deliveryId, payload);
    return { deliveryId };
  }

  /**
   * Stores a delivery durably: in the inbox, or in the spool while the database cannot take
   * writes (null then; it moves into the inbox when the database is back).
   */
  private async store(delivery: NewDelivery): Promise<number | null> {
    const { spool } = this;
    if (spool?.isHolding()) return this.holdInSpool(spool, delivery);
    try {
      return await this.recorder.recordDelivery(delivery);
    } catch (error) {
      // Without a spool (PostgreSQL) the error handler answers "try later" with a 503.
      if (!spool || !isTemporaryDatabaseFailure(error)) throw error;
      this.logger.warn({ err: error }, 'inbox: database busy; deliveries go to the spool');
      return this.holdInSpool(spool, delivery);
    }
  }

  private async holdInSpool(spool: DeliverySpool, delivery: NewDelivery): Promise<null> {
    await spool.hold(delivery);
    this.scheduleSpoolImport();
    return null;
  }

  /** Keeps trying to import what is left in the spool (the database is still busy). */
  resumeSpoolImport(): void {
    this.scheduleSpoolImport();
  }

  private scheduleSpoolImport(): void {
    if (this.spoolTimer || this.closed) return;
    this.spoolTimer = setTimeout(() => {
      this.spoolTimer = undefined;
      void this.importSpooled().then((left) => {
        if (left === 0) {
          this.spoolRetryMs = SPOOL_RETRY_MIN_MS;
          return;
        }
        this.spoolRetryMs = Math.min(this.spoolRetryMs * 2, SPOOL_RETRY_MAX_MS);
        this.scheduleSpoolImport();
      });
    }, this.spoolRetryMs);
    this.spoolTimer.unref();
  }

  /**
   * Moves spooled deliveries into the inbox, oldest first, each exactly once: a file is deleted
   * only after its row committed, and a row already imported (a crash between the two) is
   * recognised by its body hash and file name. Resolves with how many are left (the database is
   * still busy); never throws.
   */
  importSpooled(): Promise<number> {
    this.importing ??= this.importAll().finally(() => {
      this.importing = null;
    });
    return this.importing;
  }

  private async importAll(): Promise<number> {
    const { spool } = this;
    if (!spool) return 0;
    const names = spool.names();
    let imported = 0;
    try {
      for (const name of names) {
        const { delivery } = spool.read(name);
        const { db } = this.database;
        await this.gate.durable(async () => {
          const known = await findSpooledDelivery(db, delivery.bodySha256, name);
          if (known === null) await insertDeliveries(db, [delivery]);
        });
        await spool.release(name);
        imported += 1;
      }
    } catch (error) {
      if (!isTemporaryDatabaseFailure(error)) {
        this.logger.error({ err: error }, 'inbox: importing spooled deliveries failed; retrying');
      }
    }
    if (imported > 0) {
      this.logger.info({ imported }, 'inbox: spooled deliveries moved into the inbox');
      this.processor.notify();
    }
    // Deliveries spooled while these were imported wait for the next round.
    return spool.names().length;
  }

  /** Asks for processing of pending deliveries (left by a restart, or by another instance). */
  notify(): void {
    this.processor.notify();
  }

  /** Queues failed (or all) deliveries again and processes them; returns how many. */
  replay(selection: ReplaySelection): Promise<number> {
    return this.processor.replay(selection);
  }

  /** Queues one stored delivery again and processes it; false when it cannot be replayed. */
  replayDelivery(id: number): Promise<boolean> {
    return this.processor.replayDelivery(id);
  }

  /** Resolves when nothing is pending or being processed. */
  idle(): Promise<void> {
    return this.processor.idle();
  }

  /** Stops processing at its next pause (what is unfinished stays pending) and stops importing. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.spoolTimer);
    await this.processor.stop();
    await this.importing;
  }
}
