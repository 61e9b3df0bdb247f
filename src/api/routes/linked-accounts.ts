import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponseSchema } from '../../errors.js';
import { LinkedAccountStatus } from '../../generated/prisma/enums.js';
import { textInput } from '../input-schemas.js';
import { pageParams } from '../list-query.js';
import { decodeCursor, toPage } from '../pagination.js';

/** The platform's view of its linked accounts (never their credentials or tokens). */

export const linkedAccountSchema = z
  .object({
    id: z.uuid(),
    end_user_origin_id: z.string().describe('Your id for the employer.'),
    organization_name: z.string(),
    end_user_email: z.string().nullable(),
    provider: z.string().describe('The HR system, e.g. dynamics365.'),
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
  })
  .meta({
    id: 'LinkedAccount',
    description: 'An employer account linked to your platform.',
    example: {
      id: '3c0e6d1a-2b4f-4a8e-9d7c-1e2f3a4b5c6d',
      end_user_origin_id: 'employer-4471',
      organization_name: 'Contoso Ltd',
      end_user_email: 'it-admin@contoso.com',
      provider: 'dynamics365',
      status: 'connected',
      status_reason: null,
      credentials_expire_at: '2027-05-01T00:00:00.000Z',
      created_at: '2026-11-01T10:00:00.000Z',
      last_synced_at: '2026-11-26T02:55:00.000Z',
    },
  });

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
      return toPage(rows, pageSize, cursor);
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
      return rows[0];
    },
  );
}
