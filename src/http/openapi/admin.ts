import type { Config } from '../../config.js';
import type { StoredEventSummary } from '../../events/stored-event-list.js';
import { EVENT_ID_PATTERN } from '../../events/types.js';
import type { DeliveryDetail, DeliverySummary } from '../../inbox/inbox-repository.js';
import type { AuditEntry } from '../../operations/audit-log.js';
import type { OrganizationBlock } from '../../events/moderation.js';
import { SOURCE_NAMES } from '../../sources/index.js';
import { ADMIN_PAGE_LIMIT, DELIVERY_STATUSES, EVENT_STATUSES } from '../admin-api-handlers.js';
import type { PairRecordView, PairView } from '../admin-duplicates-handlers.js';
import {
  closedObject,
  errorResponse,
  jsonResponse,
  openApiDocument,
  orNull,
  schemaRef,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiObject,
} from './document.js';

/**
 * The OpenAPI 3.1 description of the moderation endpoints of the admin API (GET
 * /admin/api/openapi.json, behind the token like the rest): events public or not, hiding,
 * organization blocks, stored deliveries and their replay, the audit log, and the review queue
 * of duplicates across sources with unmerging. Schemas are typed by
 * the keys of what the handlers answer, so a field added there asks for its schema here.
 */

/** The path this document is served at. */
export const ADMIN_OPENAPI_PATH = '/admin/api/openapi.json';

/** The version of this description; raised when an endpoint or its JSON changes. */
export const ADMIN_API_VERSION = '1.1.0';

const dateTime: JsonSchema = { type: 'string', format: 'date-time' };

/** `schema` with a description. */
function described(schema: JsonSchema, description: string): JsonSchema {
  return typeof schema === 'object' ? { ...schema, description } : { description };
}
const text: JsonSchema = { type: 'string' };
const count: JsonSchema = { type: 'integer', minimum: 0 };
const sourceName: JsonSchema = { type: 'string', enum: [...SOURCE_NAMES] };
const visibility: JsonSchema = { type: 'string', enum: ['public', 'hidden', 'removed'] };

const storedEvent: Record<keyof StoredEventSummary, JsonSchema> = {
  id: { type: 'string', pattern: EVENT_ID_PATTERN.source },
  source: sourceName,
  externalId: text,
  title: text,
  startsAt: dateTime,
  endsAt: orNull(dateTime),
  effectiveEndAt: dateTime,
  status: { type: 'string', enum: [...EVENT_STATUSES] },
  visibility: { ...visibility, description: 'What is published.' },
  sourceVisibility: { ...visibility, description: 'What the source said.' },
  organizationId: orNull(text),
  organizerName: orNull(text),
  hiddenAt: described(orNull(dateTime), 'When an operator hid it; null when not hidden.'),
  organizationBlocked: { type: 'boolean' },
  test: { type: 'boolean', description: 'Last written by a `marquee send-test` delivery.' },
  withdrawnAt: orNull(dateTime),
  revision: { type: 'integer', minimum: 1 },
  lastChangedAt: dateTime,
  lastDeliveryId: orNull({ type: 'integer', minimum: 1 }),
};

const deliverySummary: Record<keyof DeliverySummary, JsonSchema> = {
  id: { type: 'integer', minimum: 1 },
  source: text,
  receivedAt: dateTime,
  status: { type: 'string', enum: [...DELIVERY_STATUSES] },
  messageType: orNull(text),
  bodySize: count,
  bodyRetained: { type: 'boolean', description: 'False once INBOX_RETENTION_DAYS purged it.' },
  error: orNull(text),
  attempts: count,
  processedAt: orNull(dateTime),
  test: { type: 'boolean', description: 'Sent by `marquee send-test`.' },
};

const deliveryDetail: Record<keyof DeliveryDetail, JsonSchema> = {
  ...deliverySummary,
  contentType: orNull(text),
  headers: {
    type: 'object',
    description: 'The headers kept with the delivery; never a signature, token or Authorization.',
    additionalProperties: text,
  },
  bodySha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  body: described(orNull(text), 'The raw body as UTF-8 text while retained.'),
  result: { description: 'What processing did (counts, skipped events), as stored; or null.' },
};

const auditEntry: Record<keyof AuditEntry, JsonSchema> = {
  id: { type: 'integer', minimum: 1 },
  at: dateTime,
  action: text,
  target: text,
  outcome: { type: 'string', enum: ['done', 'unchanged', 'not-found', 'refused', 'failed'] },
  detail: { description: 'Counts or a reason, or null.' },
  client: orNull(text),
};

const organizationBlock: Record<keyof OrganizationBlock, JsonSchema> = {
  source: text,
  organizationId: text,
  blockedAt: dateTime,
};

const eventId: JsonSchema = { type: 'string', pattern: EVENT_ID_PATTERN.source };

const pairRecord: Record<keyof PairRecordView, JsonSchema> = {
  id: eventId,
  source: sourceName,
  url: described(text, "The record's page (301 to the merged event once merged)."),
  title: text,
  start: dateTime,
  timeZone: text,
  venue: orNull(text),
  city: orNull(text),
  ticketUrl: orNull(text),
  status: { type: 'string', enum: [...EVENT_STATUSES] },
  visibility,
};

const duplicatePair: Record<keyof PairView, JsonSchema> = {
  id: text,
  state: { type: 'string', enum: ['open', 'merged', 'dismissed', 'unmerged'] },
  facts: described(
    { type: 'array', items: text },
    'The facts that matched: same ticket URL, same venue, minutes apart, same title.',
  ),
  note: described(orNull(text), 'On a merged pair: why it needs a person again.'),
  foundAt: dateTime,
  decidedAt: orNull(dateTime),
  decidedBy: orNull({ type: 'string', enum: ['auto', 'operator'] }),
  records: {
    type: 'array',
    description: "The ticket seller's record first.",
    items: schemaRef('PairRecord'),
    minItems: 2,
    maxItems: 2,
  },
};

const page = (items: string, schema: string): JsonSchema =>
  closedObject({
    total: count,
    limit: { type: 'integer', minimum: 1, maximum: ADMIN_PAGE_LIMIT },
    offset: count,
    [items]: { type: 'array', items: schemaRef(schema) },
  });

const outcome: JsonSchema = {
  type: 'string',
  enum: ['done', 'unchanged'],
  description: '`unchanged`: it already was so.',
};

const schemas: Record<string, JsonSchema> = {
  StoredEvent: closedObject(storedEvent, { description: 'A stored event, public or not.' }),
  StoredEventPage: page('events', 'StoredEvent'),
  EventAction: closedObject({
    event: text,
    action: { type: 'string', enum: ['hide', 'unhide'] },
    outcome,
    changed: { ...count, description: 'Events whose publication changed.' },
  }),
  OrganizationBlock: closedObject(organizationBlock),
  Organizations: closedObject({
    organizations: {
      type: 'array',
      items: closedObject({
        source: text,
        id: text,
        name: orNull(text),
        lastSyncAt: orNull(dateTime),
        blocked: { type: 'boolean' },
      }),
    },
    blocks: { type: 'array', items: schemaRef('OrganizationBlock') },
  }),
  OrganizationAction: closedObject({
    source: sourceName,
    organization: text,
    action: { type: 'string', enum: ['block', 'unblock'] },
    outcome,
    changed: count,
  }),
  Delivery: closedObject(deliverySummary),
  DeliveryPage: page('deliveries', 'Delivery'),
  DeliveryDetail: closedObject(deliveryDetail),
  Replay: closedObject({
    delivery: { type: 'integer', minimum: 1 },
    action: { const: 'replay' },
    outcome: { const: 'done' },
    status: orNull({ type: 'string', enum: [...DELIVERY_STATUSES] }),
    error: orNull(text),
    result: { description: 'What processing did, as stored.' },
  }),
  AuditEntry: closedObject(auditEntry),
  AuditPage: page('entries', 'AuditEntry'),
  PairRecord: closedObject(pairRecord),
  DuplicatePair: closedObject(duplicatePair, { description: 'Two records that may be one show.' }),
  DuplicateQueue: closedObject({ pairs: { type: 'array', items: schemaRef('DuplicatePair') } }),
  PairMerged: closedObject({
    pair: text,
    state: { const: 'merged' },
    primaryId: described(eventId, 'The published event: its id, page and UID stay.'),
    memberId: described(eventId, 'The record merged into it.'),
  }),
  PairDismissed: closedObject({ pair: text, state: { const: 'dismissed' } }),
  EventUnmerged: closedObject({
    state: { const: 'unmerged' },
    primaryId: eventId,
    memberId: eventId,
  }),
};

const paging: OpenApiObject[] = [
  {
    name: 'limit',
    in: 'query',
    description: 'Items per page.',
    schema: { type: 'integer', minimum: 1, maximum: ADMIN_PAGE_LIMIT, default: 50 },
  },
  {
    name: 'offset',
    in: 'query',
    description: 'Items to skip.',
    schema: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  },
];

const flag = (name: string, description: string): OpenApiObject => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', enum: ['true', 'false'] },
});

const pathParameter = (name: string, schema: JsonSchema, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});

const EVENT_ID = pathParameter('id', text, 'The event id (`<source>-<external id>`).');
const PAIR_ID = pathParameter('id', text, 'A pair id, as the queue lists it.');
const DELIVERY_ID = pathParameter(
  'id',
  { type: 'string', pattern: '^[1-9][0-9]*$' },
  'A delivery id.',
);
const ORGANIZATION = [
  pathParameter('source', sourceName, 'The source.'),
  pathParameter(
    'organizationId',
    { type: 'string', maxLength: 200 },
    "The source's organization id.",
  ),
];

/** What every operation may answer besides its own. */
const COMMON: Record<string, OpenApiObject> = {
  401: {
    description: 'No `Authorization: Bearer` header, or a wrong token (Basic is refused here).',
    headers: { 'WWW-Authenticate': { schema: { const: 'Bearer realm="marquee admin"' } } },
    content: { 'application/json': { schema: schemaRef('Error') } },
  },
  429: errorResponse('Too many wrong tokens from this client in the last minute.'),
  503: errorResponse('The database is unavailable for the moment; retry.'),
};

function operation(
  operationId: string,
  summary: string,
  responses: Record<string, OpenApiObject>,
  parameters: OpenApiObject[] = [],
): OpenApiObject {
  return {
    operationId,
    summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    responses: { ...responses, ...COMMON },
  };
}

const BAD_PARAMETER = errorResponse('A parameter is unknown or malformed; the message names it.');

/** The OpenAPI 3.1 document of the admin API's moderation endpoints of the site `config` describes. */
export function adminApiDocument(config: Pick<Config, 'publicUrl' | 'siteTitle'>): OpenApiDocument {
  const document = openApiDocument({
    title: `${config.siteTitle} admin API`,
    version: ADMIN_API_VERSION,
    description:
      'Moderation of what a Marquee site publishes, its stored deliveries and the audit log. Every request needs `Authorization: Bearer <ADMIN_TOKEN>` (no Basic, no cookie); answers are JSON with `Cache-Control: no-store`. Every action lands in the audit log.',
    serverUrl: config.publicUrl,
    paths: {
      '/admin/api/events': {
        get: operation(
          'listStoredEvents',
          'Every stored event, public or not, latest start first',
          {
            200: jsonResponse('A page of events.', schemaRef('StoredEventPage')),
            400: BAD_PARAMETER,
          },
          [
            {
              name: 'q',
              in: 'query',
              description: 'Words that must all occur (as the public `q`).',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
            { name: 'source', in: 'query', schema: sourceName },
            { name: 'status', in: 'query', schema: { type: 'string', enum: [...EVENT_STATUSES] } },
            flag('hidden', '`true`: only events an operator hid; `false`: only the others.'),
            ...paging,
          ],
        ),
      },
      '/admin/api/events/{id}/hide': {
        post: operation(
          'hideEvent',
          'Take an event out of every public output (calendars keep a tombstone)',
          {
            200: jsonResponse('Done, or it already was hidden.', schemaRef('EventAction')),
            404: errorResponse('No such event.'),
          },
          [EVENT_ID],
        ),
      },
      '/admin/api/events/{id}/unhide': {
        post: operation(
          'unhideEvent',
          'Publish a hidden event again as its source says',
          {
            200: jsonResponse('Done, or it was not hidden.', schemaRef('EventAction')),
            404: errorResponse('No such event.'),
          },
          [EVENT_ID],
        ),
      },
      '/admin/api/organizations': {
        get: operation('listOrganizations', 'Organizations seen in syncs, and every block', {
          200: jsonResponse('The organizations.', schemaRef('Organizations')),
        }),
      },
      '/admin/api/organizations/{source}/{organizationId}/block': {
        post: operation(
          'blockOrganization',
          'Withhold every event of an organization, later deliveries included',
          {
            200: jsonResponse('Done, or it already was blocked.', schemaRef('OrganizationAction')),
            400: BAD_PARAMETER,
            404: errorResponse('No such source.'),
          },
          ORGANIZATION,
        ),
      },
      '/admin/api/organizations/{source}/{organizationId}/unblock': {
        post: operation(
          'unblockOrganization',
          'Lift a block',
          {
            200: jsonResponse('Done, or it was not blocked.', schemaRef('OrganizationAction')),
            400: BAD_PARAMETER,
            404: errorResponse('No such source.'),
          },
          ORGANIZATION,
        ),
      },
      '/admin/api/deliveries': {
        get: operation(
          'listDeliveries',
          'Stored deliveries, newest first',
          {
            200: jsonResponse('A page of deliveries.', schemaRef('DeliveryPage')),
            400: BAD_PARAMETER,
          },
          [
            { name: 'source', in: 'query', schema: sourceName },
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string', enum: [...DELIVERY_STATUSES] },
            },
            {
              name: 'messageType',
              in: 'query',
              description: 'Exact message type, such as `ORGANIZATION_SYNC`.',
              schema: { type: 'string', minLength: 1, maxLength: 200 },
            },
            flag('test', '`true`: only `marquee send-test` deliveries; `false`: only real ones.'),
            ...paging,
          ],
        ),
      },
      '/admin/api/deliveries/{id}': {
        get: operation(
          'getDelivery',
          'One delivery, with its raw body while retained',
          {
            200: jsonResponse('The delivery.', schemaRef('DeliveryDetail')),
            404: errorResponse('No such delivery.'),
          },
          [DELIVERY_ID],
        ),
      },
      '/admin/api/deliveries/{id}/replay': {
        post: operation(
          'replayDelivery',
          'Process one delivery again',
          {
            200: jsonResponse('Processed; its new status.', schemaRef('Replay')),
            404: errorResponse('No such delivery.'),
            409: errorResponse('Its body was purged, or it was rejected as not JSON.'),
          },
          [DELIVERY_ID],
        ),
      },
      '/admin/api/audit': {
        get: operation(
          'listAudit',
          'The audit log, newest first',
          {
            200: jsonResponse('A page of entries.', schemaRef('AuditPage')),
            400: BAD_PARAMETER,
          },
          paging,
        ),
      },
      '/admin/api/duplicates': {
        get: operation('listDuplicateQueue', 'Possible duplicates waiting for a person', {
          200: jsonResponse(
            'Open pairs, and merged pairs flagged by a cancellation.',
            schemaRef('DuplicateQueue'),
          ),
        }),
      },
      '/admin/api/duplicates/{id}': {
        get: operation(
          'getDuplicatePair',
          'One pair, in any state',
          {
            200: jsonResponse('The pair.', schemaRef('DuplicatePair')),
            404: errorResponse('No such pair.'),
          },
          [PAIR_ID],
        ),
      },
      '/admin/api/duplicates/{id}/merge': {
        post: operation(
          'mergeDuplicatePair',
          'Publish the two records as one event (the one published first keeps its identity)',
          {
            200: jsonResponse(
              'Merged, or a flagged merged pair acknowledged.',
              schemaRef('PairMerged'),
            ),
            404: errorResponse('No such pair.'),
            409: errorResponse('A record of the pair is gone or merged with another.'),
          },
          [PAIR_ID],
        ),
      },
      '/admin/api/duplicates/{id}/dismiss': {
        post: operation(
          'dismissDuplicatePair',
          'Keep the two records apart, never proposed again',
          {
            200: jsonResponse('Dismissed.', schemaRef('PairDismissed')),
            404: errorResponse('No such pair.'),
            409: errorResponse('The pair is merged: unmerge its event instead.'),
          },
          [PAIR_ID],
        ),
      },
      '/admin/api/events/{id}/unmerge': {
        post: operation(
          'unmergeEvent',
          'Show both records of a merged event again, never merged automatically again',
          {
            200: jsonResponse('Separated.', schemaRef('EventUnmerged')),
            404: errorResponse('The event is not merged.'),
          },
          [EVENT_ID],
        ),
      },
      [ADMIN_OPENAPI_PATH]: {
        get: operation('adminOpenApiDocument', 'This description', {
          200: jsonResponse('The OpenAPI 3.1 document.', { type: 'object' }),
          304: { description: 'Not modified (If-None-Match matched the ETag).' },
        }),
      },
    },
    schemas,
    components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
  });
  return { ...document, security: [{ adminToken: [] }] };
}
