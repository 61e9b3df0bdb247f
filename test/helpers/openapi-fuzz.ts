import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';

/**
 * Requests generated from an OpenAPI 3.1 document, and responses checked against it: the two halves
 * of an OpenAPI fuzzer, for the subset of JSON Schema our document uses (strings with enum, format or
 * pattern, integers with bounds, objects of those, anyOf).
 */

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters: Parameter[];
  body?: JsonSchema;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      Omit<Operation, 'method' | 'path'> & {
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      operationId: operation.operationId,
      parameters: operation.parameters ?? [],
      ...(operation.requestBody ? { body: operation.requestBody.content['application/json']?.schema } : {}),
      responses: operation.responses,
    })),
  );
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** RFC 3339 date-times in their legal spellings: Z, z or an offset, t or T, fractions, leap seconds. */
export const rfc3339 = fc
  .record({
    date: fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T00:00:00Z'),
      noInvalidDate: true,
    }),
    separator: fc.constantFrom('T', 't'),
    second: fc.integer({ min: 0, max: 60 }),
    fraction: fc.option(
      fc.integer({ min: 0, max: 999_999 }).map((digits) => `.${digits}`),
      { nil: '' },
    ),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, hours, minutes]) => `${sign}${pad(hours)}:${pad(minutes)}`),
    ),
  })
  .map(({ date, separator, second, fraction, zone }) => {
    const day = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
    return `${day}${separator}${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(second)}${fraction}${zone}`;
  });

/** Values a schema allows, as the strings a query string carries (or JSON values for bodies). */
export function valueFor(schema: JsonSchema, json = false): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((option) => valueFor(option, json)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type)
    ? schema.type.find((candidate) => candidate !== 'null')
    : schema.type;
  if (type === 'null') return fc.constant(null);
  if (type === 'integer') {
    const integers = fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    return json ? integers : integers.map(String);
  }
  if (type === 'boolean') return json ? fc.boolean() : fc.constantFrom('true', 'false');
  if (type === 'object') return objectFor(schema);
  if (type === 'array') {
    return fc.uniqueArray(valueFor(schema.items ?? {}, json), {
      minLength: schema.minItems ?? 0,
      maxLength: Math.min(schema.maxItems ?? 5, 5),
      selector: (item) => JSON.stringify(item),
    });
  }
  // URLs the test's gateway can accept: it allows private addresses (WEBHOOK_ALLOW_PRIVATE_URLS).
  if (schema.format === 'uri') {
    return fc.webPath().map((path) => `https://127.0.0.1:9${path.startsWith('/') ? path : `/${path}`}`);
  }
  if (schema.format === 'date-time') return rfc3339;
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'email') return fc.constantFrom('admin@example.com', 'it.admin+hr@contoso.co.uk');
  const lengths = { minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 300) };
  const strings = schema.pattern
    ? fc.stringMatching(new RegExp(schema.pattern))
    : fc.string({ ...lengths, unit: 'binary' });
  return strings.filter(
    (text) => [...text].length >= lengths.minLength && [...text].length <= (schema.maxLength ?? Infinity),
  );
}

function objectFor(schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  return fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [name, valueFor(property, true)]),
    ),
    { requiredKeys: [...required] },
  );
}

/** Validates response bodies against the document's response schemas (JSON Schema 2020-12). */
export function responseValidator(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
  const rewrite = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
  const cache = new Map<string, ReturnType<Ajv2020['compile']>>();
  return (operation: Operation, status: number, body: unknown): string | undefined => {
    const response = operation.responses[String(status)];
    if (!response) return `status ${status} is not documented for ${operation.operationId}`;
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return undefined;
    const key = `${operation.operationId}:${status}`;
    let validate = cache.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema) as object);
      cache.set(key, validate);
    }
    return validate(body) ? undefined : ajv.errorsText(validate.errors);
  };
}
