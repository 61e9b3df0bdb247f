import type { z } from 'zod';
import type { Config } from '../config.js';
import type { LinkedAccountStatus } from '../generated/prisma/enums.js';
import type { ModelName } from '../unified/models.js';
import type { ProviderConnection } from './types.js';

/**
 * Everything the gateway knows about one HR system, in one object. The registry
 * (src/providers/registry.ts) lists the definitions; services, the scheduler, linked accounts and
 * the connect page reach a provider only through its definition, never by importing its folder.
 * The recipe for adding a provider and what the sync layer owns: docs/providers.md.
 *
 * Generic over the provider's own types: Credentials (what the admin gives, stored encrypted),
 * Dependencies (process-wide plumbing such as HTTP pools) and Settings (its environment variables).
 */
export interface ProviderDefinition<Credentials = unknown, Dependencies = unknown, Settings = unknown> {
  /** The `provider` value of linked accounts and link tokens (its key in the registry). Never changes. */
  readonly id: string;
  /** The HR system as people call it: the connect page's heading. */
  readonly displayName: string;
  /** Validates credentials, at connect time and again (decrypted) before every sync. */
  readonly credentialsSchema: z.ZodType<Credentials>;
  /** What the connect page asks the admin for, as data the page renders. */
  readonly connectForm: ConnectFormDescription;
  /**
   * The provider's own environment variables (documented in docs/configuration.md), validated at
   * start-up together with the gateway's so an operator sees every problem at once.
   */
  readonly settingsSchema: z.ZodType<Settings>;
  /** Check ids that must pass before credentials are stored (the rest only inform the admin). */
  readonly blockingChecks: ReadonlySet<string>;
  /** Which unified fields this provider fills, per model; a model it cannot serve is absent. */
  readonly supportedFields: SupportedFields;
  /**
   * The provider's APIs a POST /v1/passthrough call may name as `target` (the first is the
   * default), e.g. Dynamics' "dataverse" and "fno". Absent: the provider has no passthrough.
   */
  readonly passthroughTargets?: readonly [string, ...string[]];
  /** Raw fields (in remote_data) carrying sensitive data, per model: cut unless the key may read them. */
  readonly sensitiveRemoteFields: Partial<Record<ModelName, readonly string[]>>;

  /** The connect page's fields -> credentials, with one error per page field (values never echoed). */
  credentialsFromForm(form: Readonly<Record<string, string | undefined>>): CredentialsFromForm<Credentials>;
  /** When the credentials stop working (a secret's or certificate's end), if known. */
  credentialsExpireAt(credentials: Credentials): Date | null;
  /**
   * What the account status says when the credentials near their end (EXPIRY_WARNING_DAYS): "<name>
   * expires on YYYY-MM-DD: <advice> (POST /v1/linked-accounts/<id>/relink)."
   */
  readonly expiringCredentials: { name: string; advice: string };
  /**
   * A model's source (ModelAvailability.source, e.g. "dataverse:cdm_workers") in the admin's words
   * on the connect page: kind groups sources ("dataverse", "fno"), label names it ("Dataverse").
   * Never called for "unavailable".
   */
  describeSource(source: string): { kind: string; label: string };
  /** A failed sync's error -> the account's status and one sentence saying what to fix and where. */
  diagnose(error: unknown): Diagnosis;
  /** Builds its process-wide plumbing (HTTP pools, token caches) from its settings; closed at shutdown. */
  createDependencies(context: DependencyContext<Settings>): Promise<ProviderResources<Dependencies>>;
  /** A connection for one linked account (no network yet: plan, check and streams do the talking). */
  connect(linkedAccountId: string, credentials: Credentials, dependencies: Dependencies): ProviderConnection;
}

/** A linked account is `expiring_soon` this many days before its credentials expire. */
export const EXPIRY_WARNING_DAYS = 30;

/** Any definition, as the registry and provider-neutral code hold them. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds definitions of different credential types.
export type AnyProviderDefinition = ProviderDefinition<any, any, any>;

export interface Diagnosis {
  status: LinkedAccountStatus;
  /** One plain sentence: what is wrong, what to fix and where. */
  reason: string;
}

/** Unified API field names per model (src/unified/models.ts), e.g. { employees: ['first_name', ...] }. */
export type SupportedFields = Partial<Record<ModelName, readonly string[]>>;

export interface DependencyContext<Settings> {
  /** The provider's own settings (its settingsSchema, parsed from the environment at start-up). */
  settings: Settings;
  /** The gateway's settings (retry budget and the like). */
  config: Config;
  /**
   * "sync": the worker's pools, sized for throughput. "connect": the connect page's own small pool
   * with short retries, so an admin testing settings never waits behind a large sync (and a slow
   * tenant cannot starve syncs). "passthrough": POST /v1/passthrough's own pool, with
   * PASSTHROUGH_TIMEOUT_SECONDS as its timeouts and a short retry budget (the caller is waiting).
   */
  purpose: 'sync' | 'connect' | 'passthrough';
  /** Extra PEM CA certificate(s) to trust, beside the provider's own settings (the sandbox's). */
  caCertPem?: string;
  log?: { warn(object: object, message: string): void };
}

export interface ProviderResources<Dependencies> {
  dependencies: Dependencies;
  close(): Promise<void>;
}

export type CredentialsFromForm<Credentials> =
  | { ok: true; credentials: Credentials }
  | { ok: false; errors: FieldError[] };

export interface FieldError {
  /** The page field (ConnectField.name) the error concerns. */
  field: string;
  message: string;
}

/**
 * The connect page, as data: what the admin prepares in the HR system's own admin screens, then
 * the credentials form. Texts marked HTML are the definition's own trusted markup (never input).
 */
export interface ConnectFormDescription {
  /**
   * The system in short, as its admins say it (e.g. "Dynamics 365"): "Update the <systemName>
   * credentials of ...". The connect heading uses the definition's displayName.
   */
  systemName: string;
  /**
   * Step 1's introduction, after the platform's name: what the platform will read and who can set
   * it up, e.g. "will read workers ... read-only." HTML.
   */
  intro: string;
  /** Step 1's checklist: what to do in the system's admin screens first, one item each. HTML. */
  preparation: readonly string[];
  /** Step 2's fields, in page order. */
  fields: readonly ConnectField[];
  /** Shown on the relink page: what usually changes (e.g. "a new client secret or certificate"). */
  relinkHint: string;
}

export interface ConnectField {
  /** The input's name (snake_case); what the page posts and what errors name. */
  name: string;
  label: string;
  /** Where to find the value, in the admin's words. HTML. */
  help: string;
  /**
   * text / url / date: one line. pem: multi-line with a file picker (`accept` file types).
   * choice: radio buttons (`options`, the first one checked).
   */
  kind: 'text' | 'url' | 'date' | 'pem' | 'choice';
  /** Typed into a password input, never shown again, never logged. */
  secret?: boolean;
  /** Default true. */
  required?: boolean;
  placeholder?: string;
  /** Longest accepted value (characters). */
  maxLength: number;
  /** pem: the file types the picker offers, e.g. ".pem,.key". */
  accept?: string;
  /** choice: the options. */
  options?: readonly { value: string; label: string }[];
  /** Shown (and posted) only while the choice field `field` has the value `equals`. */
  when?: { field: string; equals: string };
  /** Folded under "Advanced". */
  advanced?: boolean;
  /**
   * Checked on the page before anything is sent, in order, first failure shown (the server checks
   * again through credentialsFromForm). A JavaScript RegExp source and flags; `mustMatch: false`
   * means a value matching it is wrong (e.g. a pasted API path).
   */
  rules?: readonly ConnectFieldRule[];
  /** pem: after a certificate, show its subject, thumbprints and expiry (POST /connect/<token>/certificate). */
  describesCertificate?: boolean;
}

export interface ConnectFieldRule {
  pattern: string;
  flags?: string;
  /** Default true: the value must match. False: a value that matches is wrong. */
  mustMatch?: boolean;
  message: string;
}
