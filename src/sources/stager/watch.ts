import { asRecord, jsonTextOf } from '../fields.js';
import {
  countUnreadPaths,
  IGNORED,
  listShape,
  readBy,
  readsPath,
  shapeOf,
  type PathCounts,
} from '../payload-shape.js';
import { SchemaObservation, type SchemaWatcher } from '../schema-watcher.js';
import { STAGER_STATUSES } from './normalize.js';
import { contentSchema, envelopeSchema, eventSchema, STAGER_MESSAGE_TYPES } from './schema.js';

/** The keys the adapter reads: the envelope, the content and each event, from their schemas. */
const readShape = shapeOf(envelopeSchema, {
  messageContent: readBy(contentSchema, { events: listShape(eventSchema) }),
});

/** An unknown message type's content is not read at all: only its envelope is compared. */
const envelopeShape = shapeOf(envelopeSchema, { messageContent: IGNORED });

const statusSchema = eventSchema.shape.status;

/** The status as the adapter reads it (upper snake case), or the JSON of a value that is no text. */
function statusOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') return jsonTextOf(value) ?? '(nested too deeply)';
  // Most statuses arrive as the contract spells them: no parse needed.
  if (STAGER_STATUSES.includes(value)) return value;
  return statusSchema.parse(value) ?? null;
}

/** Stager's part of the schema watch: unread keys, unknown message types, unknown statuses. */
export const stagerWatcher: SchemaWatcher = {
  observe(payload) {
    const observation = new SchemaObservation();
    const paths: PathCounts = new Map();
    const envelope = asRecord(payload);
    const messageType = envelope?.messageType;
    const knownType = typeof messageType === 'string' && STAGER_MESSAGE_TYPES.includes(messageType);
    if (typeof messageType === 'string' && !knownType) {
      observation.add('message-type', messageType);
    }
    countUnreadPaths(payload, knownType ? readShape : envelopeShape, paths);
    for (const [path, count] of paths) observation.add('path', path, count);
    const events = asRecord(envelope?.messageContent)?.events;
    if (knownType && Array.isArray(events)) {
      for (const event of events) {
        const status = statusOf(asRecord(event)?.status);
        if (status !== null && !STAGER_STATUSES.includes(status)) {
          observation.add('status', status);
        }
      }
    }
    return observation;
  },

  knows(kind, value) {
    switch (kind) {
      case 'path':
        return readsPath(readShape, value);
      case 'message-type':
        return STAGER_MESSAGE_TYPES.includes(value);
      case 'status':
        return STAGER_STATUSES.includes(value);
      case 'combination':
        return true;
    }
  },
};
