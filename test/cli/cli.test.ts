import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAccountWithCredentials, readCredentials } from '../../src/accounts/linked-accounts.js';
import { main } from '../../src/cli/main.js';
import { createKeyring } from '../../src/crypto/credentials.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { createTestDatabase } from '../helpers/database.js';

const db = await createTestDatabase();
const env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent' };

async function run(...argv: string[]) {
  return runWith(env, ...argv);
}

async function runWith(environment: Record<string, string>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: environment,
  });
  return { code, stdout, stderr };
}

describe('hris CLI', () => {
  it('platform create --json prints the key once and stores only its sha256', async () => {
    const result = await run('platform', 'create', '--name', 'Acme Benefits', '--json');
    expect(result.code).toBe(0);
    const created = JSON.parse(result.stdout) as { platform_id: string; api_key: string };
    expect(Object.keys(created).sort()).toEqual(['api_key', 'platform_id']);
    expect(created.api_key).toMatch(/^hk_/);
    const { rows } = await db.pool.query('SELECT key_hash, prefix FROM api_keys WHERE platform_id = $1', [
      created.platform_id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(created.api_key).digest('hex'));
    const dump = await db.pool.query('SELECT row_to_json(k)::text AS text FROM api_keys k');
    expect(dump.rows.some((row) => row.text.includes(created.api_key))).toBe(false);

    const human = await run('platform', 'create', '--name', 'Other');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/API key: hk_/);
    expect(human.stderr).toMatch(/shown only once/);
  });

  it('key create/list/revoke: lists never show keys, revoke by prefix marks the key revoked', async () => {
    const created = JSON.parse((await run('platform', 'create', '--name', 'Keys Inc', '--json')).stdout);
    const extra = await run(
      'key',
      'create',
      '--platform',
      created.platform_id,
      '--name',
      'reporting',
      '--sensitive',
      '--json',
    );
    expect(extra.code).toBe(0);
    const key = JSON.parse(extra.stdout) as {
      key_id: string;
      prefix: string;
      api_key: string;
      sensitive: boolean;
    };
    expect(key.sensitive).toBe(true);

    for (const format of [[], ['--json']]) {
      const listed = await run('key', 'list', '--platform', created.platform_id, ...format);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain(key.prefix);
      expect(listed.stdout).toContain('reporting');
      expect(listed.stdout).not.toContain(key.api_key);
      expect(listed.stdout).not.toContain(created.api_key);
      expect(listed.stdout).not.toContain(createHash('sha256').update(key.api_key).digest('hex'));
    }

    const revoked = await run('key', 'revoke', '--platform', created.platform_id, '--key', key.prefix);
    expect(revoked.code).toBe(0);
    const after = JSON.parse(
      (await run('key', 'list', '--platform', created.platform_id, '--json')).stdout,
    ) as {
      id: string;
      revoked_at: string | null;
    }[];
    expect(after.find((entry) => entry.id === key.key_id)?.revoked_at).not.toBeNull();
    expect(after.filter((entry) => entry.revoked_at === null)).toHaveLength(1);

    const again = await run('key', 'revoke', '--platform', created.platform_id, '--key', key.prefix);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active key/);
    const missing = await run('key', 'list', '--platform', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('key create --passthrough needs --sensitive, and key list shows the permission', async () => {
    const created = JSON.parse((await run('platform', 'create', '--name', 'Raw Inc', '--json')).stdout);
    const alone = await run('key', 'create', '--platform', created.platform_id, '--passthrough');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--passthrough needs --sensitive/);
    const both = await run(
      'key',
      'create',
      '--platform',
      created.platform_id,
      '--passthrough',
      '--sensitive',
      '--json',
    );
    expect(both.code).toBe(0);
    const key = JSON.parse(both.stdout) as { key_id: string; passthrough: boolean; sensitive: boolean };
    expect(key).toMatchObject({ passthrough: true, sensitive: true });
    const listed = JSON.parse(
      (await run('key', 'list', '--platform', created.platform_id, '--json')).stdout,
    ) as { id: string; passthrough: boolean }[];
    expect(listed.map((entry) => [entry.id === key.key_id, entry.passthrough])).toEqual([
      [false, false],
      [true, true],
    ]);
    const table = await run('key', 'list', '--platform', created.platform_id);
    expect(table.stdout).toContain('PASSTHROUGH');
  });

  it('unknown commands, flags and missing values exit 2 with usage on stderr', async () => {
    for (const argv of [
      ['frobnicate'],
      ['platform', 'create', '--nme', 'x'],
      ['key', 'create'],
      ['seed', '--employees', 'abc'],
      [],
    ]) {
      const result = await run(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: hris');
      expect(result.stdout).toBe('');
    }
    const help = await run('--help');
    expect(help.code).toBe(0);
    for (const command of [
      'platform create',
      'key create',
      'key list',
      'key revoke',
      'seed',
      'db migrate',
      'sandbox',
    ]) {
      expect(help.stdout).toContain(command);
    }
  });

  it('seed --employees 50 --json prints the four fields and fills the account', async () => {
    const result = await run('seed', '--employees', '50', '--seed', '5', '--json');
    expect(result.code).toBe(0);
    const seeded = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(seeded).sort()).toEqual([
      'account_token',
      'api_key',
      'linked_account_id',
      'platform_id',
    ]);
    expect(result.stderr).toMatch(/seeded 50\/50 employees/);
    const { rows } = await db.pool.query(
      'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1',
      [seeded.linked_account_id],
    );
    expect(rows[0].n).toBe(50);
  });

  it('db migrate reports an up-to-date database', async () => {
    const result = await run('db', 'migrate');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/up to date/);
  });

  it('credentials reencrypt moves every stored credential to the first key of ENCRYPTION_KEY', async () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const { platform } = await createPlatform(db.prisma, 'Rotating');
    const { account } = await createAccountWithCredentials(db, createKeyring([oldKey]), {
      provider: 'dynamics365',
      platformId: platform.id,
      endUserOriginId: 'rotating',
      organizationName: 'Rotating Ltd',
      credentials: {
        tenantId: randomUUID(),
        clientId: randomUUID(),
        authorityHost: 'https://login.microsoftonline.com',
        dataverseUrl: 'https://contoso.crm.dynamics.com',
        auth: { type: 'secret', clientSecret: 'abc~secret' },
      },
    });
    const keys = `${newKey.toString('base64')},${oldKey.toString('base64')}`;
    const result = await runWith({ ...env, ENCRYPTION_KEY: keys }, 'credentials', 'reencrypt');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Re-encrypted [1-9]\d* of \d+ stored secrets/);
    // Only the new key is needed from now on.
    const credentials = await readCredentials(db, createKeyring([newKey]), account.id, 'dynamics365');
    expect(credentials.auth).toMatchObject({ type: 'secret', clientSecret: 'abc~secret' });
    const again = await runWith({ ...env, ENCRYPTION_KEY: keys }, 'credentials', 'reencrypt');
    expect(again.stdout).toMatch(/Re-encrypted 0 of/);
  });
});
