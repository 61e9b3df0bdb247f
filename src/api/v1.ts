import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { connectPage } from '../connect/index.js';
import { connectPlatformRoutes } from '../connect/platform-routes.js';
import type { ModelSpec } from '../unified/models.js';
import { type AccountPrincipal, type ApiKeyPrincipal, Authenticator } from './authentication.js';
import { type ReadOptions, sensitiveFieldsRead } from './record-queries.js';
import { linkedAccountRoutes } from './routes/linked-accounts.js';
import { passthroughRoutes } from './routes/passthrough.js';
import { recordRoutes } from './routes/records.js';
import { syncRoutes } from './routes/sync.js';
import { webhookRoutes } from './routes/webhooks.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's API key; set on every /v1 route. */
    apiKey: ApiKeyPrincipal;
    /** The linked account of X-Account-Token; set on /v1 routes that act on one account. */
    account: AccountPrincipal;
  }
  interface FastifyInstance {
    authenticator: Authenticator;
    /** Leaves an audit record when a response carries sensitive fields. */
    auditSensitiveRead(
      request: FastifyRequest,
      spec: ModelSpec,
      options: ReadOptions,
      count: number,
    ): Promise<void>;
  }
  interface FastifyContextConfig {
    /** The route needs only the API key (e.g. listing linked accounts). */
    accountTokenOptional?: boolean;
  }
}

/** The /v1 API: authentication bound to every route of it, then the routes; and the public connect page. */
export const v1Api = fp(
  async (app: FastifyInstance) => {
    const authenticator = new Authenticator(
      app.db.pool,
      app.config.AUTH_CACHE_SECONDS,
      app.config.AUTH_FAILURES_PER_MINUTE,
    );
    app.decorate('authenticator', authenticator);
    app.decorateRequest('apiKey', null as unknown as ApiKeyPrincipal);
    app.decorateRequest('account', null as unknown as AccountPrincipal);

    app.decorate(
      'auditSensitiveRead',
      async (request: FastifyRequest, spec: ModelSpec, options: ReadOptions, count: number) => {
        const fields = sensitiveFieldsRead(spec, options);
        if (fields.length === 0) return;
        await app.db.pool.query(
          `INSERT INTO sensitive_read_audits (api_key_id, linked_account_id, model, fields, record_count, request_id)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [request.apiKey.keyId, request.account.id, spec.name, fields, count, request.id],
        );
      },
    );

    // Every authenticated route lives in this one encapsulated scope, whose onRequest hook runs for
    // each of its routes whatever spelling of the URL reached it (the router decodes `%761` to `v1`;
    // a URL-prefix test would not). A route outside this scope is public: test/api/security.test.ts
    // enumerates every route and proves which ones refuse a request without credentials.
    await app.register(async (authenticated) => {
      // Authentication runs before validation, so a caller without a key learns that first.
      authenticated.addHook('onRequest', async (request) => {
        request.apiKey = await authenticator.authenticateKey(request.headers.authorization, request.ip);
        if (request.routeOptions.config.accountTokenOptional) return;
        const token = request.headers['x-account-token'];
        request.account = await authenticator.authenticateAccount(
          Array.isArray(token) ? token[0] : token,
          request.apiKey.platformId,
          request.ip,
        );
      });
      await authenticated.register(recordRoutes);
      await authenticated.register(linkedAccountRoutes);
      await authenticated.register(syncRoutes);
      await authenticated.register(webhookRoutes);
      await authenticated.register(passthroughRoutes);
      await authenticated.register(connectPlatformRoutes);
    });
    // The hosted connect page: public by design (the link token in its URL is the credential).
    await app.register(connectPage);
  },
  { name: 'v1-api', dependencies: ['database'] },
);
