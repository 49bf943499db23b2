import type { Request, Response } from 'express';
import type { CachedResponse } from '../../cache/response-store.js';
import type { AppContext } from '../../context.js';
import { prepareResponse, sendCached } from '../send-cached.js';

/**
 * The pieces every OpenAPI 3.1 description of Marquee shares (public.ts describes the public
 * API): the document's frame, the JSON error body, schema helpers and the handler that serves a
 * document. Schemas are JSON Schema 2020-12, the dialect of OpenAPI 3.1, with no OpenAPI-only
 * keywords (`nullable`, `example`), so any 2020-12 validator checks responses against them.
 */

/** A JSON Schema (2020-12) or a reference to one. */
export type JsonSchema = { [keyword: string]: unknown } | boolean;

/** An OpenAPI 3.1 object of any kind, as plain JSON. */
export type OpenApiObject = { [field: string]: unknown };

/** An OpenAPI 3.1 document, as served. */
export interface OpenApiDocument {
  openapi: string;
  info: OpenApiObject;
  servers: OpenApiObject[];
  paths: Record<string, OpenApiObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    [kind: string]: Record<string, unknown>;
  };
  [field: string]: unknown;
}

/** The OpenAPI version Marquee's documents are written in. */
export const OPENAPI_VERSION = '3.1.1';

/** The body of every JSON error answer: `{"error": "filter: \"limit\" must be ..."}`. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'An error. The message starts with the part that refused the request (`filter:`, `feed:`, `http:`) and names the parameter and the accepted forms where one was wrong.',
  required: ['error'],
  properties: { error: { type: 'string', minLength: 1 } },
  additionalProperties: false,
};

/** A reference to `#/components/schemas/<name>`. */
export function schemaRef(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** `schema` or JSON null. */
export function orNull(schema: JsonSchema): JsonSchema {
  if (typeof schema === 'object' && typeof schema.type === 'string' && !('$ref' in schema)) {
    const nullable: JsonSchema = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum)) nullable.enum = [...(schema.enum as unknown[]), null];
    return nullable;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

/**
 * An object with exactly these properties, each present (null where empty) unless named in
 * `optional`. Typing `properties` by an interface's keys (`Record<keyof PublicEvent, JsonSchema>`)
 * makes the compiler ask for the schema of each field that interface gains.
 */
export function closedObject(
  properties: Record<string, JsonSchema>,
  options: { description?: string; optional?: readonly string[] } = {},
): JsonSchema {
  const optional = new Set(options.optional ?? []);
  return {
    type: 'object',
    ...(options.description === undefined ? {} : { description: options.description }),
    required: Object.keys(properties).filter((name) => !optional.has(name)),
    properties,
    additionalProperties: false,
  };
}

/** A response whose body is `schema` in `mediaType`, with the named response headers. */
export function jsonResponse(
  description: string,
  schema: JsonSchema,
  options: { mediaType?: string; headers?: readonly string[] } = {},
): OpenApiObject {
  return {
    description,
    ...(options.headers && options.headers.length > 0
      ? { headers: headerRefs(options.headers) }
      : {}),
    content: { [options.mediaType ?? 'application/json']: { schema } },
  };
}

/** A JSON error response (ERROR_SCHEMA). */
export function errorResponse(description: string): OpenApiObject {
  return jsonResponse(description, schemaRef('Error'));
}

/** References to `#/components/headers/<name>` for each name. */
export function headerRefs(names: readonly string[]): OpenApiObject {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

/** The frame of a document: info, one server (PUBLIC_URL), the Error schema among the schemas. */
export function openApiDocument(input: {
  title: string;
  version: string;
  description: string;
  serverUrl: string;
  paths: Record<string, OpenApiObject>;
  schemas: Record<string, JsonSchema>;
  components?: Record<string, Record<string, unknown>>;
}): OpenApiDocument {
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: input.title,
      version: input.version,
      description: input.description,
      license: { name: 'AGPL-3.0-or-later', identifier: 'AGPL-3.0-or-later' },
    },
    servers: [{ url: input.serverUrl }],
    paths: input.paths,
    components: { ...input.components, schemas: { Error: ERROR_SCHEMA, ...input.schemas } },
  };
}

/**
 * GET handler serving the document `build` makes (built on the first request, then kept, with
 * a strong ETag), as `application/json` with `headers`.
 */
export function openApiHandler(
  ctx: AppContext,
  build: () => OpenApiDocument,
  options: { cacheControl: string; headers?: Readonly<Record<string, string>> },
) {
  let entry: CachedResponse | null = null;
  return (req: Request, res: Response) => {
    entry ??= prepareResponse({
      body: Buffer.from(`${JSON.stringify(build(), null, 2)}\n`, 'utf8'),
      contentType: 'application/json; charset=utf-8',
      lastModified: ctx.now(),
      expiresAt: null,
    });
    sendCached(req, res, ctx.caches.responses, entry, options);
  };
}
