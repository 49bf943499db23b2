import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';

/**
 * Checks an OpenAPI 3.1 document and real responses against it: the document against the
 * OpenAPI 3.1 schema (@seriousme/openapi-schema-validator), every schema in it compiled by Ajv's
 * JSON Schema 2020-12 validator in strict mode (an unknown keyword, such as OpenAPI 3.0's
 * `example` or a misspelt `minimun`, fails), and response bodies validated with the schemas of their operation, status and type.
 */

type Json = { [key: string]: unknown };

/** A response as the checker reads it. */
export interface CheckedResponse {
  status: number;
  contentType: string | null;
  body: string;
}

export interface OpenApiChecker {
  /** How many schemas of the document compiled (parameters, headers, bodies, components). */
  schemaCount: number;
  /** What is wrong with `response` to `method path` (a path template of the document); [] if nothing. */
  check(method: string, path: string, response: CheckedResponse): string[];
}

const DOCUMENT_ID = 'urn:marquee:openapi';
// The document's own fields, which Ajv must not take for unknown JSON Schema keywords.
const DOCUMENT_FIELDS = [
  'openapi',
  'info',
  'servers',
  'paths',
  'components',
  'webhooks',
  'security',
  'tags',
  'jsonSchemaDialect',
];

const addFormats = formatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

/** The errors of `document` as an OpenAPI 3.1 document; [] when it is one. */
export async function openApiDocumentErrors(document: Json): Promise<string[]> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  if (!result.valid) {
    return typeof result.errors === 'string'
      ? [result.errors]
      : (result.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
  }
  return validator.version === '3.1' ? [] : [`openapi: version ${validator.version}, not 3.1`];
}

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** Compiles every schema of `document` (strict) and returns a checker of responses. */
export function openApiChecker(document: Json): OpenApiChecker {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(DOCUMENT_FIELDS);
  ajv.addSchema(structuredClone(document), DOCUMENT_ID);
  const compiled = new Map<string, ValidateFunction>();
  const compile = (path: string): ValidateFunction => {
    let validate = compiled.get(path);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOCUMENT_ID}#/${path}` });
      compiled.set(path, validate);
    }
    return validate;
  };

  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  const components = (document.components ?? {}) as Record<string, Record<string, Json>>;
  for (const name of Object.keys(components.schemas ?? {})) {
    compile(pointer('components', 'schemas', name));
  }
  for (const [name, header] of Object.entries(components.headers ?? {})) {
    if (header.schema !== undefined) compile(pointer('components', 'headers', name, 'schema'));
  }
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const parameters = (operation.parameters ?? []) as Json[];
      parameters.forEach((parameter, index) => {
        if (parameter.schema !== undefined) {
          compile(pointer('paths', path, method, 'parameters', String(index), 'schema'));
        }
      });
      for (const [status, response] of Object.entries(
        (operation.responses ?? {}) as Record<string, Json>,
      )) {
        for (const type of Object.keys((response.content ?? {}) as Json)) {
          compile(pointer('paths', path, method, 'responses', status, 'content', type, 'schema'));
        }
      }
    }
  }

  return {
    schemaCount: compiled.size,
    check(method, path, response) {
      const verb = method.toLowerCase();
      const operation = paths[path]?.[verb];
      if (!operation) return [`${method} ${path}: not in the document`];
      const responses = (operation.responses ?? {}) as Record<string, Json>;
      const status = String(response.status);
      const key = [status, `${status[0]}XX`, 'default'].find((name) => responses[name]);
      if (key === undefined) return [`${method} ${path}: status ${status} not documented`];
      const content = responses[key]?.content as Json | undefined;
      if (content === undefined) {
        return response.body === '' ? [] : [`${status}: a body where none is documented`];
      }
      const type = response.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
      if (!(type in content)) {
        return [`${status}: content type "${type}" not documented (${Object.keys(content)})`];
      }
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        return [`${status}: the body is not JSON`];
      }
      const validate = compile(
        pointer('paths', path, verb, 'responses', key, 'content', type, 'schema'),
      );
      if (validate(body)) return [];
      return (validate.errors ?? []).map(
        (error) => `${status} ${error.instancePath || '/'} ${error.message} (${error.schemaPath})`,
      );
    },
  };
}

/** A fetch response read for the checker. */
export async function readResponse(response: Response): Promise<CheckedResponse> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: await response.text(),
  };
}
