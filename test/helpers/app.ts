import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { loggerOptions } from '../../src/logging.js';

/** The real application around a test database, closed when the test file ends. */
export async function createTestApp(
  db: Database,
  env: Record<string, string> = {},
  logger: boolean | object = false,
): Promise<{ app: FastifyInstance; config: Config }> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
  // A logger object (e.g. a capturing stream) is layered on the gateway's real logger options, so
  // tests see the same serializers and redaction as production.
  const options = typeof logger === 'object' ? { ...(loggerOptions(config) as object), ...logger } : logger;
  const app = await buildApp({ config, db, logger: options as never });
  await app.ready();
  afterAll(async () => {
    await app.close();
  });
  return { app, config };
}
