/**
 * Writes openapi/openapi.json from the routes' zod schemas (the same ones that validate requests).
 * `--check` fails when the committed file differs, so CI catches a route changed without
 * regenerating the document.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createKeyring } from '../src/crypto/credentials.js';
import { connectDatabase } from '../src/db/database.js';
import { createProviderDependencies } from '../src/providers/registry.js';
import { SyncService } from '../src/sync/sync-service.js';

const OUTPUT = new URL('../openapi/openapi.json', import.meta.url);

export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  // The pool connects lazily and no request is made: building the document needs no database.
  const db = connectDatabase('postgresql://127.0.0.1:1/openapi', 1);
  const keyring = createKeyring([randomBytes(32)]);
  const log = { info() {}, warn() {}, error() {} };
  // Each provider's pools, unused: building the document makes no request.
  const providers = await createProviderDependencies(config, { purpose: 'sync' });
  const sync = new SyncService({
    db,
    keyring,
    providers: providers.dependencies,
    intervalMinutes: 5,
    fullIntervalHours: 24,
    log,
  });
  const app = await buildApp({ config, db, keyring, sync, logger: false });
  await app.ready();
  const document = app.swagger();
  await app.close();
  await db.close();
  await providers.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}

const rendered = await renderOpenApi();
if (process.argv.includes('--check')) {
  const committed = await readFile(OUTPUT, 'utf8').catch(() => '');
  if (committed !== rendered) {
    console.error('openapi/openapi.json is stale: run `npm run openapi` and commit the result.');
    process.exit(1);
  }
  console.log('openapi/openapi.json is up to date.');
} else {
  await writeFile(OUTPUT, rendered);
  console.log('wrote openapi/openapi.json');
}
