import { hash } from 'node:crypto';
import { createSignatureVerifier } from '../../auth/verify.js';
import type { NormalizedEvent, SkippedEvent } from '../../events/types.js';
import { asRecord, describeIssues, jsonTextOf } from '../fields.js';
import { runSteps, type InterpretSteps, type SourceAdapter } from '../types.js';
import { contentSchema, envelopeSchema, eventSchema, STAGER_MESSAGE_TYPES } from './schema.js';
import { normalizeStagerEvent } from './normalize.js';
import { stagerWatcher } from './watch.js';

const KNOWN_TYPES = new Set(STAGER_MESSAGE_TYPES);
/** Events read between two steps of `interpretSteps` (a few milliseconds of work). */
const EVENTS_PER_STEP = 10;
/**
 * Part of every raw copy's hash: raise it when schema.ts or normalize.ts read the same copy
 * differently, so that syncs read unchanged copies again (`marquee replay` always does).
 */
const READING_VERSION = 1;

/** The external id a raw event names, before it is validated; null when it names none. */
function rawExternalId(raw: unknown): string | null {
  const id = asRecord(raw)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id).trim() : null;
}

export interface StagerSettings {
  /** STAGER_SIGNING_KEYS: every key a delivery may be signed with. */
  signingKeys: readonly string[];
  /** TIMEZONE: the zone of Stager's local times. */
  timeZone: string;
}

/** Stager's partner push feed: HMAC-signed `UPDATE_EVENTS` and nightly `ORGANIZATION_SYNC`. */
export const createStagerAdapter = (settings: StagerSettings): SourceAdapter => ({
  name: 'stager',
  secretVariables: ['STAGER_SIGNING_KEYS'],

  isConfigured: () => settings.signingKeys.length > 0,

  watch: stagerWatcher,

  authenticate(request) {
    const header = request.headers['x-signature'];
    const value = Array.isArray(header) ? undefined : header;
    // An absent or unreadable signature is refused before the body; a readable one is checked
    // while the body streams in, so a wrong one costs no memory beyond the read itself.
    const verifier = createSignatureVerifier(value, settings.signingKeys);
    if (!verifier) return { ok: false };
    return {
      ok: 'body',
      check: {
        update: (chunk) => verifier.update(chunk),
        result: () => (verifier.matches() ? { ok: true, method: 'signature' } : { ok: false }),
      },
    };
  },

  interpret(payload, context) {
    return runSteps(this.interpretSteps!(payload, context));
  },

  *interpretSteps(payload, context): InterpretSteps {
    const envelope = envelopeSchema.safeParse(payload);
    if (!envelope.success) {
      throw new Error(`stager: not a push-feed envelope (${describeIssues(envelope.error)})`);
    }
    const { messageType } = envelope.data;
    if (!KNOWN_TYPES.has(messageType)) {
      return { kind: 'ignored', messageType, reason: `unknown message type ${messageType}` };
    }
    const content = contentSchema.safeParse(envelope.data.messageContent);
    if (!content.success) {
      throw new Error(
        `stager: ${messageType} content unreadable (${describeIssues(content.error)})`,
      );
    }
    const organization = content.data.organization;
    const raws = content.data.events;
    // An event listed more than once is always read: the last copy wins, as ingest decides.
    const listings = new Map<string, number>();
    for (const raw of raws) {
      const id = rawExternalId(raw);
      if (id !== null) listings.set(id, (listings.get(id) ?? 0) + 1);
    }
    const stored =
      (yield { sourceHashesOf: [...listings.keys()], organizationId: organization.id }) ??
      new Map<string, string>();
    // What the reading depends on besides the copy: the reading itself, its settings, the
    // message's organization and the processing's settings.
    const seed = JSON.stringify([
      READING_VERSION,
      settings.timeZone,
      organization,
      context.sourceHashSeed ?? '',
    ]);
    const events: NormalizedEvent[] = [];
    const skipped: SkippedEvent[] = [];
    const unchanged: string[] = [];
    for (const [index, raw] of raws.entries()) {
      if (index % EVENTS_PER_STEP === EVENTS_PER_STEP - 1) yield;
      const id = rawExternalId(raw);
      // A copy too deeply nested to hash is read every time, never skipped as unchanged.
      const rawText = jsonTextOf(raw);
      const sourceHash =
        rawText === null ? undefined : hash('sha256', `${seed}${rawText}`, 'base64url');
      if (
        id !== null &&
        sourceHash !== undefined &&
        listings.get(id) === 1 &&
        stored.get(id) === sourceHash
      ) {
        unchanged.push(id);
        continue;
      }
      const parsed = eventSchema.safeParse(raw);
      if (parsed.success) {
        events.push({
          ...normalizeStagerEvent(parsed.data, organization, settings.timeZone),
          sourceHash,
        });
      } else {
        const rawId = asRecord(raw)?.id;
        skipped.push({
          externalId:
            typeof rawId === 'string' || typeof rawId === 'number'
              ? String(rawId).slice(0, 64)
              : null,
          reason: describeIssues(parsed.error),
        });
      }
    }
    return messageType === 'ORGANIZATION_SYNC'
      ? { kind: 'sync', messageType, organization, events, skipped, unchanged }
      : { kind: 'upsert', messageType, events, skipped, unchanged };
  },
});
