import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, errorResponseSchema } from '../../errors.js';
import { providerDefinition } from '../../providers/registry.js';
import { MODEL_NAMES, MODELS } from '../../unified/models.js';
import { pageParams } from '../list-query.js';
import { decodeCursor, toPage } from '../pagination.js';

/** POST /v1/sync, GET /v1/sync-status and GET /v1/sync-runs for the account of X-Account-Token. */

const errors = {
  400: errorResponseSchema.describe('A parameter is malformed or unknown.'),
  401: errorResponseSchema.describe('The API key or account token is missing or invalid.'),
  404: errorResponseSchema.describe('No linked account of yours has this account token.'),
  409: errorResponseSchema.describe('The account has nothing to sync (e.g. generated data).'),
  429: errorResponseSchema.describe('Rate limit exceeded; retry after the Retry-After header.'),
};

const syncRunSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(['full', 'incremental']),
    trigger: z.string().describe('What started it: schedule, api, connect, demo.'),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    started_at: z.iso.datetime({ offset: true }),
    finished_at: z.iso.datetime({ offset: true }).nullable(),
    duration_ms: z.number().int().nullable(),
    stats: z
      .record(z.string(), z.unknown())
      .describe(
        'Per model: source, created, updated, deleted, invalid (with the first invalid rows and why).',
      ),
    error: z.string().nullable(),
  })
  .meta({
    id: 'SyncRun',
    example: {
      id: '9b2f5c1e-8d7a-4e3b-a6f0-1c2d3e4f5a6b',
      kind: 'incremental',
      trigger: 'schedule',
      status: 'succeeded',
      started_at: '2026-11-26T03:00:00.000Z',
      finished_at: '2026-11-26T03:00:01.250Z',
      duration_ms: 1250,
      stats: {
        employees: { source: 'dataverse:cdm_workers', created: 1, updated: 3, deleted: 0, invalid: 0 },
      },
      error: null,
    },
  });

const modelStatusSchema = z.object({
  model: z.enum(MODEL_NAMES),
  source: z
    .string()
    .describe('What serves the model: dataverse:<table>, fno-odata:<entity>, dmf:<group> or unavailable.'),
  source_reason: z.string().nullable().describe('Why this source (or why unavailable), in words.'),
  last_success_at: z.iso.datetime({ offset: true }).nullable(),
  last_error: z.string().nullable(),
  last_error_at: z.iso.datetime({ offset: true }).nullable(),
  record_count: z.number().int().describe('Live records stored for the account.'),
  freshness_seconds: z
    .number()
    .int()
    .nullable()
    .describe('Seconds since the last successful sync of the model.'),
});

const syncStatusSchema = z
  .object({
    linked_account_id: z.uuid(),
    status: z.string().describe('The linked account status.'),
    status_reason: z.string().nullable(),
    last_synced_at: z.iso.datetime({ offset: true }).nullable(),
    current_run: syncRunSchema.nullable().describe('The queued or running sync, if any.'),
    models: z.array(modelStatusSchema),
  })
  .meta({ id: 'SyncStatus' });

const RUN_COLUMNS = `id, kind, trigger, status, started_at, finished_at,
  (extract(epoch FROM finished_at - started_at) * 1000)::int AS duration_ms, stats, error`;

export async function syncRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post(
    '/v1/sync',
    {
      schema: {
        operationId: 'request_sync',
        summary: 'Sync now',
        description:
          'Starts a sync of the linked account now. Never rationed: a request while a sync is queued or running joins it (joined=true) instead of starting a second one. kind=full re-reads everything and reconciles deletions; incremental (default) fetches changes only.',
        tags: ['Sync'],
        security: [{ apiKey: [], accountToken: [] }],
        // No body at all is fine: an incremental sync.
        body: z
          .object({ kind: z.enum(['incremental', 'full']).default('incremental') })
          .strict()
          .nullish(),
        response: {
          202: z
            .object({
              run_id: z.uuid(),
              status: z.enum(['queued', 'running']),
              joined: z.boolean(),
            })
            .meta({
              example: { run_id: '9b2f5c1e-8d7a-4e3b-a6f0-1c2d3e4f5a6b', status: 'queued', joined: false },
            }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const account = await app.db.prisma.linkedAccount.findUniqueOrThrow({
        where: { id: request.account.id },
      });
      // Seeded accounts (provider "seed") hold generated data: no registered provider syncs them.
      if (!providerDefinition(account.provider) || !account.credentialsEncrypted) {
        throw new AppError(
          'conflict',
          'This linked account holds generated data and has no HR system to sync from.',
        );
      }
      const result = await app.sync.requestSync(
        request.account.id,
        request.body?.kind ?? 'incremental',
        'api',
      );
      return reply.code(202).send(result);
    },
  );

  routes.get(
    '/v1/sync-status',
    {
      schema: {
        operationId: 'get_sync_status',
        summary: 'Sync status',
        description:
          'Per model: which source serves it and why, the last success and last error, how many records are stored, and how fresh they are; plus the sync in progress.',
        tags: ['Sync'],
        security: [{ apiKey: [], accountToken: [] }],
        response: { 200: syncStatusSchema, ...errors },
      },
    },
    async (request) => {
      const accountId = request.account.id;
      const { pool } = app.db;
      const [account, states, current, counts] = await Promise.all([
        pool.query('SELECT id, status, status_reason, last_synced_at FROM linked_accounts WHERE id = $1', [
          accountId,
        ]),
        pool.query('SELECT * FROM sync_states WHERE linked_account_id = $1', [accountId]),
        pool.query(
          `SELECT ${RUN_COLUMNS} FROM sync_runs WHERE linked_account_id = $1 AND status IN ('queued', 'running')
           ORDER BY started_at DESC LIMIT 1`,
          [accountId],
        ),
        pool.query(
          MODEL_NAMES.map(
            (model) =>
              `SELECT '${model}' AS model, count(*)::int AS n FROM ${MODELS[model].table} WHERE linked_account_id = $1 AND NOT remote_was_deleted`,
          ).join(' UNION ALL '),
          [accountId],
        ),
      ]);
      const stateByModel = new Map(states.rows.map((row) => [row.model, row]));
      const countByModel = new Map(counts.rows.map((row) => [row.model, row.n]));
      const row = account.rows[0];
      return {
        linked_account_id: accountId,
        status: row.status,
        status_reason: row.status_reason,
        last_synced_at: row.last_synced_at,
        current_run: current.rows[0] ?? null,
        models: MODEL_NAMES.map((model) => {
          const state = stateByModel.get(model);
          return {
            model,
            source: state?.source ?? 'unknown',
            source_reason: state?.source_reason ?? null,
            last_success_at: state?.last_success_at ?? null,
            last_error: state?.last_error ?? null,
            last_error_at: state?.last_error_at ?? null,
            record_count: countByModel.get(model) ?? 0,
            freshness_seconds: state?.last_success_at
              ? Math.round((Date.now() - state.last_success_at.getTime()) / 1000)
              : null,
          };
        }),
      } as never;
    },
  );

  routes.get(
    '/v1/sync-runs',
    {
      schema: {
        operationId: 'list_sync_runs',
        summary: 'Sync history',
        description: "The linked account's syncs, newest first, with counts per model, durations and errors.",
        tags: ['Sync'],
        security: [{ apiKey: [], accountToken: [] }],
        querystring: z
          .object({
            ...pageParams('Runs'),
          })
          .strict(),
        response: {
          200: z.object({
            next: z.string().nullable(),
            previous: z.string().nullable(),
            results: z.array(syncRunSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      // Runs page by id in descending time order: ids are random, so key on (started_at, id).
      const cursor = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      const params: unknown[] = [request.account.id];
      let seek = '';
      if (cursor) {
        params.push(cursor.id);
        const comparison = cursor.d === 'n' ? '<' : '>';
        seek = `AND (started_at, id) ${comparison} (SELECT started_at, id FROM sync_runs WHERE id = $2)`;
      }
      params.push(request.query.page_size + 1);
      const { rows } = await app.db.pool.query(
        `SELECT ${RUN_COLUMNS} FROM sync_runs WHERE linked_account_id = $1 ${seek}
         ORDER BY started_at ${cursor?.d === 'p' ? 'ASC' : 'DESC'}, id ${cursor?.d === 'p' ? 'ASC' : 'DESC'}
         LIMIT $${params.length}`,
        params,
      );
      return toPage(rows, request.query.page_size, cursor) as never;
    },
  );
}
