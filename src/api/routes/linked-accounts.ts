import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, errorResponseSchema } from '../../errors.js';
import { LinkedAccountStatus } from '../../generated/prisma/enums.js';
import { PROVIDER_IDS, providerDefinition } from '../../providers/registry.js';
import { MODEL_NAMES } from '../../unified/models.js';
import { idInput, textInput } from '../input-schemas.js';
import { pageParams } from '../list-query.js';
import { decodeCursor, toPage } from '../pagination.js';

/** The platform's view of its linked accounts (never their credentials or tokens). */

const supportedFieldsSchema = z
  .object(
    Object.fromEntries(MODEL_NAMES.map((model) => [model, z.array(z.string())])) as Record<
      (typeof MODEL_NAMES)[number],
      z.ZodArray<z.ZodString>
    >,
  )
  .describe(
    "Per model, the unified fields this account's provider fills. A field not listed is never filled by this provider: null there means \"not supported\", while null in a listed field means the employer's data has no value. An empty list: the provider does not serve the model at all. Provider fields the unified model has no place for stay in each record's remote_data. Null for an account whose provider the gateway does not sync (seeded demo data).",
  )
  .nullable();

export const linkedAccountSchema = z
  .object({
    id: z.uuid(),
    end_user_origin_id: z.string().describe('Your id for the employer.'),
    organization_name: z.string(),
    end_user_email: z.string().nullable(),
    provider: z.string().describe(`The HR system: a provider id (${PROVIDER_IDS.join(', ')}).`),
    status: z.enum(Object.values(LinkedAccountStatus) as [LinkedAccountStatus, ...LinkedAccountStatus[]]),
    status_reason: z
      .string()
      .nullable()
      .describe('Why the account has this status and, when it needs attention, what to fix and where.'),
    credentials_expire_at: z.iso
      .datetime({ offset: true })
      .nullable()
      .describe('When the client secret or certificate expires.'),
    created_at: z.iso.datetime({ offset: true }),
    last_synced_at: z.iso.datetime({ offset: true }).nullable(),
    supported_fields: supportedFieldsSchema,
  })
  .meta({
    id: 'LinkedAccount',
    description: 'An employer account linked to your platform.',
    example: {
      id: '3c0e6d1a-2b4f-4a8e-9d7c-1e2f3a4b5c6d',
      end_user_origin_id: 'employer-4471',
      organization_name: 'Contoso Ltd',
      end_user_email: 'it-admin@contoso.com',
      provider: PROVIDER_IDS[0],
      status: 'connected',
      status_reason: null,
      credentials_expire_at: '2027-05-01T00:00:00.000Z',
      created_at: '2026-11-01T10:00:00.000Z',
      last_synced_at: '2026-11-26T02:55:00.000Z',
      supported_fields: {
        employees: ['employee_number', 'first_name', 'last_name', 'work_email', 'date_of_birth'],
        employments: ['employee_id', 'company_id', 'employment_type', 'start_date', 'end_date'],
        dependents: ['employee_id', 'first_name', 'last_name', 'relationship', 'date_of_birth'],
        benefit_plans: ['name', 'description', 'plan_type', 'coverage_levels_offered'],
        benefit_enrollments: ['employee_id', 'benefit_plan_id', 'status', 'coverage_level', 'start_date'],
        companies: ['name', 'legal_name', 'company_code'],
        departments: ['name', 'code'],
        job_positions: ['position_number', 'job_title', 'department_id', 'valid_from', 'valid_to'],
      },
    },
  });

/**
 * Every model, with the fields the account's provider fills; null for a provider the registry does
 * not know (seeded accounts), of which nothing can be said.
 */
function supportedFields(provider: string): Record<(typeof MODEL_NAMES)[number], string[]> | null {
  const definition = providerDefinition(provider);
  if (!definition) return null;
  return Object.fromEntries(
    MODEL_NAMES.map((model) => [model, [...(definition.supportedFields[model] ?? [])]]),
  ) as Record<(typeof MODEL_NAMES)[number], string[]>;
}

function withSupportedFields<Row extends { provider: string }>(row: Row) {
  return { ...row, supported_fields: supportedFields(row.provider) };
}

const ACCOUNT_COLUMNS = `id, end_user_origin_id, organization_name, end_user_email, provider, status, status_reason,
  credentials_expire_at, created_at, last_synced_at`;

const errors = {
  400: errorResponseSchema.describe('A query parameter is malformed or unknown.'),
  401: errorResponseSchema.describe('The API key (or account token) is missing or invalid.'),
  404: errorResponseSchema.describe('No linked account of yours has this account token.'),
  429: errorResponseSchema.describe('Rate limit exceeded; retry after the Retry-After header.'),
};

export async function linkedAccountRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/v1/linked-accounts',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'list_linked_accounts',
        summary: 'List linked accounts',
        description:
          "Lists your platform's linked employer accounts with their status. An account needing attention (needs_reauth, error_permissions, expiring_soon, ...) says what to fix in status_reason. Needs only the API key.",
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        querystring: z
          .object({
            ...pageParams('Accounts'),
            status: linkedAccountSchema.shape.status.optional().describe('Only accounts with this status.'),
            end_user_origin_id: textInput(200)
              .optional()
              .describe('Only accounts with your id for the employer.'),
          })
          .strict(),
        response: {
          200: z.object({
            next: z.string().nullable(),
            previous: z.string().nullable(),
            results: z.array(linkedAccountSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { cursor: rawCursor, page_size: pageSize, status, end_user_origin_id: originId } = request.query;
      const cursor = rawCursor ? decodeCursor(rawCursor) : undefined;
      const params: unknown[] = [request.apiKey.platformId];
      const where = ['platform_id = $1'];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (status) add('status = ?::linked_account_status', status);
      if (originId) add('end_user_origin_id = ?', originId);
      if (cursor) add(cursor.d === 'n' ? 'id > ?' : 'id < ?', cursor.id);
      params.push(pageSize + 1);
      const { rows } = await app.db.pool.query(
        `SELECT ${ACCOUNT_COLUMNS} FROM linked_accounts WHERE ${where.join(' AND ')}
         ORDER BY id ${cursor?.d === 'p' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
        params,
      );
      return toPage(rows.map(withSupportedFields), pageSize, cursor);
    },
  );

  routes.get(
    '/v1/account-details',
    {
      schema: {
        operationId: 'get_account_details',
        summary: 'Get the linked account',
        description: 'Returns the linked account that X-Account-Token names, with its status and last sync.',
        tags: ['Linked accounts'],
        security: [{ apiKey: [], accountToken: [] }],
        response: { 200: linkedAccountSchema, ...errors },
      },
    },
    async (request) => {
      const { rows } = await app.db.pool.query(
        `SELECT ${ACCOUNT_COLUMNS} FROM linked_accounts WHERE id = $1`,
        [request.account.id],
      );
      return withSupportedFields(rows[0]);
    },
  );

  routes.get(
    '/v1/linked-accounts/:id',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'get_linked_account',
        summary: 'Get a linked account',
        description:
          'Returns one of your linked accounts by id: its status (and what to fix when it needs attention), its last sync, and per model which unified fields its provider fills (supported_fields), so an empty field can be told from one the provider does not supply. Needs only the API key.',
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        params: z.object({ id: idInput.describe('The linked account id.') }),
        response: {
          200: linkedAccountSchema,
          ...errors,
          404: errorResponseSchema.describe('No linked account of yours has this id.'),
        },
      },
    },
    async (request) => {
      const { rows } = await app.db.pool.query(
        `SELECT ${ACCOUNT_COLUMNS} FROM linked_accounts WHERE id = $1 AND platform_id = $2`,
        [request.params.id, request.apiKey.platformId],
      );
      const account = rows[0];
      if (!account) {
        throw new AppError('not_found', 'No linked account of yours has this id.', [
          { field: 'id', message: 'not found' },
        ]);
      }
      return withSupportedFields(account);
    },
  );
}
