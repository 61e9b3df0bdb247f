import { describe, expect, it } from 'vitest';
import { credentialsFromForm } from '../../src/connect/form.js';
import { AppError } from '../../src/errors.js';
import { PROVIDERS } from '../../src/providers/registry.js';

/**
 * The connect routes check a posted form against the provider's form description before its
 * credentialsFromForm sees it: unknown fields, over-long values and choices outside the options
 * are refused by field name, and a field shown only for another choice may be absent.
 */
const dynamics = PROVIDERS.dynamics365;
const GUID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const form = {
  tenant_id: GUID,
  client_id: GUID.replace('72', '11'),
  auth_type: 'secret',
  client_secret: 'abc~secret',
  dataverse_url: 'https://contoso.crm.dynamics.com/',
};

function fieldsOf(body: Record<string, string>): string[] {
  try {
    credentialsFromForm(dynamics, body);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return (error as AppError).details.map((detail) => String(detail.field));
  }
  throw new Error('the form was accepted');
}

describe('the connect form, checked against the provider’s description', () => {
  it('turns a complete form into credentials, trimming what is not secret', () => {
    const credentials = credentialsFromForm(dynamics, { ...form, tenant_id: ` ${GUID} ` });
    expect(credentials).toMatchObject({
      tenantId: GUID,
      dataverseUrl: 'https://contoso.crm.dynamics.com',
      auth: { type: 'secret', clientSecret: 'abc~secret' },
    });
  });

  it('refuses unknown fields, values past a field’s length and choices outside the options, by name', () => {
    expect(fieldsOf({ ...form, password: 'x' })).toEqual(['password']);
    expect(fieldsOf({ ...form, tenant_id: 'x'.repeat(101) })).toEqual(['tenant_id']);
    expect(fieldsOf({ ...form, auth_type: 'kerberos' })).toEqual(['auth_type']);
    const { tenant_id: _, ...missing } = form;
    expect(fieldsOf(missing)).toEqual(['tenant_id']);
  });

  it('passes the provider’s own field errors through, naming the page field', () => {
    expect(fieldsOf({ ...form, dataverse_url: 'https://contoso.crm.dynamics.com/api/data/v9.2' })).toEqual([
      'dataverse_url',
    ]);
    expect(fieldsOf({ ...form, auth_type: 'certificate' })).toEqual(['certificate_pem', 'private_key_pem']);
  });
});
