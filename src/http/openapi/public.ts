import type { Config } from '../../config.js';
import {
  CANCELLED_DISPLAYS,
  DEFAULT_RADIUS_KM,
  EVENT_ORDERS,
  FILTER_PARAMETERS,
  MAX_DAYS,
  MAX_LIMIT,
  MAX_OFFSET,
  MAX_RADIUS_KM,
  MAX_VALUE_LENGTH,
  MAX_VALUES,
} from '../../events/filter.js';
import type { EventStatus, Organizer, Price, Venue } from '../../events/types.js';
import { EVENT_ID_PATTERN } from '../../events/types.js';
import { SHORT_FEED_ID_PATTERN } from '../../events/short-feeds.js';
import type { PublicEvent } from '../../render/api.js';
import { CHANGE_KIND_WORDS } from '../../render/change-words.js';
import { SOURCE_NAMES } from '../../sources/index.js';
import { CHANGE_FEED_DEFAULT_LIMIT, CHANGE_FEED_FORMATS } from '../change-feed-handlers.js';
import { FEED_FORMATS, shortFeedPath } from '../feed-handlers.js';
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
 * The OpenAPI 3.1 description of Marquee's public JSON endpoints (GET /api/openapi.json): the
 * events API, the JSON Feeds of events and of changes, the health check and this document. Query parameters come from the
 * filter grammar (events/filter.ts): its parameter list, limits and accepted values.
 */

/** The path this document is served at. */
export const PUBLIC_OPENAPI_PATH = '/api/openapi.json';

/** The version of this description; raised when a public endpoint or its JSON changes. */
export const PUBLIC_API_VERSION = '1.1.0';

type FilterParameter = (typeof FILTER_PARAMETERS)[number];

const STATUSES: Record<EventStatus, string> = {
  scheduled: 'takes place as announced',
  cancelled: 'cancelled by its organizer (still listed until it would have ended)',
  rescheduled: 'moved to another time (`previousStart` holds the earlier start when known)',
  relocated: 'moved to another venue',
};

const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
const text: JsonSchema = { type: 'string' };

/** A list parameter: repeated and/or comma-separated values, OR within, AND across parameters. */
function listParameter(
  name: FilterParameter,
  description: string,
  items: { [keyword: string]: unknown } = { type: 'string' },
): OpenApiObject {
  return {
    name,
    in: 'query',
    description: `${description} Repeat the parameter or separate values with commas (a value with a comma in double quotes, \`"Rock, Pop"\`); any value may match. At most ${MAX_VALUES} values of at most ${MAX_VALUE_LENGTH} characters.`,
    style: 'form',
    explode: true,
    schema: {
      type: 'array',
      maxItems: MAX_VALUES,
      items: { maxLength: MAX_VALUE_LENGTH, ...items },
    },
  };
}

function singleParameter(
  name: FilterParameter,
  description: string,
  schema: JsonSchema,
): OpenApiObject {
  return { name, in: 'query', description, schema };
}

const DATE_FORMS =
  'A date (`2026-12-05`: that whole day in the site time zone), a local date-time (`2026-12-05T20:00`, in the site time zone) or a date-time with offset (`2026-12-05T20:00:00+01:00`, `…Z`).';

/** Every filter parameter, typed by the filter's own list: a new one does not compile undocumented. */
function filterParameters(defaultLimit: number): Record<FilterParameter, OpenApiObject> {
  return {
    city: listParameter(
      'city',
      "The venue's city; case- and accent-insensitive (`munchen` finds München), plus the site's city aliases.",
    ),
    genre: listParameter('genre', "One of the event's genres."),
    organizer: listParameter(
      'organizer',
      "The organizer's name, or the source's organizer or organization id.",
    ),
    venue: listParameter('venue', "The venue's name."),
    source: listParameter('source', 'The source that delivered the event.', {
      type: 'string',
      enum: [...SOURCE_NAMES],
    }),
    from: singleParameter('from', `Events not ended before this moment. ${DATE_FORMS}`, {
      type: 'string',
      examples: ['2026-12-05', '2026-12-05T20:00', '2026-12-05T20:00:00+01:00'],
    }),
    to: singleParameter(
      'to',
      `Events starting before this moment (a date includes events starting that day). ${DATE_FORMS}`,
      { type: 'string', examples: ['2026-12-31'] },
    ),
    q: listParameter(
      'q',
      'Free text: every word appears in the title, subtitle, description, venue or organizer.',
    ),
    cancelled: singleParameter(
      'cancelled',
      'Only for calendars (`.ics`): `visible` shows cancelled and removed events as confirmed, with the title prefix. Other outputs are the same with or without it.',
      { type: 'string', enum: CANCELLED_DISPLAYS.filter((value) => value !== 'status') },
    ),
    days: singleParameter(
      'days',
      'Events that start before the end of the N-th calendar day in the site time zone, today being the first; counted at each request.',
      { type: 'integer', minimum: 1, maximum: MAX_DAYS },
    ),
    order: singleParameter(
      'order',
      '`start`: by start time. `announced`: newest first by the time Marquee first saw the event (`firstSeenAt`).',
      { type: 'string', enum: [...EVENT_ORDERS], default: 'start' },
    ),
    near: singleParameter(
      'near',
      '`<latitude>,<longitude>` in decimal degrees (WGS 84): only events whose venue lies within `radius` km. Events without venue coordinates never match.',
      {
        type: 'string',
        pattern: '^\\s*[-+]?(\\d+(\\.\\d*)?|\\.\\d+)\\s*,\\s*[-+]?(\\d+(\\.\\d*)?|\\.\\d+)\\s*$',
        examples: ['52.37,4.89'],
      },
    ),
    radius: singleParameter('radius', 'Kilometres around `near`; only with `near`.', {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: MAX_RADIUS_KM,
      default: DEFAULT_RADIUS_KM,
    }),
    limit: singleParameter('limit', 'Page size.', {
      type: 'integer',
      minimum: 1,
      maximum: MAX_LIMIT,
      default: defaultLimit,
    }),
    offset: singleParameter('offset', 'How many events of the result to skip.', {
      type: 'integer',
      minimum: 0,
      maximum: MAX_OFFSET,
      default: 0,
    }),
  };
}

const FEED_HEADERS = [
  'ETag',
  'Last-Modified',
  'Cache-Control',
  'Access-Control-Allow-Origin',
] as const;

const HEADERS: Record<(typeof FEED_HEADERS)[number], OpenApiObject> = {
  ETag: {
    description:
      'A strong tag of the exact bytes (per content encoding); send it as If-None-Match.',
    schema: text,
  },
  'Last-Modified': {
    description:
      'The newest change that touched the result (never moving backwards); send it as If-Modified-Since.',
    schema: text,
  },
  'Cache-Control': { description: 'The site setting FEED_CACHE_CONTROL.', schema: text },
  'Access-Control-Allow-Origin': { description: 'Always `*`.', schema: { const: '*' } },
};

const venueSchema = closedObject({
  name: orNull(text),
  street: orNull(text),
  postalCode: orNull(text),
  city: orNull(text),
  country: orNull(text),
  latitude: orNull({ type: 'number', minimum: -90, maximum: 90 }),
  longitude: orNull({ type: 'number', minimum: -180, maximum: 180 }),
} satisfies Record<keyof Venue, JsonSchema>);

const priceSchema = closedObject({
  amount: { type: 'number', description: "In the currency's major unit (euros, not cents)." },
  currency: { type: 'string', description: 'ISO 4217 code, such as `EUR`.' },
  label: orNull({ type: 'string', description: 'The source\'s name for it: "Pre-sale".' }),
} satisfies Record<keyof Price, JsonSchema>);

const eventProperties = {
  id: {
    type: 'string',
    pattern: EVENT_ID_PATTERN.source,
    description: 'The source and its event id, stable forever: `stager-583920`.',
  },
  source: { type: 'string', enum: [...SOURCE_NAMES] },
  url: { type: 'string', format: 'uri', description: "The event's page on this site." },
  icsUrl: { type: 'string', format: 'uri', description: 'The event alone as iCalendar.' },
  title: text,
  subtitle: orNull(text),
  description: closedObject({
    text: orNull({ type: 'string', description: 'Plain text.' }),
    html: orNull({ type: 'string', description: 'Sanitized HTML.' }),
  }),
  start: dateTime,
  end: orNull({ ...dateTime, description: 'Null when the event is open-ended.' }),
  doorsOpen: orNull(dateTime),
  previousStart: orNull({ ...dateTime, description: 'The start before a reschedule.' }),
  timeZone: { type: 'string', description: 'The IANA zone the event takes place in.' },
  status: {
    type: 'string',
    enum: Object.keys(STATUSES),
    description: Object.entries(STATUSES)
      .map(([status, meaning]) => `\`${status}\`: ${meaning}`)
      .join('; '),
  },
  venue: schemaRef('Venue'),
  city: orNull({ type: 'string', description: "The venue's city." }),
  genres: { type: 'array', items: text },
  tags: { type: 'array', items: text },
  organizer: closedObject({
    id: orNull(text),
    name: orNull(text),
    url: orNull({
      type: 'string',
      format: 'uri',
      description: "The organizer's web site; http(s) only.",
    }),
    city: orNull(text),
  } satisfies Record<keyof Organizer, JsonSchema>),
  ticketUrl: orNull({
    type: 'string',
    format: 'uri',
    description: 'The ticket shop; http(s) only (a link of another scheme is null).',
  }),
  prices: { type: 'array', items: schemaRef('Price') },
  soldOut: { type: 'boolean' },
  image: orNull(closedObject({ url: text, alt: orNull(text) })),
  revision: {
    type: 'integer',
    minimum: 1,
    description: 'Raised with every change (the SEQUENCE of calendars).',
  },
  firstSeenAt: { ...dateTime, description: 'When Marquee first received the event.' },
  lastChangedAt: { ...dateTime, description: 'When its public content last changed.' },
  sources: {
    type: 'array',
    items: schemaRef('EventSource'),
    description:
      "Every source record the event is made of, its own first: more than one when another source's listing of the same show was merged into it.",
  },
} satisfies Record<keyof PublicEvent, JsonSchema>;

/** A JSON Feed 1.1 document whose items are the schema `itemSchema`: the events and changes feeds. */
function jsonFeedDocument(
  itemSchema: string,
  options: { description: string; optional: readonly string[] },
): JsonSchema {
  return closedObject(
    {
      version: { const: 'https://jsonfeed.org/version/1.1' },
      title: text,
      home_page_url: { type: 'string', format: 'uri' },
      feed_url: { type: 'string', format: 'uri' },
      description: text,
      authors: {
        type: 'array',
        items: closedObject({ name: text, url: { type: 'string', format: 'uri' } }),
      },
      items: { type: 'array', items: schemaRef(itemSchema) },
      hubs: {
        type: 'array',
        description: 'The WebSub hub (WEBSUB_HUB_URL), when one is set.',
        items: closedObject({ type: { const: 'WebSub' }, url: { type: 'string', format: 'uri' } }),
      },
    },
    options,
  );
}

const schemas: Record<string, JsonSchema> = {
  Event: closedObject(eventProperties, { description: 'One public event.' }),
  Venue: venueSchema,
  Price: priceSchema,
  EventSource: closedObject({
    source: { type: 'string', enum: [...SOURCE_NAMES] },
    externalId: text,
    url: orNull({
      type: 'string',
      format: 'uri',
      description: "The record's own link at its source; http(s) only.",
    }),
  }),
  EventPage: closedObject(
    {
      total: { type: 'integer', minimum: 0, description: 'Events matching the filter in all.' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
      offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET },
      events: { type: 'array', items: schemaRef('Event') },
    },
    {
      description:
        'One page of the events matching a filter, by start (or by first sight with `order=announced`).',
    },
  ),
  JsonFeed: jsonFeedDocument('JsonFeedItem', {
    description: 'JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/).',
    optional: ['description', 'hubs'],
  }),
  JsonFeedItem: closedObject(
    {
      id: { type: 'string', description: 'A `tag:` URI, stable forever.' },
      url: { type: 'string', format: 'uri' },
      title: text,
      content_html: text,
      content_text: text,
      image: text,
      date_published: dateTime,
      date_modified: dateTime,
      tags: { type: 'array', items: text },
      _event: schemaRef('JsonFeedEvent'),
    },
    { description: 'One event as a feed item.', optional: ['content_text', 'image'] },
  ),
  JsonFeedEvent: closedObject(
    {
      about: {
        type: 'string',
        format: 'uri',
        description: 'The page documenting this extension (/assets/json-feed-event.html).',
      },
      start: dateTime,
      end: orNull(dateTime),
      timeZone: text,
      status: { type: 'string', enum: Object.keys(STATUSES) },
      venue: schemaRef('Venue'),
      organizer: closedObject({ id: orNull(text), name: orNull(text) }),
      genres: { type: 'array', items: text },
      ticketUrl: orNull({ type: 'string', format: 'uri', description: 'http(s) only.' }),
      prices: { type: 'array', items: schemaRef('Price') },
      soldOut: { type: 'boolean' },
      doorsOpen: orNull(dateTime),
      previousStart: orNull(dateTime),
      subtitle: orNull(text),
      sources: { type: 'array', items: schemaRef('EventSource') },
    },
    { description: "The JSON Feed extension `_event`: the event's facts as data." },
  ),
  ChangeFeed: jsonFeedDocument('ChangeFeedItem', {
    description: 'JSON Feed 1.1 of changes, newest first.',
    optional: ['hubs'],
  }),
  ChangeFeedItem: closedObject(
    {
      id: {
        type: 'string',
        description: "The event's feed item id and the revision: `tag:…:<event id>#r<revision>`.",
      },
      url: { type: 'string', format: 'uri', description: "The event's page." },
      title: { type: 'string', description: 'The kind and the event: `Rescheduled: Night Tapes`.' },
      content_text: { type: 'string', description: 'What changed, in plain words.' },
      date_published: { ...dateTime, description: 'When Marquee recorded the change.' },
      tags: { type: 'array', items: { type: 'string', enum: Object.keys(CHANGE_KIND_WORDS) } },
      _change: closedObject({
        event: { type: 'string', pattern: EVENT_ID_PATTERN.source },
        kind: { type: 'string', enum: Object.keys(CHANGE_KIND_WORDS) },
        revision: { type: 'integer', minimum: 1, description: "The event's revision after it." },
      }),
    },
    { description: 'One published revision of an event.' },
  ),
  Health: {
    type: 'object',
    description: 'The state of this instance; fields may be added.',
    required: ['status'],
    properties: {
      status: {
        type: 'string',
        enum: ['ok', 'stopping', 'unavailable', 'degraded'],
        description:
          '`ok` (200); `stopping` once shutdown began, `unavailable` when the database does not answer, `degraded` when its integrity check found problems (503).',
      },
      database: { type: 'string', enum: ['ok', 'unreachable', 'damaged'] },
      version: { type: 'string', description: "Marquee's version (its package.json)." },
      schema: orNull({
        type: 'string',
        description: 'The latest migration applied to the database: its schema version.',
      }),
      inboxBacklog: {
        type: 'integer',
        minimum: 0,
        description: 'Deliveries received and not yet processed.',
      },
      staleOrganizations: {
        type: 'array',
        description: 'Organizations whose last full sync is older than SYNC_STALE_HOURS.',
        items: closedObject({
          source: { type: 'string', enum: [...SOURCE_NAMES] },
          id: text,
          name: orNull(text),
          lastSyncAt: orNull(dateTime),
        }),
      },
      reason: text,
      checkedAt: dateTime,
      problems: { type: 'array', items: text },
    },
  },
};

const BAD_FILTER = errorResponse(
  'A parameter is unknown or malformed; the message names it and the accepted forms.',
);
const TOO_LONG = errorResponse('The query string is longer than 4096 characters.');
const UNAVAILABLE = errorResponse(
  'The database is temporarily unavailable; try again after Retry-After seconds.',
);
const NOT_MODIFIED = {
  description: 'The client holds the current version (If-None-Match or If-Modified-Since).',
};

/** The operation of one filtered JSON output. */
function feedOperation(
  format: { contentType: string; defaultLimit: number },
  text: { operationId: string; summary: string; description: string },
  schema: string,
): OpenApiObject {
  const parameters = filterParameters(format.defaultLimit);
  return {
    get: {
      ...text,
      parameters: FILTER_PARAMETERS.map((name) => parameters[name]),
      responses: {
        200: jsonResponse('The events matching the filter.', schemaRef(schema), {
          mediaType: format.contentType.split(';')[0],
          headers: FEED_HEADERS,
        }),
        304: NOT_MODIFIED,
        400: BAD_FILTER,
        414: TOO_LONG,
        503: UNAVAILABLE,
      },
    },
  };
}

/** The OpenAPI 3.1 document of the public JSON API of the site `config` describes. */
export function publicApiDocument(
  config: Pick<Config, 'publicUrl' | 'siteTitle'>,
): OpenApiDocument {
  const api = FEED_FORMATS.api;
  const jsonFeed = FEED_FORMATS.jsonfeed;
  const changesJsonFeed = CHANGE_FEED_FORMATS.find((format) => format.path === '/changes.json');
  if (changesJsonFeed === undefined) throw new Error('openapi: no /changes.json format');
  return openApiDocument({
    title: `${config.siteTitle} public API`,
    version: PUBLIC_API_VERSION,
    description:
      'The public JSON endpoints of a Marquee site: upcoming events filtered the same way as every feed and page, without authentication, with `Access-Control-Allow-Origin: *`. Responses carry a strong ETag and Last-Modified and answer conditional requests with 304. Errors are JSON `{"error": "..."}`.',
    serverUrl: config.publicUrl,
    paths: {
      [api.path]: feedOperation(
        api,
        {
          operationId: 'listEvents',
          summary: 'Upcoming events matching a filter',
          description:
            'Every public field of each event. An event leaves the result when it ends (or is removed); cancelled events stay until they would have ended.',
        },
        'EventPage',
      ),
      [jsonFeed.path]: feedOperation(
        jsonFeed,
        {
          operationId: 'jsonFeed',
          summary: 'The same events as JSON Feed 1.1',
          description: 'For feed readers; each item carries the event as the `_event` extension.',
        },
        'JsonFeed',
      ),
      [changesJsonFeed.path]: feedOperation(
        { ...changesJsonFeed, defaultLimit: CHANGE_FEED_DEFAULT_LIMIT },
        {
          operationId: 'changesJsonFeed',
          summary: 'Changes to the events matching a filter, as JSON Feed 1.1',
          description:
            'One item per published revision of an event, newest first: created, updated, rescheduled, relocated, cancelled, removed or merged. The filter is matched against each event as it stands now.',
        },
        'ChangeFeed',
      ),
      [shortFeedPath('{id}', jsonFeed)]: {
        get: {
          operationId: 'shortJsonFeed',
          summary: 'The JSON Feed of a filter by its short id',
          description:
            "What the filter's long URL serves, with the short URL as `feed_url`. Takes no query parameters.",
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              description: 'The id of a filter, as the Subscribe panel gives it.',
              schema: { type: 'string', pattern: SHORT_FEED_ID_PATTERN.source },
            },
          ],
          responses: {
            200: jsonResponse('The feed.', schemaRef('JsonFeed'), {
              mediaType: jsonFeed.contentType.split(';')[0],
              headers: FEED_HEADERS,
            }),
            304: NOT_MODIFIED,
            400: errorResponse('The request carried query parameters.'),
            404: errorResponse('No filter has this id.'),
            503: UNAVAILABLE,
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Whether this instance can serve',
          description: 'For load balancers and monitoring; never cached.',
          responses: {
            200: jsonResponse('The database answers.', schemaRef('Health')),
            503: jsonResponse(
              'Stopping, the database unreachable, or the database file damaged.',
              schemaRef('Health'),
            ),
          },
        },
      },
      [PUBLIC_OPENAPI_PATH]: {
        get: {
          operationId: 'openApiDocument',
          summary: 'This description',
          responses: {
            200: jsonResponse('The OpenAPI 3.1 document.', { type: 'object' }),
            304: NOT_MODIFIED,
          },
        },
      },
    },
    schemas,
    components: { headers: HEADERS },
  });
}
