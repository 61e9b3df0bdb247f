import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { idInput, textInput } from '../api/input-schemas.js';
import { AppError, errorResponseSchema } from '../errors.js';
import { PROVIDER_IDS, PROVIDERS, providerDefinition } from '../providers/registry.js';
import { createConnectLink, DEFAULT_LINK_DAYS, MAX_LINK_DAYS } from './links.js';
import { claimAccountToken, exchangePublicToken } from './public-tokens.js';

/**
 * The platform's side of the connect flow: issue magic links (new account or relink), and
 * exchange the one-time public token a finished flow hands out for the account token.
 */
const linkTokenResponseSchema = z
  .object({
    link_token: z
      .string()
      .describe('The secret in the magic link. Shown once; the gateway keeps only its hash.'),
    magic_link_url: z.url().describe("Send this to the employer's IT admin (email, your app)."),
    expires_at: z.iso.datetime({ offset: true }),
  })
  .meta({
    id: 'LinkToken',
    description: 'A magic link for an employer’s IT admin. Single use; expires at expires_at.',
    example: {
      link_token: 'hlt_q3Jk1n0x7Yb2dF5hR8tW4vZ6cE9gA1sL3mP0oI2uT5y',
      magic_link_url: 'https://gateway.example.com/connect/hlt_q3Jk1n0x7Yb2dF5hR8tW4vZ6cE9gA1sL3mP0oI2uT5y',
      expires_at: '2026-12-03T10:00:00.000Z',
    },
  });

const expiresInDays = z
  .number()
  .int()
  .min(1)
  .max(MAX_LINK_DAYS)
  .default(DEFAULT_LINK_DAYS)
  .describe(`Days the link stays valid, 1 to ${MAX_LINK_DAYS}.`);

const errors = {
  400: errorResponseSchema.describe('The body is malformed; details name the field.'),
  401: errorResponseSchema.describe('The API key is missing or invalid.'),
  429: errorResponseSchema.describe('Rate limit exceeded; retry after the Retry-After header.'),
};

export async function connectPlatformRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const magicLink = (token: string) => {
    const base = app.config.PUBLIC_URL ?? `http://${app.config.HOST}:${app.config.PORT}`;
    return new URL(`/connect/${token}`, base).toString();
  };

  routes.post(
    '/v1/link-tokens',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'create_link_token',
        summary: 'Create a magic link',
        description:
          "Creates a single-use magic link that guides the employer's IT admin through linking their HR system (the provider): what to prepare in that system's own admin screens, live checks with the exact fix for each problem, then the first sync. When the admin finishes, the account appears in GET /v1/linked-accounts and the page shows a one-time public_token to exchange at POST /v1/account-token. Needs only the API key.",
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        body: z
          .object({
            end_user_origin_id: textInput(200).describe('Your id for the employer.'),
            organization_name: textInput(200).describe('Shown to the admin on the page.'),
            end_user_email: z.email().max(320).optional().describe("The admin's email, for your records."),
            provider: z
              .enum(PROVIDER_IDS)
              .describe(
                `The HR system: ${PROVIDER_IDS.map((id) => `${id} (${PROVIDERS[id].displayName})`).join(', ')}.`,
              ),
            expires_in_days: expiresInDays,
          })
          .strict()
          .meta({
            example: {
              end_user_origin_id: 'employer-4471',
              organization_name: 'Contoso Ltd',
              end_user_email: 'it-admin@contoso.com',
              provider: PROVIDER_IDS[0],
              expires_in_days: 7,
            },
          }),
        response: { 201: linkTokenResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const link = await createConnectLink(app.db.pool, {
        platformId: request.apiKey.platformId,
        purpose: 'create',
        endUserOriginId: body.end_user_origin_id,
        organizationName: body.organization_name,
        endUserEmail: body.end_user_email ?? null,
        provider: body.provider,
        expiresInDays: body.expires_in_days,
      });
      return reply.code(201).send({
        link_token: link.linkToken,
        magic_link_url: magicLink(link.linkToken),
        expires_at: link.expiresAt.toISOString(),
      });
    },
  );

  routes.post(
    '/v1/linked-accounts/:id/relink',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'create_relink_token',
        summary: 'Create a relink magic link',
        description:
          'Creates a magic link that replaces the credentials of an existing linked account of any provider, e.g. when its client secret, certificate or API key expires or is revoked (status expiring_soon or needs_reauth). The account keeps its id, its data and its account token. The page runs the same live checks before saving. Needs only the API key.',
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        params: z.object({ id: idInput.describe('The linked account id.') }),
        body: z
          .object({ expires_in_days: expiresInDays })
          .strict()
          .default({ expires_in_days: DEFAULT_LINK_DAYS })
          .meta({ example: { expires_in_days: 7 } }),
        response: {
          201: linkTokenResponseSchema,
          ...errors,
          404: errorResponseSchema.describe('No linked account of yours has this id.'),
          409: errorResponseSchema.describe(
            'The account belongs to a provider this gateway no longer serves, so it has no credentials to relink.',
          ),
        },
      },
    },
    async (request, reply) => {
      const { rows } = await app.db.pool.query<{
        id: string;
        provider: string;
        end_user_origin_id: string;
        organization_name: string;
        end_user_email: string | null;
      }>(
        `SELECT id, provider, end_user_origin_id, organization_name, end_user_email
         FROM linked_accounts WHERE id = $1 AND platform_id = $2`,
        [request.params.id, request.apiKey.platformId],
      );
      const account = rows[0];
      if (!account) throw new AppError('not_found', 'No linked account of yours has this id.');
      if (!providerDefinition(account.provider)) {
        throw new AppError(
          'conflict',
          `Accounts of provider "${account.provider}" have no credentials to relink.`,
        );
      }
      const link = await createConnectLink(app.db.pool, {
        platformId: request.apiKey.platformId,
        purpose: 'relink',
        linkedAccountId: account.id,
        endUserOriginId: account.end_user_origin_id,
        organizationName: account.organization_name,
        endUserEmail: account.end_user_email,
        provider: account.provider,
        expiresInDays: request.body.expires_in_days,
      });
      return reply.code(201).send({
        link_token: link.linkToken,
        magic_link_url: magicLink(link.linkToken),
        expires_at: link.expiresAt.toISOString(),
      });
    },
  );

  routes.post(
    '/v1/account-token',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'exchange_public_token',
        summary: 'Exchange a public token for the account token',
        description:
          'Exchanges the public_token that a finished connect flow hands out for the permanent account token of the new linked account, within 24 hours, only with an API key of the platform that created the link. Retry-safe: repeating the exchange within 10 minutes (a timeout, a dropped connection) answers the same account token; after that it answers 410 and the gateway can no longer produce the account token, so store it. Needs only the API key.',
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        body: z
          .object({ public_token: textInput(200).describe('From the finished connect page.') })
          .strict()
          .meta({ example: { public_token: 'hpt_Zx8Kq2Lm4Np6Rt1Vw3Yb5Dc7Fg9Hj0Ks2Lm4Np6Qr8' } }),
        response: {
          200: z
            .object({
              account_token: z.string().describe('Send as X-Account-Token. Shown once.'),
              linked_account_id: z.uuid(),
            })
            .meta({
              id: 'AccountToken',
              example: {
                account_token: 'hat_p0Oi9Uy8Tr7Ew6Qa5Sd4Fg3Hj2Kl1Zx0Cv9Bn8Mq7W',
                linked_account_id: '3c0e6d1a-2b4f-4a8e-9d7c-1e2f3a4b5c6d',
              },
            }),
          ...errors,
          404: errorResponseSchema.describe('No public token of yours has this value.'),
          410: errorResponseSchema.describe(
            'The public token was exchanged more than 10 minutes ago, or expired.',
          ),
        },
      },
    },
    async (request) => {
      const result = await exchangePublicToken(
        app.db.pool,
        app.keyring,
        request.apiKey.platformId,
        request.body.public_token,
      );
      if (result.outcome === 'exchanged') {
        return { account_token: result.accountToken, linked_account_id: result.linkedAccountId };
      }
      if (result.outcome === 'unknown')
        throw new AppError('not_found', 'No public token of yours has this value.');
      throw new AppError(
        'gone',
        result.outcome === 'already_exchanged'
          ? 'This public token was already exchanged more than 10 minutes ago; each works once. Use the account token you received then.'
          : 'This public token has expired: it must be exchanged within 24 hours of the connection.',
      );
    },
  );

  routes.post(
    '/v1/linked-accounts/:id/account-token',
    {
      config: { accountTokenOptional: true },
      schema: {
        operationId: 'claim_account_token',
        summary: 'Claim the account token of a new linked account',
        description:
          'For magic links sent to the admin (no front end of yours receives the public token): once the account appears in GET /v1/linked-accounts, claim its account token here with your API key. Retry-safe for 10 minutes like the exchange; answers 410 when the token was claimed or exchanged longer ago (store it: the gateway cannot produce it again) and 404 for an account of another platform or one not created through a link.',
        tags: ['Linked accounts'],
        security: [{ apiKey: [] }],
        params: z.object({ id: idInput.describe('The linked account id from GET /v1/linked-accounts.') }),
        response: {
          200: z.object({
            account_token: z.string().describe('Send as X-Account-Token. Shown once.'),
            linked_account_id: z.uuid(),
          }),
          ...errors,
          404: errorResponseSchema.describe('No account of yours created through a link has this id.'),
          410: errorResponseSchema.describe('The account token was handed over more than 10 minutes ago.'),
        },
      },
    },
    async (request) => {
      const result = await claimAccountToken(
        app.db.pool,
        app.keyring,
        request.apiKey.platformId,
        request.params.id,
      );
      if (result.outcome === 'exchanged') {
        return { account_token: result.accountToken, linked_account_id: result.linkedAccountId };
      }
      if (result.outcome === 'unknown') {
        throw new AppError('not_found', 'No linked account of yours created through a link has this id.', [
          { field: 'id', message: 'not found' },
        ]);
      }
      throw new AppError(
        'gone',
        'The account token of this linked account was already handed over (claimed or exchanged); each is handed over once.',
      );
    },
  );
}
