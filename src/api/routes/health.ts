import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pendingMigrations } from '../../db/migrate.js';

/** Liveness and readiness for orchestrators (Docker health checks, Kubernetes probes). */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // Migrations only move forward while a process runs: once seen applied, no need to look again.
  let migrationsApplied = false;

  routes.get(
    '/health',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'get_health',
        summary: 'Liveness',
        description: 'Answers 200 while the process is up, without touching the database.',
        tags: ['Operations'],
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }).meta({ example: { status: 'ok' } }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const readiness = z
    .object({
      status: z.enum(['ready', 'not_ready']),
      checks: z.object({
        database: z.enum(['ok', 'unreachable']),
        migrations: z.enum(['ok', 'pending', 'unknown']),
      }),
    })
    .meta({ example: { status: 'ready', checks: { database: 'ok', migrations: 'ok' } } });

  routes.get(
    '/ready',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'get_ready',
        summary: 'Readiness',
        description:
          'Answers 200 when the database is reachable and every migration is applied, 503 otherwise.',
        tags: ['Operations'],
        security: [],
        response: { 200: readiness, 503: readiness },
      },
    },
    async (request, reply) => {
      let database: 'ok' | 'unreachable' = 'ok';
      let migrations: 'ok' | 'pending' | 'unknown' = migrationsApplied ? 'ok' : 'unknown';
      try {
        await app.db.pool.query('SELECT 1');
        if (!migrationsApplied) {
          migrationsApplied = (await pendingMigrations(app.db.pool)).length === 0;
          migrations = migrationsApplied ? 'ok' : 'pending';
        }
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        database = 'unreachable';
      }
      const ready = database === 'ok' && migrations === 'ok';
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', checks: { database, migrations } });
    },
  );
}
