import { z } from 'zod';
import { type DynamicsCredentials, dynamicsCredentialsSchema } from '../providers/dynamics/credentials.js';

/**
 * What the connect page posts: the admin's form, field by field (snake_case, the names of the
 * page's inputs, so an error can be shown beside the field it concerns). It becomes the provider's
 * credentials through dynamicsCredentialsSchema, the same validation syncs use.
 */
const text = (max: number) => z.string().trim().max(max);

export const connectFormSchema = z
  .object({
    tenant_id: text(100),
    client_id: text(100),
    authority_host: text(300).optional(),
    dataverse_url: text(300),
    fno_url: text(300).optional(),
    auth_type: z.enum(['secret', 'certificate']),
    client_secret: z.string().max(1000).optional(),
    client_secret_expires_at: text(40).optional(),
    certificate_pem: z.string().max(20_000).optional(),
    private_key_pem: z.string().max(20_000).optional(),
  })
  .strict();
export type ConnectForm = z.infer<typeof connectFormSchema>;

export interface FieldError {
  field: string;
  message: string;
}

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

export function credentialsFromForm(
  form: ConnectForm,
): { ok: true; credentials: DynamicsCredentials } | { ok: false; errors: FieldError[] } {
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
