import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DynamicsDependencies } from '../providers/dynamics/connection.js';
import { createDynamicsHttp, createMsalNetworkClient } from '../providers/dynamics/http-client.js';
import { connectPageRoutes } from './page-routes.js';

/**
 * The hosted connect page (/connect/<link token>); the platform's side of the flow (/v1/link-tokens,
 * relink, account-token) is in platform-routes.ts, among the authenticated /v1 routes. The page's live checks get their own small HTTP pool to
 * Microsoft (trusting DYNAMICS_CA_FILE like the sync's), so an admin testing settings never
 * waits behind a large sync, and a slow tenant cannot starve the sync either.
 */
export const CONNECT_RATE_PER_MINUTE = 60;

export const connectPage = fp(
  async (app: FastifyInstance) => {
    const caCertPem = app.config.DYNAMICS_CA_FILE
      ? await readFile(app.config.DYNAMICS_CA_FILE, 'utf8')
      : undefined;
    const dispatcher = createDynamicsHttp({
      ...(caCertPem ? { caCertPem } : {}),
      connections: 8,
      timeoutMs: 30_000,
    });
    app.addHook('onClose', async () => {
      await dispatcher.close();
    });
    const dynamics: DynamicsDependencies = {
      dispatcher,
      networkClient: createMsalNetworkClient(dispatcher),
      concurrency: 4,
      pageSize: 1,
      // The admin is waiting: fail fast and say why rather than retry for minutes.
      retryBudgetMs: 10_000,
    };
    await app.register(connectPageRoutes, { dynamics, ratePerMinute: CONNECT_RATE_PER_MINUTE });
  },
  { name: 'connect', dependencies: ['database'] },
);
