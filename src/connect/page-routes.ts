import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { encryptedCredentialColumns } from '../accounts/linked-accounts.js';
import { inTransaction } from '../db/transaction.js';
import { AppError } from '../errors.js';
import { insertLinkedAccount, replaceLinkedAccountCredentials } from '../platforms/platform-service.js';
import type { AnyProviderDefinition } from '../providers/definition.js';
import { type ProviderDependencies, type ProviderId, providerDefinition } from '../providers/registry.js';
import type { SyncProgress } from '../sync/engine.js';
import { describeCertificate } from './certificate.js';
import { blockingFailure, runConnectChecks } from './checks.js';
import { issueCsrfToken, verifyCsrf } from './csrf.js';
import { connectFormBodySchema, credentialsFromForm } from './form.js';
import { type ConnectLink, claimConnectLink, findConnectLink, recordLinkedAccount } from './links.js';
import { EventQueue, ndjsonStream } from './ndjson.js';
import { connectPage, linkGonePage } from './page-html.js';
import { issuePublicToken } from './public-tokens.js';

/**
 * The hosted connect page at /connect/<link token> and the calls it makes. None of these routes
 * takes an API key: the link token in the path is the credential, checked on every request.
 */
export interface ConnectPageOptions {
  /** Each provider's plumbing for the page's live checks (small pools, short retries). */
  providers: ProviderDependencies;
  /** Requests per minute per client address on /connect routes. */
  ratePerMinute: number;
}

const ASSETS = {
  'connect.js': { type: 'text/javascript; charset=utf-8', file: 'connect.js' },
  'connect.css': { type: 'text/css; charset=utf-8', file: 'connect.css' },
} as const;

function loadAsset(file: string): string {
  return readFileSync(new URL(`./assets/${file}`, import.meta.url), 'utf8');
}

const tokenParams = z.object({ token: z.string().max(200) });

/** Stops search engines, caches and the Referer header from carrying the link anywhere. */
function privatePage(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-robots-tag', 'noindex');
}

async function usableLink(app: FastifyInstance, token: string): Promise<ConnectLink> {
  const found = await findConnectLink(app.db.pool, token);
  if (found.state === 'usable') return found.link;
  if (found.state === 'unknown') throw new AppError('not_found', 'This connect link is not valid.');
  throw new AppError(
    'gone',
    found.state === 'used'
      ? 'This connect link has already been used; ask the platform for a new one.'
      : 'This connect link has expired; ask the platform for a new one.',
  );
}

/** The link's provider: its definition and this process's dependencies for it. */
function linkProvider(
  link: ConnectLink,
  providers: ProviderDependencies,
): { definition: AnyProviderDefinition; dependencies: unknown } {
  const definition = providerDefinition(link.provider);
  const dependencies = providers[link.provider as ProviderId];
  if (!definition || !dependencies) {
    throw new AppError(
      'conflict',
      `This connect link is for provider "${link.provider}", which this gateway does not serve.`,
    );
  }
  return { definition, dependencies };
}

export async function connectPageRoutes(app: FastifyInstance, options: ConnectPageOptions): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // Per client address: the link token is the only credential, so guessing is slowed per source.
  const rateLimit = {
    max: options.ratePerMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => `connect:${request.ip}`,
  };
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([name, asset]) => [name, { ...asset, body: loadAsset(asset.file) }]),
  );

  routes.get(
    '/connect/assets/:name',
    { schema: { hide: true, params: z.object({ name: z.string().max(40) }) } },
    async (request, reply) => {
      const asset = assets[request.params.name];
      if (!asset) throw new AppError('not_found', 'No such asset.');
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
    },
  );

  routes.get(
    '/connect/:token',
    { config: { rateLimit }, schema: { hide: true, params: tokenParams } },
    async (request, reply) => {
      privatePage(reply).type('text/html; charset=utf-8');
      const found = await findConnectLink(app.db.pool, request.params.token);
      if (found.state !== 'usable') {
        const link = found.state === 'unknown' ? undefined : found.link;
        return reply.code(found.state === 'unknown' ? 404 : 410).send(linkGonePage(found.state, link));
      }
      const csrf = issueCsrfToken(request, reply, found.link, `/connect/${request.params.token}`);
      const definition = providerDefinition(found.link.provider);
      if (!definition) return reply.code(404).send(linkGonePage('unknown'));
      return reply.send(connectPage(found.link, csrf, definition));
    },
  );

  routes.post(
    '/connect/:token/certificate',
    {
      config: { rateLimit },
      schema: {
        hide: true,
        params: tokenParams,
        body: z
          .object({
            certificate_pem: z.string().max(20_000),
            private_key_pem: z.string().max(20_000).optional(),
          })
          .strict(),
      },
    },
    async (request, reply) => {
      const link = await usableLink(app, request.params.token);
      verifyCsrf(request, link, app.config.PUBLIC_URL);
      const result = describeCertificate(request.body.certificate_pem, request.body.private_key_pem);
      if (!result.ok)
        throw new AppError('invalid_request_body', 'The certificate needs attention.', result.errors);
      return privatePage(reply).send(result.summary);
    },
  );

  routes.post(
    '/connect/:token/checks',
    { config: { rateLimit }, schema: { hide: true, params: tokenParams, body: connectFormBodySchema } },
    async (request, reply) => {
      const link = await usableLink(app, request.params.token);
      verifyCsrf(request, link, app.config.PUBLIC_URL);
      const { definition, dependencies } = linkProvider(link, options.providers);
      const credentials = credentialsFromForm(definition, request.body);
      privatePage(reply).type('application/x-ndjson; charset=utf-8');
      return reply.send(ndjsonStream(runConnectChecks(definition, credentials, dependencies)));
    },
  );

  routes.post(
    '/connect/:token/connect',
    { config: { rateLimit }, schema: { hide: true, params: tokenParams, body: connectFormBodySchema } },
    async (request, reply) => {
      const link = await usableLink(app, request.params.token);
      verifyCsrf(request, link, app.config.PUBLIC_URL);
      const { definition, dependencies } = linkProvider(link, options.providers);
      const credentials = credentialsFromForm(definition, request.body);
      // The page has shown every check; the server re-runs the essential ones so that a
      // hand-made request cannot store credentials that do not even get a token.
      const failure = await blockingFailure(definition, credentials, dependencies);
      if (failure) {
        throw new AppError('invalid_request_body', failure.remediation ?? failure.detail, [
          { message: failure.title },
        ]);
      }
      const linked = await saveConnection(app, link, credentials);
      request.log.info(
        { linkedAccountId: linked.linkedAccountId, purpose: link.purpose, connectLinkId: link.id },
        'connect link used',
      );
      privatePage(reply).type('application/x-ndjson; charset=utf-8');
      return reply.send(ndjsonStream(firstSyncEvents(app, link, linked)));
    },
  );
}

interface SavedConnection {
  linkedAccountId: string;
  publicToken: string | null;
}

/**
 * Claims the link and stores what it produces in one transaction: a new linked account, the link's
 * record of it and the public token, or new credentials on the relinked account. A second tab or a
 * replay loses the claim; a failure or a killed process leaves nothing behind and the link usable.
 */
async function saveConnection(
  app: FastifyInstance,
  link: ConnectLink,
  credentials: unknown,
): Promise<SavedConnection> {
  const credentialColumns = encryptedCredentialColumns(app.keyring, link.provider, credentials);
  return inTransaction(app.db.pool, async (client) => {
    if (!(await claimConnectLink(client, link.id))) {
      throw new AppError('gone', 'This connect link has just been used or has expired; ask for a new one.');
    }
    if (link.purpose === 'relink') {
      if (!link.linkedAccountId) throw new Error('relink link without an account');
      await replaceLinkedAccountCredentials(client, link.linkedAccountId, credentialColumns);
      return { linkedAccountId: link.linkedAccountId, publicToken: null };
    }
    const { accountId, accountToken } = await insertLinkedAccount(client, {
      platformId: link.platformId,
      endUserOriginId: link.endUserOriginId,
      organizationName: link.organizationName,
      endUserEmail: link.endUserEmail,
      status: 'connected',
      ...credentialColumns,
    });
    await recordLinkedAccount(client, link.id, accountId);
    const publicToken = await issuePublicToken(client, app.keyring, {
      platformId: link.platformId,
      linkedAccountId: accountId,
      connectLinkId: link.id,
      accountToken,
    });
    return { linkedAccountId: accountId, publicToken };
  });
}

type ConnectEvent =
  | { type: 'linked'; purpose: string; linked_account_id: string; public_token: string | null }
  | { type: 'progress'; model: string; source: string; records: number; pages: number; done: boolean }
  | {
      type: 'finished';
      status: 'succeeded' | 'failed' | 'running_elsewhere';
      account_status: string | null;
      status_reason: string | null;
      models: { model: string; source: string; records: number }[];
    };

/** Step 4's events: the account, then the first sync's progress per source, then the outcome. */
async function* firstSyncEvents(
  app: FastifyInstance,
  link: ConnectLink,
  saved: SavedConnection,
): AsyncGenerator<ConnectEvent> {
  yield {
    type: 'linked',
    purpose: link.purpose,
    linked_account_id: saved.linkedAccountId,
    public_token: saved.publicToken,
  };
  const queue = new EventQueue<ConnectEvent>();
  const toEvent = (progress: SyncProgress): ConnectEvent => ({
    type: 'progress',
    model: progress.model,
    source: progress.sourceTable,
    records: progress.records,
    pages: progress.pages,
    done: progress.done,
  });
  // The sync goes on even if the admin closes the page; its outcome lands in sync_runs either way.
  const run = app.sync
    .runNow(saved.linkedAccountId, {
      kind: 'full',
      trigger: 'connect',
      onProgress: (progress) => queue.push(toEvent(progress)),
    })
    .then(
      (result) => result,
      (error: unknown) => {
        app.log.error(
          { err: error, linkedAccountId: saved.linkedAccountId },
          'first sync after connect failed',
        );
        return null;
      },
    )
    .finally(() => queue.close());
  yield* queue.drain();
  const result = await run;
  const { rows } = await app.db.pool.query<{ status: string; status_reason: string | null }>(
    'SELECT status, status_reason FROM linked_accounts WHERE id = $1',
    [saved.linkedAccountId],
  );
  const states = await app.db.pool.query<{ model: string; source: string }>(
    'SELECT model, source FROM sync_states WHERE linked_account_id = $1 ORDER BY model',
    [saved.linkedAccountId],
  );
  const stats = (result?.stats ?? {}) as Record<string, { source: string; created: number; updated: number }>;
  yield {
    type: 'finished',
    status: result === undefined ? 'running_elsewhere' : (result?.status ?? 'failed'),
    account_status: rows[0]?.status ?? null,
    status_reason: rows[0]?.status_reason ?? null,
    models: states.rows.map((row) => {
      const stat = stats[row.model];
      return {
        model: row.model,
        source: row.source,
        records: stat ? stat.created + stat.updated : 0,
      };
    }),
  };
}
