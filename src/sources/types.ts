import type { IncomingHttpHeaders } from 'node:http';
import type { SourceMessage, SourceName } from '../events/types.js';
import type { SchemaWatcher } from './schema-watcher.js';

/** What a webhook request carries before its body: enough to refuse most strangers unread. */
export interface WebhookRequestHead {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
}

export type AuthResult = { ok: true; method: string } | { ok: false };

/** A credential proven by the body (a signature over it), fed while the body streams in. */
export interface BodyCheck {
  /** Feeds the next chunk of the body. */
  update(chunk: Buffer): void;
  /** The outcome once the whole body was fed. */
  result(): AuthResult;
}

/** The outcome of the checks made before the body: decided, or left to a check of the body. */
export type HeadAuthResult = AuthResult | { ok: 'body'; check: BodyCheck };

export interface InterpretContext {
  receivedAt: Date;
  /**
   * What else than the raw copy the stored event depends on (settings of the processing, such
   * as DEFAULT_DURATION_HOURS): part of each copy's hash, so that a change of them reads every
   * copy again.
   */
  sourceHashSeed?: string;
}

/**
 * What a stepped reading may ask its caller between steps: the stored raw-copy hashes of these
 * events (external ids), answered as a map of those that have one. A copy hashing as the
 * stored one is not read again. Callers that cannot look them up answer nothing.
 */
export interface SourceLookup {
  sourceHashesOf: readonly string[];
  /**
   * The organization the events belong to, when the message names one: its stored hashes are
   * then read in one statement (an event stored under another organization is read again).
   */
  organizationId?: string;
}

/** The answer to a SourceLookup: stored raw-copy hashes by external id. */
export type StoredSourceHashes = ReadonlyMap<string, string>;

/** A reading in steps: it yields to pause or to ask for stored hashes; returns the message. */
export type InterpretSteps = Generator<
  void | SourceLookup,
  SourceMessage,
  StoredSourceHashes | undefined
>;

/** One webhook source, built from its own settings: how it authenticates, how payloads become events. */
export interface SourceAdapter {
  name: SourceName;
  /** Environment variables that configure its secrets, named in the 503 when none is set. */
  secretVariables: readonly string[];
  /** True when it has a secret to check deliveries against. */
  isConfigured(): boolean;
  /** What its payloads hold beyond what it reads (the schema watch). */
  watch: SchemaWatcher;
  /**
   * Checks the credentials the request's head carries, before any body is read; a signature
   * over the body is left to the returned check. Never throws.
   */
  authenticate(request: WebhookRequestHead): HeadAuthResult;
  /**
   * Reads a parsed JSON payload. Never throws for bad content: a bad event is skipped with its
   * reason; a message that cannot be read at all throws an Error whose message is recorded.
   */
  interpret(payload: unknown, context: InterpretContext): SourceMessage;
  /**
   * The same reading in steps, for messages that may list thousands of events: it yields after
   * every few events so that the caller can let other work run; returns the message.
   */
  interpretSteps?(payload: unknown, context: InterpretContext): InterpretSteps;
}

/** Runs an interpretation's steps to the end, without pausing or looking anything up. */
export function runSteps<T>(
  steps: Generator<void | SourceLookup, T, StoredSourceHashes | undefined>,
): T {
  for (;;) {
    const step = steps.next(undefined);
    if (step.done) return step.value;
  }
}
