import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';
import { type Keyring, loadKeyring } from './crypto/credentials.js';
import type { Database } from './db/database.js';
import type { DynamicsDependencies } from './providers/dynamics/connection.js';
import { createDynamicsHttp, createMsalNetworkClient } from './providers/dynamics/http-client.js';
import { SyncService } from './sync/sync-service.js';
import { WebhookService } from './webhooks/webhook-service.js';

/**
 * The long-lived services of a gateway process beside its database: the credentials keyring, the
 * HTTP pool to Microsoft's services, the sync service and webhook delivery. server.ts, the CLI's demo and tests
 * build them the same way.
 */
export interface Services {
  keyring: Keyring;
  dynamics: DynamicsDependencies;
  sync: SyncService;
  /** Webhook delivery (started on the worker role only). */
  webhooks: WebhookService;
  close(): Promise<void>;
}

type Logger = ConstructorParameters<typeof SyncService>[0]['log'];

export async function createServices(
  config: Config,
  db: Database,
  log: Logger,
  overrides: { caCertPem?: string } = {},
): Promise<Services> {
  const keyring = await loadKeyring(config, (message) => log.warn({}, message));
  const caCertPem =
    overrides.caCertPem ??
    (config.DYNAMICS_CA_FILE ? await readFile(config.DYNAMICS_CA_FILE, 'utf8') : undefined);
  const dispatcher = createDynamicsHttp({
    ...(caCertPem ? { caCertPem } : {}),
    connections: config.DATAVERSE_CONCURRENCY,
  });
  const dynamics: DynamicsDependencies = {
    dispatcher,
    networkClient: createMsalNetworkClient(dispatcher),
    concurrency: config.DATAVERSE_CONCURRENCY,
    pageSize: config.DATAVERSE_PAGE_SIZE,
    retryBudgetMs: config.SYNC_RETRY_BUDGET_SECONDS * 1000,
    onRetry: (event) => log.warn(event, 'retrying a Dynamics request'),
  };
  const sync = new SyncService({
    db,
    keyring,
    providers: { dynamics365: dynamics },
    intervalMinutes: config.SYNC_INTERVAL_MINUTES,
    fullIntervalHours: config.FULL_SYNC_INTERVAL_HOURS,
    lease: { leaseSeconds: config.SYNC_LEASE_SECONDS, renewSeconds: config.SYNC_LEASE_RENEW_SECONDS },
    log,
  });
  const webhooks = new WebhookService({ db, keyring, config, log });
  return {
    keyring,
    dynamics,
    sync,
    webhooks,
    async close() {
      await sync.stop();
      await webhooks.stop();
      await dispatcher.close();
    },
  };
}
