import { readFile } from 'node:fs/promises';
import type { ProviderDefinition } from '../definition.js';
import { createHttpPool, createMsalNetworkClient } from '../http-pool.js';
import { dynamicsConnectForm, dynamicsCredentialsFromForm } from './connect-form.js';
import { DynamicsConnection, type DynamicsDependencies } from './connection.js';
import { credentialsExpireAt, type DynamicsCredentials, dynamicsCredentialsSchema } from './credentials.js';
import { diagnose } from './diagnose.js';
import { DYNAMICS_PASSTHROUGH_TARGETS } from './passthrough.js';
import { dynamicsSensitiveColumns } from './sensitive-columns.js';
import { type DynamicsSettings, dynamicsSettingsSchema } from './settings.js';
import { DYNAMICS_SUPPORTED_FIELDS } from './supported-fields.js';

/** Microsoft Dynamics 365 Human Resources: Dataverse, with Finance & Operations as fallback. */
export const dynamicsProvider: ProviderDefinition<
  DynamicsCredentials,
  DynamicsDependencies,
  DynamicsSettings
> = {
  id: 'dynamics365',
  displayName: 'Dynamics 365 Human Resources',
  credentialsSchema: dynamicsCredentialsSchema,
  connectForm: dynamicsConnectForm,
  settingsSchema: dynamicsSettingsSchema,
  // Without a token or the application user nothing can sync; table problems only degrade models.
  blockingChecks: new Set(['token', 'whoami']),
  supportedFields: DYNAMICS_SUPPORTED_FIELDS,
  sensitiveRemoteFields: dynamicsSensitiveColumns(),
  passthroughTargets: DYNAMICS_PASSTHROUGH_TARGETS,
  credentialsFromForm: dynamicsCredentialsFromForm,
  credentialsExpireAt,
  expiringCredentials: {
    name: 'The client secret or certificate',
    advice:
      'create a new one in Entra ID (App registrations > your app > Certificates & secrets) and relink with it',
  },
  describeSource: (source) =>
    source.startsWith('dataverse:')
      ? { kind: 'dataverse', label: 'Dataverse' }
      : { kind: 'fno', label: 'Finance & Operations fallback' },
  diagnose: (error) => diagnose(error),

  async createDependencies({ settings, config, purpose, caCertPem, log }) {
    const trusted =
      caCertPem ??
      (settings.DYNAMICS_CA_FILE ? await readFile(settings.DYNAMICS_CA_FILE, 'utf8') : undefined);
    const ca = trusted ? { caCertPem: trusted } : {};
    if (purpose === 'sync') {
      const dispatcher = createHttpPool({ ...ca, connections: settings.DATAVERSE_CONCURRENCY });
      const dependencies: DynamicsDependencies = {
        dispatcher,
        networkClient: createMsalNetworkClient(dispatcher),
        concurrency: settings.DATAVERSE_CONCURRENCY,
        pageSize: settings.DATAVERSE_PAGE_SIZE,
        retryBudgetMs: config.SYNC_RETRY_BUDGET_SECONDS * 1000,
        ...(log ? { onRetry: (event) => log.warn(event, 'retrying a Dynamics request') } : {}),
      };
      return { dependencies, close: () => dispatcher.close() };
    }
    // The connect page and passthrough: someone is waiting, so fail fast and say why rather than
    // retry for minutes; passthrough's own time limit bounds its requests.
    const timeoutMs = purpose === 'passthrough' ? config.PASSTHROUGH_TIMEOUT_SECONDS * 1000 : 30_000;
    const dispatcher = createHttpPool({ ...ca, connections: 8, timeoutMs });
    const dependencies: DynamicsDependencies = {
      dispatcher,
      networkClient: createMsalNetworkClient(dispatcher),
      concurrency: 4,
      pageSize: 1,
      retryBudgetMs: Math.min(timeoutMs, 10_000),
    };
    return { dependencies, close: () => dispatcher.close() };
  },

  connect: (linkedAccountId, credentials, dependencies) =>
    new DynamicsConnection(linkedAccountId, credentials, dependencies),
};
