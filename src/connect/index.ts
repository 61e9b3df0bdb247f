import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createProviderDependencies } from '../providers/registry.js';
import { connectPageRoutes } from './page-routes.js';

/**
 * The hosted connect page (/connect/<link token>); the platform's side of the flow (/v1/link-tokens,
 * relink, account-token) is in platform-routes.ts, among the authenticated /v1 routes. The page's
 * live checks get each provider's "connect" dependencies (their own small HTTP pools, trusting the
 * same CAs as the sync's, app.providerCaCertPem included), so an admin testing settings never waits behind a large sync, and a
 * slow tenant cannot starve the sync either.
 */
export const CONNECT_RATE_PER_MINUTE = 60;

export const connectPage = fp(
  async (app: FastifyInstance) => {
    const providers = await createProviderDependencies(app.config, {
      purpose: 'connect',
      ...(app.providerCaCertPem ? { caCertPem: app.providerCaCertPem } : {}),
    });
    app.addHook('onClose', async () => {
      await providers.close();
    });
    await app.register(connectPageRoutes, {
      providers: providers.dependencies,
      ratePerMinute: CONNECT_RATE_PER_MINUTE,
    });
  },
  { name: 'connect', dependencies: ['database'] },
);
