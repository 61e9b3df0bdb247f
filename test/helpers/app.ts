import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { loggerOptions } from '../../src/logging.js';
import { createServices, type Services } from '../../src/services.js';

/** The real application around a test database, closed when the test file ends. */
export async function createTestApp(
  db: Database,
  env: Record<string, string> = {},
  logger: boolean | object = false,
  serviceOverrides: { caCertPem?: string } = {},
): Promise<{ app: FastifyInstance; config: Config; services: Services }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hris-app-'));
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...env });
  const quiet = { info() {}, warn() {}, error() {} };
  const services = await createServices(config, db, quiet, serviceOverrides);
  // A logger object (e.g. a capturing stream) is layered on the gateway's real logger options, so
  // tests see the same serializers and redaction as production.
  const options = typeof logger === 'object' ? { ...(loggerOptions(config) as object), ...logger } : logger;
  const app = await buildApp({
    config,
    db,
    keyring: services.keyring,
    sync: services.sync,
    ...(serviceOverrides.caCertPem ? { caCertPem: serviceOverrides.caCertPem } : {}),
    logger: options as never,
  });
  await app.ready();
  afterAll(async () => {
    await app.close();
    await services.close();
  });
  return { app, config, services };
}
