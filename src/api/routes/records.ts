import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, errorResponseSchema } from '../../errors.js';
import { MODEL_NAMES, MODELS, type ModelSpec } from '../../unified/models.js';
import { RECORD_SCHEMAS } from '../../unified/schemas.js';
import { idInput } from '../input-schemas.js';
import { detailQuerySchema, expandNames, LIST_QUERY_SCHEMAS, MODEL_FILTERS } from '../list-query.js';
import { getRecord, listRecords, type ReadOptions } from '../record-queries.js';

/** GET /v1/<model> and GET /v1/<model>/{id} for every unified model. */

const errors = {
  400: errorResponseSchema.describe('A query parameter is malformed or unknown; details name it.'),
  401: errorResponseSchema.describe('The API key or account token is missing or invalid.'),
  403: errorResponseSchema.describe(
    'include_sensitive_fields=true with a key lacking the sensitive permission.',
  ),
  404: errorResponseSchema.describe('No such linked account (or record) for this API key.'),
  429: errorResponseSchema.describe('Rate limit exceeded; retry after the Retry-After header.'),
};

function readOptions(
  query: { include_remote_data?: boolean; include_sensitive_fields?: boolean; expand?: string[] },
  sensitiveAllowed: boolean,
): ReadOptions {
  if (query.include_sensitive_fields && !sensitiveAllowed) {
    throw new AppError('forbidden', 'This API key may not read sensitive fields.', [
      {
        field: 'include_sensitive_fields',
        message: 'ask for a key with the sensitive permission (hris key create --sensitive)',
      },
    ]);
  }
  return {
    includeRemoteData: query.include_remote_data ?? false,
    includeSensitiveFields: query.include_sensitive_fields ?? false,
    expand: query.expand ?? [],
  };
}

function describeList(spec: ModelSpec): string {
  const filters = MODEL_FILTERS[spec.name];
  const expands = expandNames(spec);
  return [
    `Lists the linked account's ${spec.name.replaceAll('_', ' ')}, ${spec.singular}s deleted at the provider excluded unless include_deleted_data=true.`,
    'Pages are keyset-based: follow `next` (or `previous`) until it is null; page 1,000 is as fast as page 1.',
    filters.length > 0 ? `Model filters: ${filters.join(', ')}.` : '',
    expands.length > 0 ? `Expandable: ${expands.join(', ')}.` : '',
    spec.sensitiveFields.length > 0
      ? `Sensitive fields (${spec.sensitiveFields.join(', ')}) need include_sensitive_fields=true and a key with the sensitive permission; each such read is audited.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

export async function recordRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  for (const name of MODEL_NAMES) {
    const spec = MODELS[name];
    const record = RECORD_SCHEMAS[name];
    const label = spec.name.replaceAll('_', ' ');
    const tag = label.replace(/^\w/, (letter) => letter.toUpperCase());

    routes.get(
      `/v1/${spec.path}`,
      {
        schema: {
          operationId: `list_${spec.name}`,
          summary: `List ${label}`,
          description: describeList(spec),
          tags: [tag],
          security: [{ apiKey: [], accountToken: [] }],
          querystring: LIST_QUERY_SCHEMAS[name],
          response: {
            200: z
              .object({
                next: z.string().nullable().describe('Cursor of the next page, null on the last page.'),
                previous: z
                  .string()
                  .nullable()
                  .describe('Cursor of the previous page, null on the first page.'),
                results: z.array(record),
              })
              .describe(`A page of ${label}.`),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const options = readOptions(request.query, request.apiKey.sensitive);
        const page = await listRecords(app.db.pool, spec, request.account.id, request.query, options);
        await app.auditSensitiveRead(request, spec, options, page.count);
        // The body is JSON text built by PostgreSQL from the same model descriptors as the schema;
        // the API tests parse real responses with RECORD_SCHEMAS, which the compiler cannot do here.
        return reply.type('application/json; charset=utf-8').send(page.body as never);
      },
    );

    routes.get(
      `/v1/${spec.path}/:id`,
      {
        schema: {
          operationId: `get_${spec.name}`,
          summary: `Get a ${spec.singular}`,
          description: `Returns one ${spec.singular} of the linked account by our id, including one deleted at the provider (see remote_was_deleted).`,
          tags: [tag],
          security: [{ apiKey: [], accountToken: [] }],
          params: z.object({ id: idInput.describe(`Our id of the ${spec.singular}.`) }),
          querystring: detailQuerySchema(spec),
          response: { 200: record, ...errors },
        },
      },
      async (request) => {
        const options = readOptions(request.query, request.apiKey.sensitive);
        const found = await getRecord(app.db.pool, spec, request.account.id, request.params.id, options);
        if (!found) {
          throw new AppError('not_found', `No ${spec.singular} with this id in the linked account.`, [
            { field: 'id', message: 'not found' },
          ]);
        }
        await app.auditSensitiveRead(request, spec, options, 1);
        return found as never;
      },
    );
  }
}
