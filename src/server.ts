import { buildApp } from './app.js';
import { ConfigError, loadConfig, publicUrl } from './config.js';
import { openDatabase } from './db/database.js';

/**
 * Process entry: configuration → database (embedded by default) → app → listen, and a graceful
 * shutdown on SIGINT/SIGTERM: stop accepting, finish in-flight requests, close the pool, then stop
 * the embedded PostgreSQL if this was the last process using it.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const startedAt = performance.now();
  const db = await openDatabase(config, (message) => console.error(`[database] ${message}`));
  const app = await buildApp({ config, db });
  app.log.info({ database: db.description }, 'database ready');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    app.log.info({ signal }, 'shutting down');
    const forceExit = setTimeout(() => {
      app.log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    forceExit.unref();
    try {
      await app.close();
      await db.close();
    } finally {
      clearTimeout(forceExit);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    app.log.error({ err: error }, 'could not listen');
    await db.close();
    process.exit(1);
  }
  app.log.info(
    {
      url: publicUrl(config),
      docs: `${publicUrl(config)}/docs`,
      startupMs: Math.round(performance.now() - startedAt),
    },
    'HRIS Gateway ready',
  );
}

await main();
