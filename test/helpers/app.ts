import type { FastifyInstance } from 'fastify';
import { afterAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';

/** The real application around a test database, closed when the test file ends. */
export async function createTestApp(
  db: Database,
  env: Record<string, string> = {},
  logger: boolean | object = false,
): Promise<{ app: FastifyInstance; config: Config }> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env });
  const app = await buildApp({ config, db, logger: logger as never });
  await app.ready();
  afterAll(async () => {
    await app.close();
  });
  return { app, config };
}
