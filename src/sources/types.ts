import type { IncomingHttpHeaders } from 'node:http';
import type { SourceMessage, SourceName } from '../events/types.js';

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: Buffer;
}

export type AuthResult = { ok: true; method: string } | { ok: false };

export interface InterpretContext {
  receivedAt: Date;
}

/** One webhook source, built from its own settings: how it authenticates, how payloads become events. */
export interface SourceAdapter {
  name: SourceName;
  /** Environment variables that configure its secrets, named in the 503 when none is set. */
  secretVariables: readonly string[];
  /** True when it has a secret to check deliveries against. */
  isConfigured(): boolean;
  /** Checks the request's credentials; never throws. */
  authenticate(request: WebhookRequest): AuthResult;
  /**
   * Reads a parsed JSON payload. Never throws for bad content: a bad event is skipped with its
   * reason; a message that cannot be read at all throws an Error whose message is recorded.
   */
  interpret(payload: unknown, context: InterpretContext): SourceMessage;
  /**
   * The same reading in steps, for messages that may list thousands of events: it yields after
   * every few events so that the caller can let other work run; returns the message.
   */
  interpretSteps?(payload: unknown, context: InterpretContext): Generator<void, SourceMessage>;
}

/** Runs an interpretation's steps to the end, without pausing. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
