import type { Config } from './config.js';
import { type Keyring, loadKeyring } from './crypto/credentials.js';
import type { Database } from './db/database.js';
import { createProviderDependencies, type ProviderDependencies } from './providers/registry.js';
import { SyncService } from './sync/sync-service.js';
import { WebhookService } from './webhooks/webhook-service.js';

/**
 * The long-lived services of a gateway process beside its database: the credentials keyring, each
 * provider's plumbing (its HTTP pools), the sync service and webhook delivery. server.ts, the CLI's demo and tests
 * build them the same way.
 */
export interface Services {
  keyring: Keyring;
  /** Each provider's plumbing for syncs, by provider id. */
  providers: ProviderDependencies;
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
  /** caCertPem: extra CA certificate(s) every provider trusts (the sandbox's). */
  overrides: { caCertPem?: string } = {},
): Promise<Services> {
  const keyring = await loadKeyring(config, (message) => log.warn({}, message));
  const providers = await createProviderDependencies(config, {
    purpose: 'sync',
    log,
    ...(overrides.caCertPem ? { caCertPem: overrides.caCertPem } : {}),
  });
  const sync = new SyncService({
    db,
    keyring,
    providers: providers.dependencies,
    intervalMinutes: config.SYNC_INTERVAL_MINUTES,
    fullIntervalHours: config.FULL_SYNC_INTERVAL_HOURS,
    lease: { leaseSeconds: config.SYNC_LEASE_SECONDS, renewSeconds: config.SYNC_LEASE_RENEW_SECONDS },
    log,
  });
  const webhooks = new WebhookService({ db, keyring, config, log });
  return {
    keyring,
    providers: providers.dependencies,
    sync,
    webhooks,
    async close() {
      await sync.stop();
      await webhooks.stop();
      await providers.close();
    },
  };
}
