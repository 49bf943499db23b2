import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config.js';
import type { NormalizedEvent, SourceName } from '../events/types.js';

/** An event of a message that could not be normalized, with the reason kept in the inbox. */
export interface SkippedEvent {
  externalId: string | null;
  reason: string;
}

/** What a delivery asks Marquee to do, once its source's adapter has read it. */
export type SourceMessage =
  | {
      kind: 'upsert';
      messageType: string;
      events: NormalizedEvent[];
      skipped: SkippedEvent[];
    }
  | {
      /** The authoritative list of an organization's upcoming events. */
      kind: 'sync';
      messageType: string;
      organization: { id: string; name: string | null };
      events: NormalizedEvent[];
      skipped: SkippedEvent[];
    }
  | { kind: 'cancel'; messageType: string; externalIds: string[] }
  | { kind: 'ignored'; messageType: string | null; reason: string };

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: Buffer;
}

export type AuthResult = { ok: true; method: string } | { ok: false };

export interface InterpretContext {
  receivedAt: Date;
}

/** One webhook source: how it authenticates and how its payloads become events. */
export interface SourceAdapter {
  name: SourceName;
  /** Environment variables that configure its secrets, named in the 503 when none is set. */
  secretVariables: readonly string[];
  isConfigured(config: Config): boolean;
  /** Checks the request's credentials; never throws. */
  authenticate(request: WebhookRequest, config: Config): AuthResult;
  /**
   * Reads a parsed JSON payload. Never throws for bad content: a bad event is skipped with its
   * reason; a message that cannot be read at all throws an Error whose message is recorded.
   */
  interpret(payload: unknown, context: InterpretContext, config: Config): SourceMessage;
}
