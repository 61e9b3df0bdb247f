import { z } from 'zod';
import { certificateFacts } from '../../crypto/certificate-facts.js';
import { MODEL_NAMES } from '../../unified/models.js';

/**
 * What an employer's admin gives us to reach their Dynamics 365 HR tenant. Stored encrypted
 * (src/crypto/credentials.ts); only the derived, public facts (thumbprint, expiry) are ever shown.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const httpsUrl = z
  .url({ protocol: /^https$/, error: 'must be an https:// URL' })
  .transform((value) => value.replace(/\/+$/, ''));

export const dynamicsCredentialsSchema = z.object({
  tenantId: z.string().regex(GUID, 'must be a GUID (Directory (tenant) ID in Entra ID)'),
  clientId: z.string().regex(GUID, 'must be a GUID (Application (client) ID of the app registration)'),
  /** Entra ID host; https://login.microsoftonline.com unless a sovereign cloud or the sandbox. */
  authorityHost: httpsUrl.default('https://login.microsoftonline.com'),
  /** Dataverse environment URL, e.g. https://contoso.crm.dynamics.com */
  dataverseUrl: httpsUrl,
  /** Finance & Operations environment URL (optional fallback for dependents and enrollments). */
  fnoUrl: httpsUrl.optional(),
  /**
   * Where each model comes from (docs/fno-fallback.md): `auto` (default) = Dataverse table, else F&O
   * OData entity, else DMF export; or force `dataverse`, `odata` or `dmf`.
   */
  sources: z.partialRecord(z.enum(MODEL_NAMES), z.enum(['auto', 'dataverse', 'odata', 'dmf'])).optional(),
  /** DMF exports (F&O data management): the data project (definition group) to export, and limits. */
  dmf: z
    .object({
      definitionGroup: z.string().min(1).default('HR export'),
      /** Legal entity passed to ExportToPackage ("" = the data project's own setting). */
      legalEntityId: z.string().default(''),
      /** How long an export may stay Executing before the run fails. */
      timeoutSeconds: z.number().positive().default(1800),
      /**
       * How long F&O may not know an execution it handed out ("execution not found", status Unknown)
       * before the export is given up (default 300): an id F&O never creates stays Unknown for good.
       */
      unknownTimeoutSeconds: z.number().positive().optional(),
    })
    .optional(),
  auth: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('secret'),
      clientSecret: z.string().min(1, 'the client secret value (not its id)'),
      /** As shown in Entra ID's Certificates & secrets page; used to warn before it expires. */
      expiresAt: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    }),
    z.object({
      type: z.literal('certificate'),
      certificatePem: z.string().includes('BEGIN CERTIFICATE', { message: 'must be a PEM certificate' }),
      privateKeyPem: z.string().includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
    }),
  ]),
});
export type DynamicsCredentials = z.infer<typeof dynamicsCredentialsSchema>;

/** When the secret or certificate stops working, if known. */
export function credentialsExpireAt(credentials: DynamicsCredentials): Date | null {
  if (credentials.auth.type === 'certificate')
    return certificateFacts(credentials.auth.certificatePem).notAfter;
  return credentials.auth.expiresAt ? new Date(credentials.auth.expiresAt) : null;
}
