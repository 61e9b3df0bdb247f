/**
 * Writes openapi/openapi.json from the routes' zod schemas (the same ones that validate requests).
 * `--check` fails when the committed file differs, so CI catches a route changed without
 * regenerating the document.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connectDatabase } from '../src/db/database.js';

const OUTPUT = new URL('../openapi/openapi.json', import.meta.url);

export async function renderOpenApi(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  // The pool connects lazily and no request is made: building the document needs no database.
  const db = connectDatabase('postgresql://127.0.0.1:1/openapi', 1);
  const app = await buildApp({ config, db, logger: false });
  await app.ready();
  const document = app.swagger();
  await app.close();
  await db.close();
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
