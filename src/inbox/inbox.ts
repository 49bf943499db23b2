import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/connection.js';
import { DurabilityGate } from '../db/durability.js';
import type { SourceName } from '../events/types.js';
import { HttpError } from '../errors.js';
import type { Sources } from '../sources/index.js';
import type { AuthResult, WebhookRequestHead } from '../sources/types.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import type { ReplaySelection } from './inbox-repository.js';
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

  constructor(options: {
    database: DatabaseHandle;
    sources: Sources;
    /** DEFAULT_DURATION_HOURS: how long an open-ended event counts as running. */
    defaultDurationHours: number;
    now: () => Date;
    logger: Logger;
    /** Names this process in change announcements to other instances. */
    instanceId: string;
  }) {
    this.sources = options.sources;
    this.now = options.now;
    const gate = new DurabilityGate(options.database);
    this.recorder = new DeliveryRecorder(options.database.db, gate);
    this.processor = new InboxProcessor({
      db: options.database.db,
      gate,
      sources: options.sources,
      defaultDurationHours: options.defaultDurationHours,
      now: options.now,
      logger: options.logger,
      instanceId: options.instanceId,
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
  async receive(admission: Admission, request: ReceivedRequest): Promise<{ deliveryId: number }> {
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
    const deliveryId = await this.recorder.recordDelivery({
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
      throw new HttpError(400, `${adapter.name}: ${parseError} (kept as delivery ${deliveryId})`);
    }
    this.processor.notify(deliveryId, payload);
    return { deliveryId };
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

  /** Finishes the delivery being processed and stops taking new ones. */
  stop(): Promise<void> {
    return this.processor.stop();
  }
}
