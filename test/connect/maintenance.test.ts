import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sweepExpiringAccounts } from '../../src/accounts/expiry.js';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { issuePublicToken } from '../../src/connect/public-tokens.js';
import { reencryptAllCredentials } from '../../src/connect/reencrypt.js';
import { createKeyring } from '../../src/crypto/credentials.js';
import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';

const db = await createTestDatabase();
const platform = await createTestTenant(db);

function credentials(expiresInDays: number): DynamicsCredentials {
  return {
    tenantId: '11111111-1111-1111-1111-111111111111',
    clientId: '22222222-2222-2222-2222-222222222222',
    authorityHost: 'https://login.microsoftonline.com',
    dataverseUrl: 'https://contoso.crm.dynamics.com',
    auth: {
      type: 'secret',
      clientSecret: `secret-${expiresInDays}`,
      expiresAt: new Date(Date.now() + expiresInDays * 86_400_000).toISOString(),
    },
  };
}

describe('reencryptAllCredentials (key rotation)', () => {
  it('re-encrypts every blob under an old key with the current key, and is idempotent', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const oldKeyring = createKeyring([oldKey]);
    const { account, accountToken } = await createAccountWithCredentials(db, oldKeyring, {
      provider: 'dynamics365',
      platformId: platform.platform.id,
      endUserOriginId: 'rotation',
      organizationName: 'Rotation Ltd',
      credentials: credentials(90),
    });
    await issuePublicToken(db.pool, oldKeyring, {
      platformId: platform.platform.id,
      linkedAccountId: account.id,
      connectLinkId: account.id,
      accountToken,
    });
    const rotated = createKeyring([newKey, oldKey]);
    const first = await reencryptAllCredentials(db, rotated);
    expect(first).toEqual({ scanned: 2, reencrypted: 2 });
    expect(await reencryptAllCredentials(db, rotated)).toEqual({ scanned: 2, reencrypted: 0 });

    // The old key can now be dropped: everything decrypts with the new key alone.
    const newOnly = createKeyring([newKey]);
    const { rows } = await db.pool.query('SELECT credentials_encrypted FROM linked_accounts WHERE id = $1', [
      account.id,
    ]);
    expect(JSON.parse(newOnly.decrypt(rows[0].credentials_encrypted)).auth.clientSecret).toBe('secret-90');
    const tokens = await db.pool.query('SELECT account_token_encrypted FROM connect_public_tokens');
    expect(newOnly.decrypt(tokens.rows[0].account_token_encrypted)).toBe(accountToken);
  });
});

describe('sweepExpiringAccounts (expiry watch)', () => {
  it('marks accounts expiring within 30 days expiring_soon with the relink instruction, and back', async () => {
    const keyring = createKeyring([randomBytes(32)]);
    const create = async (name: string, days: number) =>
      (
        await createAccountWithCredentials(db, keyring, {
          provider: 'dynamics365',
          platformId: platform.platform.id,
          endUserOriginId: name,
          organizationName: name,
          credentials: credentials(days),
        })
      ).account.id;
    const soon = await create('soon', 10);
    const later = await create('later', 200);
    const renewed = await create('renewed', 90);
    const broken = await create('broken', 5);
    await db.pool.query(
      "UPDATE linked_accounts SET status = 'expiring_soon', status_reason = 'old' WHERE id = $1",
      [renewed],
    );
    await db.pool.query(
      "UPDATE linked_accounts SET status = 'needs_reauth', status_reason = 'AADSTS7000222' WHERE id = $1",
      [broken],
    );

    const { updated } = await sweepExpiringAccounts(db.pool);
    expect(updated.sort()).toEqual([soon, renewed].sort());
    const { rows } = await db.pool.query('SELECT id, status, status_reason FROM linked_accounts');
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(soon)).toMatchObject({ status: 'expiring_soon' });
    expect(byId.get(soon)?.status_reason).toContain(`/v1/linked-accounts/${soon}/relink`);
    expect(byId.get(later)).toMatchObject({ status: 'connected', status_reason: null });
    expect(byId.get(renewed)).toMatchObject({ status: 'connected', status_reason: null });
    expect(byId.get(broken)).toMatchObject({ status: 'needs_reauth', status_reason: 'AADSTS7000222' });
    expect((await sweepExpiringAccounts(db.pool)).updated).toEqual([]);
  });
});
