import fc from 'fast-check';

/**
 * fast-check generators for contract-valid deliveries of both sources and for the ways real
 * and hostile senders break them: fields missing or of the wrong type, null, huge strings, deep
 * nesting, impossible and extreme dates, unknown time zones, control characters, every Unicode
 * plane, lone surrogates, and prototype-pollution keys.
 */

/** Strings known to break naive code: markup, CDATA ends, header injection, SQL, templates. */
export const NASTY_STRINGS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  ']]>',
  '<![CDATA[x]]>',
  '\r\nX-INJECTED: 1',
  '\u0000',
  '\u0001\u0008\u000B\u000C\u001F',
  '\uFFFE\uFFFF',
  '\uD800',
  '\uDFFF',
  '\u202E',
  '\u2028\u2029',
  '𝕳𝖊𝖑𝖑𝖔 🎸 \u{10FFFD}',
  "' OR '1'='1' --",
  '%00',
  '${7*7}{{7*7}}<%= 7*7 %>',
  '__proto__',
  'constructor',
  '',
  '   ',
  'null',
  'NaN',
  '-0',
  '1e400',
];

const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const controlChar = fc.integer({ min: 0, max: 0x1f }).map((code) => String.fromCharCode(code));

/** Strings from every plane, with control characters, lone surrogates and nasty fragments. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc.string({
      unit: fc.oneof(controlChar, fc.constantFrom('a', ' ', '<', '&')),
      maxLength: 20,
    }),
  },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...NASTY_STRINGS),
        fc.string({ unit: 'binary', maxLength: 10 }),
        fc.constantFrom(...NASTY_STRINGS),
      )
      .map((parts) => parts.join('')),
  },
);

/** A string between 1,000 and 200,000 characters (titles are capped at 1,000, text at 100,000). */
export const hugeString = fc
  .tuple(
    fc.integer({ min: 1_000, max: 200_000 }),
    fc.constantFrom('x', '<b>', '🎸', '\u0001', 'a ', '*'),
  )
  .map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length)));

const DEEP_MARK = /"@@deep-nesting:(\d+):([01])@@"/g;

/**
 * A value nested `depth` levels deep, as objects or arrays. It stays a placeholder until the
 * payload becomes JSON text (JSON.parse copes with any depth; recursive JS, including
 * JSON.stringify and structuredClone, does not), so generating and reporting it is cheap.
 */
export class DeepNesting {
  constructor(
    readonly depth: number,
    readonly arrays: boolean,
  ) {}
  toJSON(): string {
    return `@@deep-nesting:${this.depth}:${this.arrays ? 1 : 0}@@`;
  }
  [fc.toStringMethod](): string {
    return `DeepNesting(${this.depth}, ${this.arrays ? 'arrays' : 'objects'})`;
  }
}

/** Turns a payload holding DeepNesting placeholders into JSON text. */
export function toJsonText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    DEEP_MARK,
    (_whole, depth: string, arrays: string) => {
      const levels = Number(depth);
      return arrays === '1'
        ? `${'['.repeat(levels)}"bottom"${']'.repeat(levels)}`
        : `${'{"nested":'.repeat(levels)}"bottom"${'}'.repeat(levels)}`;
    },
  );
}

export const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 100_000 }), fc.boolean())
  .map(([depth, arrays]) => new DeepNesting(depth, arrays));

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** An ISO-8601 local date-time with an offset, for `instant` somewhere in 2027. */
export const upcomingInstant = fc
  .tuple(
    fc.integer({ min: Date.UTC(2027, 0, 1), max: Date.UTC(2027, 11, 31) }),
    fc.integer({ min: -48, max: 56 }).map((quarters) => quarters * 15),
  )
  .map(([ms, offsetMinutes]) => {
    const local = new Date(Math.floor(ms / 60_000) * 60_000 + offsetMinutes * 60_000);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  });

/** Dates that are invalid, impossible, extreme or not dates at all. */
export const hostileDate: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '2027-02-30T20:00:00+01:00',
    '2027-02-29T20:00:00Z',
    '2027-04-31T20:00:00Z',
    '2027-13-01T20:00:00Z',
    '2027-00-10T20:00:00Z',
    '2027-01-32T20:00:00Z',
    '2027-01-01T24:00:00Z',
    '2027-01-01T25:00:00Z',
    '2027-01-01T23:60:00Z',
    '2027-01-01T23:59:60Z',
    '2027-01-01T20:00:00+25:00',
    '2027-01-01T20:00:00',
    '2027-01-01',
    '0000-01-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '2200-01-01T00:00:01Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    'Tue, 02 Mar 2027 20:00:00 GMT',
    '2027-03-02T20:00:00.' + '9'.repeat(5000) + 'Z',
    '',
    'now',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.integer().map((ms) => ms),
  fc.constant(null),
  hostileString,
);

/** Zones that exist, that do not, and strings that only look like zones. */
export const hostileTimeZone: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    'Europe/Amsterdam',
    'Mars/Olympus_Mons',
    'Europe/Atlantis',
    'UTC+25',
    'Etc/GMT+99',
    'GMT+01:00',
    '+01:00',
    '../../../../etc/passwd',
    'Europe/Amsterdam\u0000',
    'europe/amsterdam',
    'Asia/Calcutta',
    'EST5EDT',
    'A'.repeat(10_000),
    '',
  ),
  hostileString,
  fc.integer(),
  fc.constant(null),
);

/** A value of the wrong type for any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(-0, 1e308, -1e308, 0.1, Number.MAX_SAFE_INTEGER + 2),
  fc.constant([]),
  fc.constant({}),
  fc.array(hostileString, { maxLength: 3 }),
  fc.dictionary(hostileString, hostileString, { maxKeys: 3 }),
  hostileString,
);

/** Any replacement value, weighted towards the interesting ones. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: wrongType },
  { weight: 2, arbitrary: hostileDate },
  { weight: 1, arbitrary: hostileTimeZone },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepNesting },
);

/** Field names both contracts read, so mutations often hit a field that matters. */
export const KNOWN_FIELDS = [
  'id',
  '_id',
  'name',
  'status',
  'startsAt',
  'endsAt',
  'doorsOpenAt',
  'timeZone',
  'updatedAt',
  'location',
  'latitude',
  'longitude',
  'city',
  'description',
  'format',
  'text',
  'images',
  'url',
  'ticketTypes',
  'priceInCents',
  'organization',
  'events',
  'messageType',
  'messageContent',
  'begin',
  'end',
  'inlet',
  'openEnd',
  'changedOn',
  'cancelled',
  'photos',
  'purposes',
  'priceCategories',
  'price',
  'tickets',
  'type',
  'method',
  'version',
  'data',
  'event',
  'profile',
  'delete',
  'genres',
  'types',
  'tags',
  'soldOut',
  'subtitle',
  'organizer',
];

export const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];

export type Mutation =
  | { kind: 'delete'; node: number; key: number }
  | { kind: 'replace'; node: number; key: number; value: unknown }
  | { kind: 'set'; node: number; field: string; value: unknown }
  | { kind: 'pollute'; node: number; key: string }
  | { kind: 'root'; value: unknown };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), node: fc.nat(), key: fc.nat() }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      node: fc.nat(),
      key: fc.nat(),
      value: hostileValue,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      node: fc.nat(),
      field: fc.constantFrom(...KNOWN_FIELDS),
      value: hostileValue,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('pollute' as const),
      node: fc.nat(),
      key: fc.constantFrom(...POLLUTION_KEYS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('root' as const),
      value: fc.oneof(wrongType, deepNesting),
    }),
  },
);

type Container = Record<string, unknown> | unknown[];

/** A copy of a JSON-like value; own `__proto__` keys stay own properties, placeholders are shared. */
function clone(value: unknown): unknown {
  if (value instanceof DeepNesting) return value;
  if (Array.isArray(value)) return value.map(clone);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) defineOwn(out, key, clone(item));
    return out;
  }
  return value;
}

/** Objects and arrays of a payload, breadth first, not below depth 20 (deep nesting is a value here). */
function containers(root: unknown): Container[] {
  const out: Container[] = [];
  let level: unknown[] = [root];
  for (let depth = 0; depth < 20 && level.length > 0; depth += 1) {
    const next: unknown[] = [];
    for (const value of level) {
      if (typeof value === 'object' && value !== null && !(value instanceof DeepNesting)) {
        out.push(value as Container);
        next.push(...Object.values(value));
      }
    }
    level = next;
  }
  return out;
}

/** Sets an own property, also for `__proto__` (as JSON.parse does), never the prototype. */
function defineOwn(target: Container, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Applies mutations to a deep copy of a JSON payload; returns the parsed result, as if received. */
export function mutate(payload: unknown, mutations: readonly Mutation[]): unknown {
  return JSON.parse(mutateToJson(payload, mutations));
}

/** Applies mutations to a deep copy of a JSON payload; returns the JSON text (a delivery's body). */
export function mutateToJson(payload: unknown, mutations: readonly Mutation[]): string {
  let root: unknown = clone(payload);
  for (const change of mutations) {
    if (change.kind === 'root') {
      root = clone(change.value);
      continue;
    }
    const nodes = containers(root);
    if (nodes.length === 0) continue;
    const node = nodes[change.node % nodes.length] as Container;
    const keys = Object.keys(node);
    if (change.kind === 'delete' && keys.length > 0) {
      const key = keys[change.key % keys.length] as string;
      if (Array.isArray(node)) node.splice(Number(key), 1);
      else delete node[key];
    } else if (change.kind === 'replace' && keys.length > 0) {
      defineOwn(node, keys[change.key % keys.length] as string, clone(change.value));
    } else if (change.kind === 'set' && !Array.isArray(node)) {
      defineOwn(node, change.field, clone(change.value));
    } else if (change.kind === 'pollute' && !Array.isArray(node)) {
      defineOwn(node, change.key, { polluted: 'yes', toString: 'x', valueOf: 1, isAdmin: true });
    }
  }
  // As JSON text, `__proto__` is an ordinary key: JSON.parse makes it an own property.
  return toJsonText(root);
}

const text = (max: number) => fc.string({ unit: 'grapheme', maxLength: max });
const httpUrl = fc.webUrl({ validSchemes: ['https', 'http'] });

/** One event in the assumed Stager content shape; only id, name and startsAt are required. */
export const stagerEventArb = fc.record(
  {
    id: fc.oneof(
      fc.integer({ min: 1, max: 2 ** 31 }),
      fc.stringMatching(/^[A-Za-z0-9_.:-]{1,30}$/),
    ),
    status: fc.constantFrom(
      'CONFIRMED',
      'TO_BE_CONFIRMED',
      'OPTION',
      'TO_BE_CANCELLED',
      'CANCELLED',
    ),
    name: text(60).map((name) => `Act ${name}`),
    subtitle: text(40),
    startsAt: upcomingInstant,
    endsAt: upcomingInstant,
    doorsOpenAt: upcomingInstant,
    timeZone: fc.constantFrom(
      'Europe/Amsterdam',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Pacific/Chatham',
    ),
    location: fc.record(
      {
        id: fc.nat(),
        name: text(40),
        street: text(40),
        postalCode: text(10),
        city: text(30),
        country: fc.constantFrom('NL', 'DE', 'BE'),
        latitude: fc.double({ min: -90, max: 90, noNaN: true }),
        longitude: fc.double({ min: -180, max: 180, noNaN: true }),
      },
      { requiredKeys: [] },
    ),
    genres: fc.array(text(20), { maxLength: 4 }),
    tags: fc.array(text(20), { maxLength: 3 }),
    description: fc.record({
      format: fc.constantFrom('MARKDOWN', 'HTML', 'TEXT'),
      text: text(300),
    }),
    images: fc.array(
      fc.record({ type: fc.constantFrom('MAIN', 'ADDITIONAL'), url: httpUrl, altText: text(30) }),
      { maxLength: 3 },
    ),
    ticketShopUrl: httpUrl,
    ticketTypes: fc.array(
      fc.record({
        name: text(20),
        priceInCents: fc.nat({ max: 100_000 }),
        feeInCents: fc.nat({ max: 1_000 }),
        soldOut: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    soldOut: fc.boolean(),
    updatedAt: fc
      .date({ min: new Date('2026-01-01'), max: new Date('2026-11-20'), noInvalidDate: true })
      .map((date) => date.toISOString()),
  },
  { requiredKeys: ['id', 'name', 'startsAt'] },
);

/** A Stager UPDATE_EVENTS or ORGANIZATION_SYNC following the contract. */
export const stagerMessageArb = fc.record({
  messageType: fc.constantFrom('UPDATE_EVENTS', 'ORGANIZATION_SYNC'),
  messageContent: fc.record({
    organization: fc.record({ id: fc.integer({ min: 1, max: 99_999 }), name: text(30) }),
    events: fc.array(stagerEventArb, { minLength: 1, maxLength: 4 }),
  }),
});

const eventportId = fc.stringMatching(/^[A-Za-z0-9]{17}$/);
const utcInstant = fc
  .integer({ min: Date.UTC(2027, 0, 1), max: Date.UTC(2027, 11, 31) })
  .map((ms) => new Date(ms).toISOString());

/** An Eventport EventObject as the API page documents it (public and private fields). */
export const eventportEventArb = fc.record(
  {
    _id: eventportId,
    profileId: eventportId,
    name: text(60).map((name) => `Party ${name}`),
    subtitle: text(40),
    organizer: text(30),
    remark: text(40),
    inlet: utcInstant,
    begin: utcInstant,
    end: utcInstant,
    openEnd: fc.boolean(),
    location: fc.record(
      {
        _id: eventportId,
        name: text(40),
        street: text(40),
        addressAddiction: text(20),
        postalcode: text(10),
        city: text(30),
        homepage: httpUrl,
        facebookPageId: fc.oneof(fc.nat(), fc.stringMatching(/^\d{15}$/)),
      },
      { requiredKeys: [] },
    ),
    floors: fc.array(text(20), { maxLength: 3 }),
    types: fc.array(text(20), { maxLength: 3 }),
    genres: fc.array(text(20), { maxLength: 3 }),
    description: text(300),
    priceCategories: fc.array(
      fc.record({
        name: fc.record({
          id: fc.constantFrom('PRESALE_PRICE', 'BOX_OFFICE_PRICE'),
          text: text(20),
        }),
        price: fc.double({ min: 0, max: 500, noNaN: true }),
        hasProcessingFee: fc.oneof(fc.boolean(), fc.nat({ max: 1 })),
        conditions: text(40),
      }),
      { maxLength: 3 },
    ),
    tickets: fc.array(fc.oneof(fc.record({ url: httpUrl, text: text(20) }), httpUrl), {
      maxLength: 2,
    }),
    photos: fc.array(
      fc.record({
        _id: eventportId,
        url: httpUrl,
        thumbnailUrl: httpUrl,
        purposes: fc.array(fc.constantFrom('0', '1', '2', '6'), { maxLength: 3 }),
        title: text(20),
      }),
      { maxLength: 3 },
    ),
    rescheduled: fc.boolean(),
    relocated: fc.boolean(),
    cancelled: fc.boolean(),
    changedOn: fc
      .date({ min: new Date('2026-01-01'), max: new Date('2026-11-20'), noInvalidDate: true })
      .map((date) => date.toISOString()),
  },
  { requiredKeys: ['_id', 'name', 'begin'] },
);

const eventportProfileArb = fc.record({
  _id: eventportId,
  name: text(30),
  city: text(20),
  phone: text(20),
  email: fc.emailAddress(),
  counterparts: fc.array(
    fc.record({
      name: text(30),
      phone: text(20),
      email: fc.emailAddress(),
      roles: fc.array(text(10), { maxLength: 2 }),
    }),
    {
      maxLength: 2,
    },
  ),
});

/** An Eventport delivery: v1.0 post or cancel, or the pre-1.0 bare event or delete forms. */
export const eventportMessageArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('event'),
      method: fc.constant('post'),
      version: fc.constant('1.0'),
      data: fc.record({ event: eventportEventArb, profile: eventportProfileArb }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('event'),
      method: fc.constant('cancel'),
      version: fc.constant('1.0'),
      data: fc.record({ event: fc.record({ _id: eventportId }) }),
    }),
  },
  { weight: 1, arbitrary: eventportEventArb },
  { weight: 1, arbitrary: fc.record({ delete: fc.constant(true), _id: eventportId }) },
);
