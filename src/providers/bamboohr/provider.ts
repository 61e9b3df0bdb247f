import { readFile } from 'node:fs/promises';
import type { ProviderDefinition } from '../definition.js';
import { createHttpPool } from '../http-pool.js';
import { BAMBOOHR_SENSITIVE_REMOTE_FIELDS, BAMBOOHR_SUPPORTED_FIELDS } from './catalog.js';
import { bambooConnectForm, bambooCredentialsFromForm } from './connect-form.js';
import { BambooConnection, type BambooDependencies } from './connection.js';
import { type BambooCredentials, bambooCredentialsSchema } from './credentials.js';
import { diagnoseBamboo } from './diagnose.js';
import { BAMBOOHR_PASSTHROUGH_TARGETS } from './passthrough.js';
import { type BambooSettings, bambooSettingsSchema } from './settings.js';

/** BambooHR: one company per account, read through its REST API with an API key (docs/bamboohr.md). */
export const bambooProvider: ProviderDefinition<BambooCredentials, BambooDependencies, BambooSettings> = {
  id: 'bamboohr',
  displayName: 'BambooHR',
  credentialsSchema: bambooCredentialsSchema,
  connectForm: bambooConnectForm,
  settingsSchema: bambooSettingsSchema,
  // Without an accepted key for the domain nothing syncs; the rest degrade single models.
  blockingChecks: new Set(['api-key']),
  supportedFields: BAMBOOHR_SUPPORTED_FIELDS,
  sensitiveRemoteFields: BAMBOOHR_SENSITIVE_REMOTE_FIELDS,
  passthroughTargets: BAMBOOHR_PASSTHROUGH_TARGETS,
  credentialsFromForm: bambooCredentialsFromForm,
  // BambooHR API keys do not expire; they are revoked.
  credentialsExpireAt: () => null,
  expiringCredentials: {
    name: 'The BambooHR API key',
    advice: 'create a new API key in BambooHR (your name › API Keys) and relink with it',
  },
  describeSource: () => ({ kind: 'bamboohr', label: 'BambooHR API' }),
  diagnose: diagnoseBamboo,

  async createDependencies({ settings, config, purpose, caCertPem, log }) {
    const trusted =
      caCertPem ??
      (settings.BAMBOOHR_CA_FILE ? await readFile(settings.BAMBOOHR_CA_FILE, 'utf8') : undefined);
    const ca = trusted ? { caCertPem: trusted } : {};
    if (purpose === 'sync') {
      const dispatcher = createHttpPool({ ...ca, connections: settings.BAMBOOHR_CONCURRENCY * 2 });
      const dependencies: BambooDependencies = {
        dispatcher,
        concurrency: settings.BAMBOOHR_CONCURRENCY,
        pageSize: 1000,
        retryBudgetMs: config.SYNC_RETRY_BUDGET_SECONDS * 1000,
        ...(log ? { onRetry: (event) => log.warn(event, 'retrying a BambooHR request') } : {}),
      };
      return { dependencies, close: () => dispatcher.close() };
    }
    // The connect page and passthrough: someone is waiting, so fail fast and say why.
    const timeoutMs = purpose === 'passthrough' ? config.PASSTHROUGH_TIMEOUT_SECONDS * 1000 : 30_000;
    const dispatcher = createHttpPool({ ...ca, connections: 4, timeoutMs });
    const dependencies: BambooDependencies = {
      dispatcher,
      concurrency: 2,
      pageSize: 1000,
      retryBudgetMs: Math.min(timeoutMs, 10_000),
    };
    return { dependencies, close: () => dispatcher.close() };
  },

  connect: (linkedAccountId, credentials, dependencies) =>
    new BambooConnection(linkedAccountId, credentials, dependencies),
};
