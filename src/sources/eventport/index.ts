import { matchesBasicAuth, matchesSecret, parseBasicAuth } from '../../auth/verify.js';
import { asRecord, describeIssues } from '../fields.js';
import type { SourceMessage } from '../../events/types.js';
import type { BasicCredentials } from '../../auth/verify.js';
import type { SourceAdapter } from '../types.js';
import {
  envelopeSchema,
  eventSchema,
  handlesMessageType,
  handlesVersion,
  profileSchema,
} from './schema.js';
import { normalizeEventportEvent } from './normalize.js';
import { eventportWatcher } from './watch.js';

function readEvent(
  rawEvent: unknown,
  rawProfile: unknown,
  messageType: string,
  timeZone: string,
): SourceMessage {
  const parsed = eventSchema.safeParse(rawEvent);
  if (!parsed.success) {
    const id = asRecord(rawEvent)?._id;
    return {
      kind: 'upsert',
      messageType,
      events: [],
      skipped: [
        {
          externalId:
            typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 64) : null,
          reason: describeIssues(parsed.error),
        },
      ],
    };
  }
  const profile = profileSchema.parse(rawProfile) ?? null;
  return {
    kind: 'upsert',
    messageType,
    events: [normalizeEventportEvent(parsed.data, profile, timeZone)],
    skipped: [],
  };
}

function cancelOf(rawId: unknown, messageType: string): SourceMessage {
  if (
    (typeof rawId !== 'string' && typeof rawId !== 'number') ||
    !/^[A-Za-z0-9_.:-]{1,64}$/.test(String(rawId))
  ) {
    throw new Error('eventport: cancel without a usable event _id');
  }
  return { kind: 'cancel', messageType, externalIds: [String(rawId)] };
}

export interface EventportSettings {
  /** EVENTPORT_TOKENS: accepted `accessToken` query parameters. */
  tokens: readonly string[];
  /** EVENTPORT_BASIC_AUTH: accepted HTTP Basic user:password pairs. */
  basicAuth: readonly BasicCredentials[];
  /** EVENTPORT_TIMEZONE: the zone of Eventport's local times. */
  timeZone: string;
}

/** Eventport's publisher webhook: `accessToken` or HTTP Basic; `post` and `cancel`, plus pre-1.0 forms. */
export const createEventportAdapter = (settings: EventportSettings): SourceAdapter => ({
  name: 'eventport',
  secretVariables: ['EVENTPORT_TOKENS', 'EVENTPORT_BASIC_AUTH'],

  isConfigured: () => settings.tokens.length > 0 || settings.basicAuth.length > 0,

  watch: eventportWatcher,

  authenticate(request) {
    const token = request.query.accessToken;
    if (typeof token === 'string' && matchesSecret(token, settings.tokens)) {
      return { ok: true, method: 'token' };
    }
    const authorization = request.headers.authorization;
    if (matchesBasicAuth(parseBasicAuth(authorization), settings.basicAuth)) {
      return { ok: true, method: 'basic' };
    }
    return { ok: false };
  },

  interpret(payload) {
    const body = asRecord(payload);
    if (!body) throw new Error('eventport: payload is not a JSON object');
    const { timeZone } = settings;

    // Pre-1.0: `{delete: true, _id}` cancels, a bare event object publishes or updates.
    if (body.type === undefined && body.method === undefined) {
      if (body.delete === true || body.delete === 'true')
        return cancelOf(body._id, 'legacy-delete');
      if (body._id !== undefined) return readEvent(body, null, 'legacy-event', timeZone);
      throw new Error('eventport: neither a v1.0 envelope nor a pre-1.0 event');
    }

    const envelope = envelopeSchema.safeParse(body);
    if (!envelope.success) {
      throw new Error(`eventport: envelope unreadable (${describeIssues(envelope.error)})`);
    }
    const { type, method, version } = envelope.data;
    const messageType = `${type}.${method}`;
    if (!handlesMessageType(type, method)) {
      return { kind: 'ignored', messageType, reason: `unknown type ${type} or method ${method}` };
    }
    if (!handlesVersion(version)) {
      return { kind: 'ignored', messageType, reason: `unknown version ${version}` };
    }
    const data = asRecord(envelope.data.data);
    const event = asRecord(data?.event);
    if (method === 'post') {
      if (!event) throw new Error('eventport: post without data.event');
      return readEvent(event, data?.profile, messageType, timeZone);
    }
    return cancelOf(event?._id, messageType);
  },
});
