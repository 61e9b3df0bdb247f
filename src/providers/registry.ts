import type { Config } from '../config.js';
import type { Keyring } from '../crypto/credentials.js';
import type { Database } from '../db/database.js';
import type { ModelName } from '../unified/models.js';
import { bambooProvider } from './bamboohr/provider.js';
import type { AnyProviderDefinition, DependencyContext, ProviderDefinition } from './definition.js';
import { dynamicsProvider } from './dynamics/provider.js';
import type { ProviderConnection } from './types.js';

/**
 * The providers the gateway can sync, by the `provider` value of a linked account. The only place
 * that names providers: an explicit map (no self-registration), so adding a provider is a folder
 * under providers/ and one line here (docs/providers.md).
 */
const DEFINITIONS = {
  dynamics365: dynamicsProvider,
  bamboohr: bambooProvider,
} as const satisfies Record<string, AnyProviderDefinition>;

export type ProviderId = keyof typeof DEFINITIONS;

export const PROVIDERS: Record<ProviderId, AnyProviderDefinition> = DEFINITIONS;

/** Every registered provider id (for schemas such as the link-token body's `provider`). */
export const PROVIDER_IDS = Object.keys(PROVIDERS) as [ProviderId, ...ProviderId[]];

/** The definition of a provider id read from the database or a request, if it is registered. */
export function providerDefinition(id: string): AnyProviderDefinition | undefined {
  return Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id as ProviderId] : undefined;
}

type DependenciesOf<Definition> =
  Definition extends ProviderDefinition<unknown, infer Dependencies, unknown> ? Dependencies : never;

type CredentialsOfDefinition<Definition> =
  Definition extends ProviderDefinition<infer Credentials, unknown, unknown> ? Credentials : never;

/** The credentials type of a provider id: its definition's Credentials (what its credentialsSchema parses). */
export type CredentialsOf<Id extends ProviderId> = CredentialsOfDefinition<(typeof DEFINITIONS)[Id]>;

/**
 * Each provider's process-wide plumbing (its createDependencies), by provider id. A process
 * without a provider's dependencies cannot sync that provider's accounts.
 */
export type ProviderDependencies = {
  [Id in ProviderId]?: DependenciesOf<(typeof DEFINITIONS)[Id]>;
};

/** Every provider's dependencies for one purpose, and one close() for them all. */
export async function createProviderDependencies(
  config: Config,
  options: Omit<DependencyContext<unknown>, 'settings' | 'config'>,
): Promise<{ dependencies: ProviderDependencies; close(): Promise<void> }> {
  const dependencies: Record<string, unknown> = {};
  const closers: (() => Promise<void>)[] = [];
  try {
    for (const [id, definition] of Object.entries(PROVIDERS) as [ProviderId, AnyProviderDefinition][]) {
      const resources = await definition.createDependencies({
        ...options,
        settings: config.providerSettings[id],
        config,
      });
      dependencies[id] = resources.dependencies;
      closers.push(resources.close);
    }
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }
  return {
    dependencies: dependencies as ProviderDependencies,
    async close() {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/**
 * Raw provider fields, per unified model and across every provider, that carry sensitive data. The
 * API cuts them (and their annotations) from remote_data unless the key may and the request asks to
 * read sensitive fields, so the raw row is never a side door around ModelSpec.sensitiveFields.
 */
export const SENSITIVE_REMOTE_FIELDS: Partial<Record<ModelName, readonly string[]>> = (() => {
  const fields: Partial<Record<ModelName, string[]>> = {};
  for (const definition of Object.values(PROVIDERS)) {
    for (const [model, names] of Object.entries(definition.sensitiveRemoteFields) as [
      ModelName,
      string[],
    ][]) {
      fields[model] = [...new Set([...(fields[model] ?? []), ...names])];
    }
  }
  return fields;
})();

/** Each provider's expiring-credentials sentence parts, by id (the expiry watch's SQL reads them). */
export const EXPIRING_CREDENTIALS: Record<string, { name: string; advice: string }> = Object.fromEntries(
  Object.entries(PROVIDERS).map(([id, definition]) => [id, definition.expiringCredentials]),
);

/**
 * Every provider's passthrough targets (its APIs), for the request schema of POST /v1/passthrough;
 * each provider refuses, naming `target`, a target that is not its own.
 */
export const PASSTHROUGH_TARGETS = [
  ...new Set(Object.values(PROVIDERS).flatMap((definition) => definition.passthroughTargets ?? [])),
] as [string, ...string[]];

export class UnsyncableAccountError extends Error {}

/** A live connection for a linked account, from its decrypted credentials. */
export async function connectAccount(
  db: Database,
  keyring: Keyring,
  deps: ProviderDependencies,
  linkedAccountId: string,
): Promise<ProviderConnection> {
  // Plain SQL on purpose: a worker process that only syncs then never loads Prisma's query compiler
  // (~64 MB resident), which keeps sync workers small.
  const { rows } = await db.pool.query<{ provider: string; credentials_encrypted: Buffer | null }>(
    'SELECT provider, credentials_encrypted FROM linked_accounts WHERE id = $1',
    [linkedAccountId],
  );
  const account = rows[0];
  if (!account) throw new UnsyncableAccountError(`linked account ${linkedAccountId} does not exist`);
  const definition = providerDefinition(account.provider);
  if (!definition) {
    throw new UnsyncableAccountError(
      `linked account ${linkedAccountId} uses provider "${account.provider}", which has nothing to sync`,
    );
  }
  const dependencies = deps[account.provider as ProviderId];
  if (!dependencies) {
    throw new UnsyncableAccountError(
      `this process has no dependencies for provider "${account.provider}" (linked account ${linkedAccountId})`,
    );
  }
  if (!account.credentials_encrypted) {
    throw new UnsyncableAccountError(`linked account ${linkedAccountId} has no credentials`);
  }
  const credentials = definition.credentialsSchema.parse(
    JSON.parse(keyring.decrypt(account.credentials_encrypted)),
  );
  return definition.connect(linkedAccountId, credentials, dependencies);
}
