import { z } from 'zod';
import { asRecord, jsonTextOf } from '../fields.js';
import {
  countUnreadPaths,
  IGNORED,
  readBy,
  readsPath,
  shapeOf,
  shapeOfAny,
  type PathCounts,
  type ShapeOverrides,
} from '../payload-shape.js';
import { SchemaObservation, type SchemaWatcher } from '../schema-watcher.js';
import {
  envelopeSchema,
  eventSchema,
  handlesMessageType,
  handlesVersion,
  profileSchema,
} from './schema.js';

// Private, never read (shared/specs/eventport-notes.md): not reported as unread either.
const PRIVATE_EVENT_KEYS: ShapeOverrides = {
  remark: IGNORED,
  channels: IGNORED,
  publisherReceivers: IGNORED,
  publisherReceiverGroups: IGNORED,
  userReceivers: IGNORED,
};
const PRIVATE_PROFILE_KEYS: ShapeOverrides = {
  counterparts: IGNORED,
  phone: IGNORED,
  email: IGNORED,
};

/** The v1.0 envelope: `data.event` and `data.profile` as their schemas read them. */
const envelopeShape = shapeOf(envelopeSchema, {
  data: {
    event: readBy(eventSchema, PRIVATE_EVENT_KEYS),
    profile: readBy(profileSchema, PRIVATE_PROFILE_KEYS),
  },
});

/** A v1.0 message the adapter ignores: only its envelope is compared. */
const ignoredEnvelopeShape = shapeOf(envelopeSchema, { data: IGNORED });

/** Pre-1.0: the bare event, or `{delete, _id}`. */
const legacyShape = shapeOf(eventSchema, { ...PRIVATE_EVENT_KEYS, delete: z.unknown() });

/** Every key the adapter reads in any form, to decide whether a recorded path is read now. */
const anyShape = shapeOfAny(envelopeShape, legacyShape);

/** An envelope value as text: strings as they are, a missing one `-`, others as JSON. */
function textOf(value: unknown): string {
  if (value === undefined) return '-';
  return typeof value === 'string' ? value : (jsonTextOf(value) ?? '(nested too deeply)');
}

const LEGACY_COMBINATIONS = ['pre-1.0/event', 'pre-1.0/delete'];

/** Eventport's part of the schema watch: unread keys, ignored message types, envelope forms. */
export const eventportWatcher: SchemaWatcher = {
  observe(payload) {
    const observation = new SchemaObservation();
    const body = asRecord(payload);
    if (!body) return observation;
    const paths: PathCounts = new Map();
    if (body.type === undefined && body.method === undefined) {
      const deletes = body.delete === true || body.delete === 'true';
      observation.add('combination', deletes ? 'pre-1.0/delete' : 'pre-1.0/event');
      countUnreadPaths(body, legacyShape, paths);
    } else {
      const { type, method } = body;
      const version = typeof body.version === 'number' ? String(body.version) : body.version;
      observation.add('combination', `${textOf(type)}/${textOf(method)}/${textOf(version)}`);
      const readable = typeof type === 'string' && typeof method === 'string';
      const handled = readable && handlesMessageType(type, method);
      if (readable && !handled) observation.add('message-type', `${type}.${method}`);
      const read =
        handled &&
        (version === undefined || (typeof version === 'string' && handlesVersion(version)));
      countUnreadPaths(body, read ? envelopeShape : ignoredEnvelopeShape, paths);
    }
    for (const [path, count] of paths) observation.add('path', path, count);
    return observation;
  },

  knows(kind, value) {
    switch (kind) {
      case 'path':
        return readsPath(anyShape, value);
      case 'message-type': {
        const dot = value.indexOf('.');
        return dot > 0 && handlesMessageType(value.slice(0, dot), value.slice(dot + 1));
      }
      case 'status':
        return true;
      case 'combination': {
        if (LEGACY_COMBINATIONS.includes(value)) return true;
        const [type = '', method = '', version = '-'] = value.split('/');
        return (
          handlesMessageType(type, method) && handlesVersion(version === '-' ? undefined : version)
        );
      }
    }
  },
};
