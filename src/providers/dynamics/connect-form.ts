import type {
  ConnectFieldRule,
  ConnectFormDescription,
  CredentialsFromForm,
  FieldError,
} from '../definition.js';
import { type DynamicsCredentials, dynamicsCredentialsSchema } from './credentials.js';

/**
 * What the connect page asks a Dynamics admin for (rendered by src/connect/page-html.ts), and how
 * the posted fields become credentials through dynamicsCredentialsSchema, the validation syncs use.
 */
const ENTRA = 'Entra admin center › App registrations';
const GUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const guidRule = (message: string): ConnectFieldRule => ({ pattern: GUID, flags: 'i', message });
/** An environment URL: https, without the Web API path or a query people paste along with it. */
const environmentUrlRules: readonly ConnectFieldRule[] = [
  { pattern: '^https://', message: 'must be an https:// URL' },
  {
    pattern: '/api/data',
    flags: 'i',
    mustMatch: false,
    message: 'use the environment URL without /api/data/v9.2',
  },
  { pattern: '[?#]', mustMatch: false, message: 'the environment URL has no query (?) or fragment (#)' },
];

export const dynamicsConnectForm: ConnectFormDescription = {
  systemName: 'Dynamics 365',
  intro:
    'will read workers, employments, dependents and benefits from your Dynamics 365 Human Resources environment, read-only. This takes about 15 minutes and needs an administrator of Microsoft Entra ID and of the Power Platform environment.',
  relinkHint: 'for example a new client secret or certificate',
  preparation: [
    `<strong>Register an app</strong> in ${ENTRA} › New registration (single tenant). Note its <em>Application (client) ID</em> and <em>Directory (tenant) ID</em> from the Overview page.`,
    '<strong>Give it a credential</strong> under Certificates &amp; secrets: a <strong>certificate (recommended</strong>: nothing secret travels, and it can live up to years) or a client secret (copy its <em>Value</em>, not its Secret ID, and note its expiry date).',
    '<strong>Add the API permission</strong> under API permissions › Add a permission › Dynamics CRM › <em>user_impersonation</em>, then click <strong>Grant admin consent</strong>.',
    '<strong>Create the application user</strong> in Power Platform admin center › Environments › your environment › Settings › Users + permissions › Application users › New app user: pick the app, the business unit, and a <strong>security role</strong> that can read the Human Resources tables (workers, employments, positions, benefits).',
    '<strong>Copy the Dataverse environment URL</strong> from the environment’s details page (e.g. https://contoso.crm.dynamics.com).',
    '<em>Optional</em>: for dependents and benefit enrollments, the <strong>Finance &amp; Operations URL</strong> (e.g. https://contoso.operations.dynamics.com) and the app’s entry in F&amp;O › System administration › Setup › <strong>Microsoft Entra applications</strong> (client ID mapped to a user with read access).',
  ],
  fields: [
    {
      name: 'tenant_id',
      label: 'Directory (tenant) ID',
      help: `${ENTRA} › your app › Overview. A GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47.`,
      kind: 'text',
      placeholder: '00000000-0000-0000-0000-000000000000',
      maxLength: 100,
      rules: [guidRule('must be a GUID (Directory (tenant) ID in Entra ID)')],
    },
    {
      name: 'client_id',
      label: 'Application (client) ID',
      help: 'Same Overview page, the app’s own GUID.',
      kind: 'text',
      placeholder: '00000000-0000-0000-0000-000000000000',
      maxLength: 100,
      rules: [guidRule('must be a GUID (Application (client) ID of the app registration)')],
    },
    {
      name: 'auth_type',
      label: 'How the app signs in',
      help: '',
      kind: 'choice',
      maxLength: 20,
      options: [
        { value: 'certificate', label: 'Certificate (recommended)' },
        { value: 'secret', label: 'Client secret' },
      ],
    },
    {
      name: 'certificate_pem',
      label: 'Certificate (PEM)',
      help: 'The certificate you uploaded to the app registration: -----BEGIN CERTIFICATE----- …',
      kind: 'pem',
      accept: '.pem,.cer,.crt',
      maxLength: 20_000,
      when: { field: 'auth_type', equals: 'certificate' },
      describesCertificate: true,
      rules: [{ pattern: 'BEGIN CERTIFICATE', message: 'must be a PEM certificate' }],
    },
    {
      name: 'private_key_pem',
      label: 'Private key (PEM, unencrypted)',
      help: 'Stays encrypted at rest in the gateway; never shown again. -----BEGIN PRIVATE KEY----- …',
      kind: 'pem',
      accept: '.pem,.key',
      secret: true,
      maxLength: 20_000,
      when: { field: 'auth_type', equals: 'certificate' },
      rules: [{ pattern: 'PRIVATE KEY', message: 'must be a PEM private key' }],
    },
    {
      name: 'client_secret',
      label: 'Client secret value',
      help: 'Certificates &amp; secrets › Client secrets: the <em>Value</em> column (shown only right after creation), not the Secret ID.',
      kind: 'text',
      secret: true,
      maxLength: 1000,
      when: { field: 'auth_type', equals: 'secret' },
      rules: [
        {
          pattern: GUID,
          flags: 'i',
          mustMatch: false,
          message: 'this looks like the Secret ID; paste the Value column instead',
        },
      ],
    },
    {
      name: 'client_secret_expires_at',
      label: 'Secret expiry date',
      help: 'The Expires column. We warn you 30 days before it.',
      kind: 'date',
      required: false,
      maxLength: 40,
      when: { field: 'auth_type', equals: 'secret' },
    },
    {
      name: 'dataverse_url',
      label: 'Dataverse environment URL',
      help: 'Power Platform admin center › Environments › your environment › Environment URL.',
      kind: 'url',
      placeholder: 'https://contoso.crm.dynamics.com',
      maxLength: 300,
      rules: environmentUrlRules,
    },
    {
      name: 'fno_url',
      label: 'Finance & Operations URL',
      help: 'Only if dependents and benefit enrollments live in Finance &amp; Operations.',
      kind: 'url',
      placeholder: 'https://contoso.operations.dynamics.com',
      required: false,
      maxLength: 300,
      rules: environmentUrlRules,
    },
    {
      name: 'authority_host',
      label: 'Microsoft Entra authority host',
      help: 'Leave empty for the public cloud (https://login.microsoftonline.com).',
      kind: 'url',
      placeholder: 'https://login.microsoftonline.com',
      required: false,
      advanced: true,
      maxLength: 300,
      rules: [{ pattern: '^https://', message: 'must be an https:// URL' }],
    },
  ],
};

/** The page's field that a credentials path (e.g. auth.clientSecret) came from. */
const FIELD_OF: Record<string, string> = {
  tenantId: 'tenant_id',
  clientId: 'client_id',
  authorityHost: 'authority_host',
  dataverseUrl: 'dataverse_url',
  fnoUrl: 'fno_url',
  'auth.clientSecret': 'client_secret',
  'auth.expiresAt': 'client_secret_expires_at',
  'auth.certificatePem': 'certificate_pem',
  'auth.privateKeyPem': 'private_key_pem',
  'auth.type': 'auth_type',
};

/** People paste the Web API endpoint; the environment URL is the part before /api/data. */
function environmentUrlProblem(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (/\/api\/data/i.test(value)) return 'use the environment URL without /api/data/v9.2';
  if (/[?#]/.test(value)) return 'the environment URL has no query (?) or fragment (#)';
  return undefined;
}

const blank = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

export function dynamicsCredentialsFromForm(
  form: Readonly<Record<string, string | undefined>>,
): CredentialsFromForm<DynamicsCredentials> {
  const candidate = {
    tenantId: form.tenant_id,
    clientId: form.client_id,
    ...(blank(form.authority_host) ? { authorityHost: blank(form.authority_host) } : {}),
    dataverseUrl: form.dataverse_url,
    ...(blank(form.fno_url) ? { fnoUrl: blank(form.fno_url) } : {}),
    auth:
      form.auth_type === 'secret'
        ? {
            type: 'secret',
            clientSecret: form.client_secret ?? '',
            ...(blank(form.client_secret_expires_at)
              ? { expiresAt: blank(form.client_secret_expires_at) }
              : {}),
          }
        : {
            type: 'certificate',
            certificatePem: form.certificate_pem ?? '',
            privateKeyPem: form.private_key_pem ?? '',
          },
  };
  const errors: FieldError[] = [];
  for (const field of ['dataverse_url', 'fno_url'] as const) {
    const problem = environmentUrlProblem(form[field]);
    if (problem) errors.push({ field, message: problem });
  }
  const parsed = dynamicsCredentialsSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = FIELD_OF[issue.path.join('.')] ?? issue.path.join('.');
      // Never echo the value back: the messages of these schemas describe the rule, not the input.
      if (!errors.some((error) => error.field === field)) errors.push({ field, message: issue.message });
    }
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, credentials: parsed.data };
}
