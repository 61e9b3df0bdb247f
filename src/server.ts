import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { type Config, ConfigError, loadConfig, publicUrl } from './config.js';
import { followParentLifetime, needsHeapLimit, relaunchWithHeapLimit } from './util/heap-limit.js';

/**
 * Process entry: configuration → database (embedded by default) → services → app → listen, and a
 * graceful shutdown on SIGINT/SIGTERM: stop accepting, finish in-flight requests and syncs, close
 * the pool, then stop the embedded PostgreSQL if this was the last process using it.
 *
 * --role api|worker|all (or ROLE): serve the API, run syncs, or both. A worker without a heap limit
 * starts itself again with WORKER_HEAP_MB (util/heap-limit.ts), before loading the rest of the gateway.
 */
function readConfig(): Config {
  const { values } = parseArgs({ options: { role: { type: 'string' } }, strict: true });
  try {
    return loadConfig({ ...process.env, ...(values.role ? { ROLE: values.role } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  if (config.ROLE === 'worker' && needsHeapLimit(config.WORKER_HEAP_MB)) {
    await relaunchWithHeapLimit(config.WORKER_HEAP_MB);
  }
  followParentLifetime();
  const startedAt = performance.now();
  // Loaded here, not at the top: a worker that relaunches itself never loads them twice.
  const [{ buildApp }, { openDatabase }, { createServices }] = await Promise.all([
    import('./app.js'),
    import('./db/database.js'),
    import('./services.js'),
  ]);
  const db = await openDatabase(config, (message) => console.error(`[database] ${message}`));
  let app: FastifyInstance | undefined;
  // Services log through the app's logger once it exists (the same pino instance and redaction).
  const log = {
    info: (object: object, message: string) => app?.log.info(object, message),
    warn: (object: object, message: string) => (app ? app.log.warn(object, message) : console.error(message)),
    error: (object: object, message: string) => app?.log.error(object, message),
  };
  const services = await createServices(config, db, log);
  app = await buildApp({ config, db, keyring: services.keyring, sync: services.sync });
  app.log.info({ database: db.description, role: config.ROLE }, 'database ready');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    app?.log.info({ signal }, 'shutting down');
    const forceExit = setTimeout(() => {
      console.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    forceExit.unref();
    try {
      await app?.close();
      await services.close();
      await db.close();
    } finally {
      clearTimeout(forceExit);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  if (config.ROLE === 'api') await services.sync.start();
  else await services.sync.startWorker();
  if (config.ROLE !== 'api') await services.webhooks.startWorker();
  if (config.ROLE === 'worker') {
    app.log.info({ startupMs: Math.round(performance.now() - startedAt) }, 'HRIS Gateway sync worker ready');
    return;
  }
  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    app.log.error({ err: error }, 'could not listen');
    await services.close();
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
