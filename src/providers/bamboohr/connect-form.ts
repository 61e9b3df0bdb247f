import type { ConnectFormDescription, CredentialsFromForm, FieldError } from '../definition.js';
import { type BambooCredentials, bambooCredentialsSchema } from './credentials.js';

/**
 * What the connect page asks a BambooHR admin for (docs/bamboohr.md, "Authentication"): the company
 * domain and an API key; the API root only to reach a sandbox (under Advanced).
 */
export const bambooConnectForm: ConnectFormDescription = {
  systemName: 'BambooHR',
  intro:
    'will read employees, employments, dependents and benefits from your BambooHR account, read-only. This takes about 5 minutes and needs a BambooHR user who can see every employee (a full administrator, or an access level with Benefits Administration and compensation).',
  relinkHint: 'for example a new API key',
  preparation: [
    '<strong>Note your company domain</strong>: the part before <em>.bamboohr.com</em> in the address you sign in at (<em>mycompany</em> for https://mycompany.bamboohr.com).',
    '<strong>Sign in as the user the integration will act as</strong>. Its access level decides what the gateway sees: every employee, compensation, and <em>Benefits Administration</em> for dependents and benefits.',
    '<strong>Create an API key</strong>: your name (top right) › <em>API Keys</em> › Add New Key. Copy it now: BambooHR shows it only once.',
  ],
  fields: [
    {
      name: 'company_domain',
      label: 'Company domain',
      help: 'The part before .bamboohr.com in your BambooHR address.',
      kind: 'text',
      placeholder: 'mycompany',
      maxLength: 63,
      rules: [
        {
          pattern: '\\.bamboohr\\.com|^https?:',
          flags: 'i',
          mustMatch: false,
          message: 'only the part before .bamboohr.com',
        },
        { pattern: '^[a-z0-9][a-z0-9-]*$', flags: 'i', message: 'letters, digits and dashes only' },
      ],
    },
    {
      name: 'api_key',
      label: 'API key',
      help: 'Your name (top right) › API Keys › Add New Key.',
      kind: 'text',
      secret: true,
      maxLength: 200,
      rules: [
        {
          pattern: '^[A-Za-z0-9]{16,}$',
          message: 'a BambooHR API key is a long string of letters and digits',
        },
      ],
    },
    {
      name: 'api_root',
      label: 'API root (sandbox only)',
      help: 'Leave empty for BambooHR. The sandbox prints its own (…/api/gateway.php).',
      kind: 'url',
      required: false,
      advanced: true,
      maxLength: 300,
      rules: [{ pattern: '^https://', message: 'must be an https:// URL' }],
    },
  ],
};

const FIELD_OF: Record<string, string> = {
  companyDomain: 'company_domain',
  apiKey: 'api_key',
  apiRoot: 'api_root',
};

export function bambooCredentialsFromForm(
  form: Readonly<Record<string, string | undefined>>,
): CredentialsFromForm<BambooCredentials> {
  const apiRoot = form.api_root?.trim();
  const parsed = bambooCredentialsSchema.safeParse({
    companyDomain: form.company_domain ?? '',
    apiKey: form.api_key ?? '',
    ...(apiRoot ? { apiRoot } : {}),
  });
  if (parsed.success) return { ok: true, credentials: parsed.data };
  const errors: FieldError[] = [];
  for (const issue of parsed.error.issues) {
    const field = FIELD_OF[String(issue.path[0])] ?? String(issue.path[0]);
    // The schema's messages describe the rule, never the value (an API key must not be echoed).
    if (!errors.some((error) => error.field === field)) errors.push({ field, message: issue.message });
  }
  return { ok: false, errors };
}
