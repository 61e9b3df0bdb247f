import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { reencryptAllCredentials } from '../connect/reencrypt.js';
import { loadKeyring } from '../crypto/credentials.js';
import { type Database, openDatabase, redactUrl } from '../db/database.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { migrate } from '../db/migrate.js';
import { createApiKey, createPlatform, listApiKeys, revokeApiKey } from '../platforms/platform-service.js';
import { runSandboxCommand } from '../sandbox/cli.js';
import { seedLinkedAccount } from '../seed/seed-account.js';
import { isEntryModule } from '../util/entry-module.js';
import { runDemo } from './demo.js';

/**
 * The operator CLI (`hris`). `main` is the testable core: it takes argv and writers and returns an
 * exit code; only `runFromProcess` touches the real process. The database is opened with the same
 * rules as the server (DATABASE_URL, else the embedded PostgreSQL under DATA_DIR, shared with a
 * running gateway) and always closed before returning.
 */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The environment to read configuration from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export const USAGE = `Usage: hris <command> [options]

Commands:
  platform create --name NAME [--json]
      Create a platform (an API consumer) and its first API key. The key is shown once.
  key create --platform ID [--name NAME] [--sensitive] [--passthrough] [--json]
      Create another API key; --sensitive allows reading sensitive fields (date_of_birth);
      --passthrough allows POST /v1/passthrough (raw provider requests) and needs --sensitive.
  key list --platform ID [--json]
      List a platform's keys: prefix, name, sensitive, passthrough, created, last used, revoked.
  key revoke --platform ID --key KEY_ID_OR_PREFIX
      Revoke a key; requests using it fail from then on.
  seed --employees N [--seed S] [--platform ID] [--json]
      Create a linked account filled with generated data (employees, managers, employments,
      dependents, benefit plans, enrollments). --json prints platform_id, api_key,
      linked_account_id and account_token.
  db migrate
      Apply pending migrations and print what was applied.
  credentials reencrypt
      After putting a new key first in ENCRYPTION_KEY (old keys after it), re-encrypt every stored
      credential under the new key; the old key can then be removed.
  sandbox ...
      The sandbox: a simulator of each provider (see \`hris sandbox --help\`).
  demo [--workers N] [--port P] [--json]
      Sandbox tenant + gateway + a linked account connected to it, first sync, then keeps syncing.
  help
      Show this help.

Database: DATABASE_URL when set, else the embedded PostgreSQL under DATA_DIR (default .data).
`;

/** A mistake in how the CLI was called: usage on stderr, exit code 2. */
class UsageError extends Error {}

type Flags = Record<string, { type: 'string' | 'boolean' }>;

function parse<T extends Flags>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function required(value: string | boolean | undefined, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${flag}`);
  return value;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
        io.stderr(USAGE);
        return 2;
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return 0;
      case 'sandbox':
        await runSandboxCommand(rest);
        return 0;
      case 'demo':
        return await runDemo(rest, { ...io, interactive: process.stderr.isTTY === true });
      case 'db':
        if (rest[0] !== 'migrate') throw new UsageError(`unknown db command: ${rest[0] ?? '(none)'}`);
        parse(rest.slice(1), {});
        return await migrateCommand(io);
      case 'platform':
        if (rest[0] !== 'create') throw new UsageError(`unknown platform command: ${rest[0] ?? '(none)'}`);
        return await platformCreate(rest.slice(1), io);
      case 'key':
        return await keyCommand(rest, io);
      case 'credentials':
        if (rest[0] !== 'reencrypt')
          throw new UsageError(`unknown credentials command: ${rest[0] ?? '(none)'}`);
        parse(rest.slice(1), {});
        return await reencryptCommand(io);
      case 'seed':
        return await seedCommand(rest, io);
      default:
        throw new UsageError(`unknown command: ${command}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`hris: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`hris: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function withDatabase<T>(io: CliIo, work: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig(io.env ?? process.env), (message) => io.stderr(`${message}\n`));
  try {
    return await work(db);
  } finally {
    await db.close();
  }
}

async function reencryptCommand(io: CliIo): Promise<number> {
  const config = loadConfig(io.env ?? process.env);
  const result = await withDatabase(io, async (db) => {
    const keyring = await loadKeyring(config, (message) => io.stderr(`${message}\n`));
    return reencryptAllCredentials(db, keyring);
  });
  io.stdout(
    `Re-encrypted ${result.reencrypted} of ${result.scanned} stored secrets under the current key.\n`,
  );
  return 0;
}

async function platformCreate(args: string[], io: CliIo): Promise<number> {
  const flags = parse(args, { name: { type: 'string' }, json: { type: 'boolean' } });
  const name = required(flags.name, 'name');
  const { platform, apiKey } = await withDatabase(io, (db) => createPlatform(db.prisma, name));
  if (flags.json) {
    io.stdout(`${JSON.stringify({ platform_id: platform.id, api_key: apiKey })}\n`);
  } else {
    io.stdout(`Platform ${platform.name} created: ${platform.id}\nAPI key: ${apiKey}\n`);
    io.stderr('This key is shown only once: store it now. Only its hash is kept.\n');
  }
  return 0;
}

async function keyCommand(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'create') {
    const flags = parse(rest, {
      platform: { type: 'string' },
      name: { type: 'string' },
      sensitive: { type: 'boolean' },
      passthrough: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const platformId = required(flags.platform, 'platform');
    // Passthrough answers are raw provider data, sensitive fields included (docs/passthrough.md).
    if (flags.passthrough && !flags.sensitive) {
      throw new UsageError('--passthrough needs --sensitive: passthrough returns raw provider data');
    }
    const { key, apiKey } = await withDatabase(io, async (db) => {
      await requirePlatform(db, platformId);
      return createApiKey(db.prisma, platformId, {
        name: flags.name ?? 'api key',
        sensitive: !!flags.sensitive,
        passthrough: !!flags.passthrough,
      });
    });
    if (flags.json) {
      io.stdout(
        `${JSON.stringify({ key_id: key.id, prefix: key.prefix, sensitive: key.sensitive, passthrough: key.passthrough, api_key: apiKey })}\n`,
      );
    } else {
      const permissions = [
        key.sensitive ? 'sensitive' : 'not sensitive',
        ...(key.passthrough ? ['passthrough'] : []),
      ];
      io.stdout(`Key ${key.id} (${key.prefix}, ${permissions.join(', ')})\nAPI key: ${apiKey}\n`);
      io.stderr('This key is shown only once: store it now. Only its hash is kept.\n');
    }
    return 0;
  }
  if (action === 'list') {
    const flags = parse(rest, { platform: { type: 'string' }, json: { type: 'boolean' } });
    const platformId = required(flags.platform, 'platform');
    const keys = await withDatabase(io, async (db) => {
      await requirePlatform(db, platformId);
      return listApiKeys(db.prisma, platformId);
    });
    // Only what identifies a key: the hash and the key itself never leave the database.
    const listed = keys.map((key) => ({
      id: key.id,
      prefix: key.prefix,
      name: key.name,
      sensitive: key.sensitive,
      passthrough: key.passthrough,
      created_at: key.createdAt.toISOString(),
      last_used_at: key.lastUsedAt?.toISOString() ?? null,
      revoked_at: key.revokedAt?.toISOString() ?? null,
    }));
    if (flags.json) {
      io.stdout(`${JSON.stringify(listed)}\n`);
    } else {
      const header = ['ID', 'PREFIX', 'NAME', 'SENSITIVE', 'PASSTHROUGH', 'CREATED', 'LAST USED', 'REVOKED'];
      const rows = listed.map((key) => [
        key.id,
        key.prefix,
        key.name,
        key.sensitive ? 'yes' : 'no',
        key.passthrough ? 'yes' : 'no',
        key.created_at,
        key.last_used_at ?? '-',
        key.revoked_at ?? '-',
      ]);
      io.stdout(table([header, ...rows]));
    }
    return 0;
  }
  if (action === 'revoke') {
    const flags = parse(rest, { platform: { type: 'string' }, key: { type: 'string' } });
    const platformId = required(flags.platform, 'platform');
    const keyRef = required(flags.key, 'key');
    const revoked = await withDatabase(io, (db) => revokeApiKey(db.prisma, platformId, keyRef));
    if (!revoked) throw new Error(`no active key ${keyRef} on platform ${platformId}`);
    io.stdout(`Revoked key ${revoked.id} (${revoked.prefix}).\n`);
    return 0;
  }
  throw new UsageError(`unknown key command: ${action ?? '(none)'}`);
}

async function seedCommand(args: string[], io: CliIo): Promise<number> {
  const flags = parse(args, {
    employees: { type: 'string' },
    seed: { type: 'string' },
    platform: { type: 'string' },
    json: { type: 'boolean' },
  });
  const employees = positiveInteger(required(flags.employees, 'employees'), 'employees');
  const seed = flags.seed === undefined ? undefined : positiveInteger(flags.seed, 'seed');
  const started = performance.now();
  const result = await withDatabase(io, (db) =>
    seedLinkedAccount(db, {
      employees,
      seed,
      platformId: flags.platform,
      onProgress: (message) => io.stderr(`${message}\n`),
    }),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const rows = Object.values(result.counts).reduce((sum, count) => sum + count, 0);
  io.stderr(`Seeded ${rows} rows in ${seconds} s: ${JSON.stringify(result.counts)}\n`);
  const { counts: _counts, ...secrets } = result;
  if (flags.json) {
    io.stdout(`${JSON.stringify(secrets)}\n`);
  } else {
    io.stdout(
      `platform_id:       ${secrets.platform_id}\napi_key:           ${secrets.api_key}\n` +
        `linked_account_id: ${secrets.linked_account_id}\naccount_token:     ${secrets.account_token}\n`,
    );
    io.stderr('The API key and account token are shown only once.\n');
  }
  return 0;
}

/** Applies migrations itself (rather than through openDatabase) so it can say what it applied. */
async function migrateCommand(io: CliIo): Promise<number> {
  const config = loadConfig(io.env ?? process.env);
  let url = config.DATABASE_URL;
  let release = async () => {};
  if (!url) {
    const embedded = await startEmbeddedPostgres({
      dataDir: config.DATA_DIR,
      port: config.EMBEDDED_POSTGRES_PORT,
      log: (message) => io.stderr(`${message}\n`),
    });
    url = embedded.url;
    release = () => embedded.release();
  }
  try {
    const result = await migrate(url);
    for (const name of result.applied) io.stdout(`applied ${name}\n`);
    io.stdout(
      result.applied.length === 0
        ? `Database ${redactUrl(url)} is up to date (${result.alreadyApplied} migrations).\n`
        : `Applied ${result.applied.length} migration(s) to ${redactUrl(url)}.\n`,
    );
    return 0;
  } finally {
    await release();
  }
}

async function requirePlatform(db: Database, platformId: string): Promise<void> {
  const valid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(platformId);
  if (!valid || !(await db.prisma.platform.findUnique({ where: { id: platformId } }))) {
    throw new Error(`platform ${platformId} not found`);
  }
}

function positiveInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${flag} must be a positive integer`);
  return Number(value);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** Entry point for bin/hris.js and `tsx src/cli/main.ts`: real argv, real streams, exit code. */
export async function runFromProcess(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

if (isEntryModule(import.meta.url)) await runFromProcess();
