import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/platforms/platform-service.js';
import { seedLinkedAccount } from '../../src/seed/seed-account.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import {
  type JsonSchema,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  type Parameter,
  responseValidator,
  valueFor,
} from '../helpers/openapi-fuzz.js';

/**
 * The OpenAPI document and the server agree: requests generated from the document (valid ones and
 * ones broken in one place) are sent to a seeded gateway, and every response must be documented for
 * its operation and match the documented schema. A valid request is never refused (but for the
 * refusals no schema can express: an id that does not exist, a cursor the gateway never issued, a
 * sensitive read without the permission); a broken one is a 400 naming what is wrong; nothing is a 5xx.
 */
const db = await createTestDatabase();
const { app } = await createTestApp(db, {
  RATE_LIMIT_PER_MINUTE: '1000000',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
});
const seeded = await seedLinkedAccount(db, { employees: 25, seed: 11 });
const headers = { authorization: `Bearer ${seeded.api_key}`, 'x-account-token': seeded.account_token };
// Passthrough is fuzzed with a key that may use it, so requests get past the permission to the route's
// own handling (the seeded account has no provider: a valid request ends in a documented 409).
const passthroughKey = await createApiKey(db.prisma, seeded.platform_id, {
  name: 'passthrough',
  sensitive: true,
  passthrough: true,
});
const passthroughHeaders = { ...headers, authorization: `Bearer ${passthroughKey.apiKey}` };
const document = app.swagger() as unknown as OpenApiDocument;
const validateResponse = responseValidator(document);
// Operations with side effects beyond the gateway (a sync against the provider) are left out:
// the seeded account has no provider to reach. Everything else is fuzzed.
const operations = operationsOf(document).filter(
  (operation) => operation.path.startsWith('/v1/') && operation.operationId !== 'request_sync',
);

/** Real ids and cursors per list path, so valid requests also reach records that exist. */
const realIds = new Map<string, string[]>();
const realCursors: string[] = [];

beforeAll(async () => {
  for (const operation of operations.filter((candidate) => candidate.method === 'GET')) {
    const response = await app.inject({ method: 'GET', url: `${operation.path}?page_size=5`, headers });
    if (operation.path.includes('{') || response.statusCode !== 200) continue;
    const body = response.json() as { results?: { id: string }[]; next?: string | null };
    if (!body.results) continue;
    realIds.set(
      operation.path,
      body.results.map((record) => record.id),
    );
    if (body.next) realCursors.push(body.next);
  }
});

interface GeneratedRequest {
  operation: Operation;
  url: string;
  payload?: unknown;
  /** The one place the request breaks the document, or undefined for a valid request. */
  broken?: string;
  randomCursor: boolean;
}

const idFor = (operation: Operation) => {
  const ids = realIds.get(operation.path.replace(/\/\{id\}.*$/, '')) ?? [];
  return ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), fc.uuid()) : fc.uuid();
};

function valueForParameter(operation: Operation, parameter: Parameter): fc.Arbitrary<unknown> {
  if (parameter.in === 'path' && parameter.name === 'id') return idFor(operation);
  if (parameter.name === 'cursor' && realCursors.length > 0) {
    return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...realCursors) }, valueFor(parameter.schema));
  }
  return valueFor(parameter.schema);
}

function buildUrl(
  operation: Operation,
  path: Record<string, unknown>,
  query: Record<string, unknown>,
): string {
  const pathname = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) =>
    encodeURIComponent(String(path[name])),
  );
  const search = new URLSearchParams(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
  return search ? `${pathname}?${search}` : pathname;
}

function validRequest(operation: Operation): fc.Arbitrary<GeneratedRequest> {
  const inPath = operation.parameters.filter((parameter) => parameter.in === 'path');
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query');
  return fc
    .record({
      path: fc.record(Object.fromEntries(inPath.map((p) => [p.name, valueForParameter(operation, p)]))),
      query: fc.record(Object.fromEntries(inQuery.map((p) => [p.name, valueForParameter(operation, p)])), {
        requiredKeys: inQuery.filter((p) => p.required).map((p) => p.name),
      }),
      payload: operation.body ? valueFor(operation.body, true) : fc.constant(undefined),
    })
    .map(({ path, query, payload }) => ({
      operation,
      url: buildUrl(operation, path, query),
      ...(operation.body ? { payload } : {}),
      randomCursor: typeof query.cursor === 'string' && !realCursors.includes(query.cursor),
    }));
}

/** Values that break a schema, with what each breaks. */
function invalidValueFor(schema: JsonSchema): fc.Arbitrary<string> {
  const candidates: string[] = ['', 'a\u0000b'];
  if (schema.type === 'integer')
    candidates.push('abc', '1.5', String((schema.maximum ?? 1e9) + 1), String((schema.minimum ?? -1e9) - 1));
  if (schema.enum) candidates.push('NOT_A_VALUE');
  if (schema.format === 'date-time')
    candidates.push('yesterday', '2026-13-01T00:00:00Z', '2026-02-30', '2026-01-01T25:00:00Z');
  if (schema.format === 'uuid') candidates.push('not-a-uuid', '1234');
  if (schema.maxLength) candidates.push('x'.repeat(schema.maxLength + 1));
  return fc.constantFrom(...candidates);
}

/** Whether a schema allows numbers (then a string breaks it; otherwise a number does). */
function acceptsNumbers(schema: JsonSchema): boolean {
  const types = [schema.type, ...(schema.anyOf ?? []).map((option) => option.type)].flat();
  return types.includes('integer') || types.includes('number');
}

function brokenRequest(operation: Operation): fc.Arbitrary<GeneratedRequest> {
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query');
  const breakings: fc.Arbitrary<GeneratedRequest>[] = [
    validRequest(operation).map((request) => ({
      ...request,
      url: `${request.url}${request.url.includes('?') ? '&' : '?'}zz_unknown=1`,
      broken: 'zz_unknown',
    })),
  ];
  for (const parameter of inQuery) {
    breakings.push(
      fc.tuple(validRequest(operation), invalidValueFor(parameter.schema)).map(([request, value]) => {
        const url = new URL(request.url, 'http://gateway');
        url.searchParams.set(parameter.name, value);
        return { ...request, url: `${url.pathname}${url.search}`, broken: parameter.name };
      }),
    );
  }
  if (operation.body?.properties) {
    for (const [name, property] of Object.entries(operation.body.properties)) {
      breakings.push(
        validRequest(operation).map((request) => ({
          ...request,
          payload: {
            ...(request.payload as object),
            [name]: acceptsNumbers(property) ? 'not-a-number' : 12,
          },
          broken: name,
        })),
      );
    }
  }
  return fc.oneof(...breakings);
}

async function send(request: GeneratedRequest) {
  const response = await app.inject({
    method: request.operation.method as 'GET',
    url: request.url,
    headers: request.operation.operationId === 'passthrough' ? passthroughHeaders : headers,
    ...(request.payload !== undefined ? { payload: request.payload as object } : {}),
  });
  const body = response.body ? response.json() : undefined;
  return { status: response.statusCode, body };
}

/** Refusals of a valid request that no schema can rule out. */
function acceptableRefusal(request: GeneratedRequest, status: number, code: string | undefined): boolean {
  if (status === 404 && code === 'not_found')
    return request.operation.path.includes('{id}') || request.url.includes('token');
  if (status === 400 && code === 'invalid_cursor') return request.randomCursor;
  if (status === 403 && code === 'forbidden') return request.url.includes('include_sensitive_fields=true');
  // Relinking or claiming a token of an account the seed made (no provider, token already known).
  if (status === 409 || status === 410) return request.operation.method === 'POST';
  return false;
}

describe('the server keeps to its OpenAPI document', () => {
  it('has operations to fuzz', () => {
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.map((operation) => operation.operationId)).toContain('passthrough');
    expect(realCursors.length).toBeGreaterThan(3);
  });

  it('accepts every valid request and answers it as documented', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(...operations.map(validRequest)), async (request) => {
        const { status, body } = await send(request);
        const where = `${request.operation.method} ${request.url} ${JSON.stringify(request.payload ?? '')}`;
        expect(status, `${where} → ${JSON.stringify(body)}`).toBeLessThan(500);
        if (status >= 400) {
          expect(
            acceptableRefusal(request, status, body?.error?.code),
            `${where} refused: ${JSON.stringify(body)}`,
          ).toBe(true);
        }
        expect(validateResponse(request.operation, status, body), where).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });

  it('answers a request broken in one place with a 400 naming it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(...operations.map(brokenRequest)), async (request) => {
        const { status, body } = await send(request);
        const where = `${request.operation.method} ${request.url} ${JSON.stringify(request.payload ?? '')}`;
        expect(status, `${where} → ${JSON.stringify(body)}`).toBe(400);
        const fields = (body.error.details as { field?: string }[]).map((detail) => detail.field);
        expect(fields, where).toContain(request.broken);
        expect(validateResponse(request.operation, status, body), where).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});
