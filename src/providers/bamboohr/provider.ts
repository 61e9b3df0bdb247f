import { readFile } from 'node:fs/promises';
import type { ProviderDefinition } from '../definition.js';
import { createDynamicsHttp } from '../dynamics/http-client.js';
import { BAMBOOHR_SENSITIVE_REMOTE_FIELDS, BAMBOOHR_SUPPORTED_FIELDS } from './catalog.js';
import { bambooConnectForm, bambooCredentialsFromForm } from './connect-form.js';
import { BambooConnection, type BambooDependencies } from './connection.js';
import { type BambooCredentials, bambooCredentialsSchema } from './credentials.js';
import { diagnoseBamboo } from './diagnose.js';
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
    const forConnect = purpose === 'connect';
    // An undici pool with an optional extra CA: the same helper the Dynamics provider uses.
    const dispatcher = createDynamicsHttp({
      ...(trusted ? { caCertPem: trusted } : {}),
      connections: forConnect ? 4 : settings.BAMBOOHR_CONCURRENCY * 4,
      ...(forConnect ? { timeoutMs: 30_000 } : {}),
    });
    const dependencies: BambooDependencies = {
      dispatcher,
      concurrency: forConnect ? 2 : settings.BAMBOOHR_CONCURRENCY,
      pageSize: 1000,
      // The admin is waiting on the connect page: fail fast and say why.
      retryBudgetMs: forConnect ? 10_000 : config.SYNC_RETRY_BUDGET_SECONDS * 1000,
      ...(log && !forConnect ? { onRetry: (event) => log.warn(event, 'retrying a BambooHR request') } : {}),
    };
    return { dependencies, close: () => dispatcher.close() };
  },

  connect: (linkedAccountId, credentials, dependencies) =>
    new BambooConnection(linkedAccountId, credentials, dependencies),
};
