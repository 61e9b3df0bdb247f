import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, errorResponseSchema } from '../../errors.js';
import {
  countEndpoints,
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  MAX_ENDPOINTS_PER_PLATFORM,
  redeliverEvent,
  replayEvents,
  rotateSecret,
  sendTestEvent,
  updateEndpoint,
} from '../../webhooks/endpoints.js';
import { EVENT_TYPES } from '../../webhooks/event-types.js';
import { assertSafeUrl, UnsafeUrlError } from '../../webhooks/url-safety.js';
import { instantInput, textInput } from '../input-schemas.js';
import { pageParams } from '../list-query.js';
import { decodeCursor, toPage } from '../pagination.js';

/**
 * Webhook endpoints, deliveries, replay and redelivery (docs/webhooks.md). API key only: a
 * platform's endpoints receive events of all its linked accounts, and each platform sees and
 * manages only its own.
 */

const EXAMPLE_ID = '0193a5e2-7c1d-7b3e-9f00-3c2d1e0f4a5b';
const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6nT3nRm8MwE=';

const eventType = z.enum(EVENT_TYPES);
const dateTime = z.iso.datetime({ offset: true });

const endpointSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()).nullable().describe('The event types it receives; null = all.'),
    payload: z
      .enum(['full', 'thin'])
      .describe('full: record events carry the record as GET /v1/<model>/{id} returns it; thin: ids only.'),
    status: z.enum(['enabled', 'disabled']),
    disabled_reason: z
      .string()
      .nullable()
      .describe(
        'Why it was disabled (410 Gone, 5 days of failures, or through the API), and how to re-enable it.',
      ),
    created_at: dateTime,
    updated_at: dateTime,
  })
  .meta({
    id: 'WebhookEndpoint',
    description: 'A URL of yours that receives signed events (Standard Webhooks).',
    example: {
      id: EXAMPLE_ID,
      url: 'https://platform.example.com/hris-webhooks',
      description: 'Production receiver',
      event_types: ['employee.created', 'employee.updated', 'sync.completed'],
      payload: 'full',
      status: 'enabled',
      disabled_reason: null,
      created_at: '2026-11-26T10:00:00.000Z',
      updated_at: '2026-11-26T10:00:00.000Z',
    },
  });

const endpointWithSecretSchema = endpointSchema
  .extend({
    secret: z
      .string()
      .describe('The signing secret (`whsec_` + base64), shown only here: store it to verify signatures.'),
  })
  .meta({
    id: 'WebhookEndpointWithSecret',
    description: 'A new endpoint with its signing secret (returned once).',
    example: {
      id: EXAMPLE_ID,
      url: 'https://platform.example.com/hris-webhooks',
      description: 'Production receiver',
      event_types: null,
      payload: 'full',
      status: 'enabled',
      disabled_reason: null,
      created_at: '2026-11-26T10:00:00.000Z',
      updated_at: '2026-11-26T10:00:00.000Z',
      secret: EXAMPLE_SECRET,
    },
  });

const attemptSchema = z.object({
  attempt_number: z.number().int(),
  started_at: dateTime,
  duration_ms: z.number().int(),
  response_status: z
    .number()
    .int()
    .nullable()
    .describe('The HTTP status the endpoint answered, if it answered.'),
  error: z
    .string()
    .nullable()
    .describe('Why the attempt failed (timeout, connection refused, HTTP 500, ...).'),
});

const deliverySchema = z
  .object({
    id: z.uuid(),
    endpoint_id: z.uuid(),
    event_id: z.uuid().describe('The event, sent as the webhook-id header.'),
    event_type: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']).describe('failed: every retry failed.'),
    attempt_count: z.number().int(),
    next_attempt_at: dateTime.nullable().describe('When the next attempt is due (pending deliveries).'),
    delivered_at: dateTime.nullable(),
    last_response_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    created_at: dateTime,
    attempts: z.array(attemptSchema),
  })
  .meta({
    id: 'WebhookDelivery',
    description: 'One event sent to one endpoint, with each attempt.',
    example: {
      id: '0193a5e3-0000-7000-8000-000000000001',
      endpoint_id: EXAMPLE_ID,
      event_id: '0193a5e2-ffff-7abc-8def-0123456789ab',
      event_type: 'employee.updated',
      status: 'pending',
      attempt_count: 1,
      next_attempt_at: '2026-11-26T10:00:10.000Z',
      delivered_at: null,
      last_response_status: 503,
      last_error: 'HTTP 503',
      created_at: '2026-11-26T10:00:00.000Z',
      attempts: [
        {
          attempt_number: 1,
          started_at: '2026-11-26T10:00:00.120Z',
          duration_ms: 84,
          response_status: 503,
          error: 'HTTP 503',
        },
      ],
    },
  });

const tags = ['Webhooks'];

const idParams = z.object({ id: z.uuid().describe('The endpoint id.') });

const errors = {
  400: errorResponseSchema.describe('A parameter or body property is invalid (named in details).'),
  401: errorResponseSchema.describe('The API key is missing or invalid.'),
  404: errorResponseSchema.describe('No endpoint (or event) of yours has this id.'),
  429: errorResponseSchema.describe('Rate limit exceeded; retry after the Retry-After header.'),
};

const notFound = (what: string) => new AppError('not_found', `No ${what} of yours has this id.`);
const disabledConflict = (action: string) =>
  new AppError(
    'conflict',
    `The endpoint is disabled; enable it (PATCH {"status":"enabled"}) before ${action}.`,
    [{ field: 'status', message: 'disabled' }],
  );

export async function webhookRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { pool } = app.db;
  const security = [{ apiKey: [] }];
  const config = { accountTokenOptional: true };

  async function checkUrl(url: string): Promise<void> {
    try {
      await assertSafeUrl(url, app.config.WEBHOOK_ALLOW_PRIVATE_URLS);
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error;
      throw new AppError('invalid_request_body', `url ${error.message}`, [
        { field: 'url', message: error.message },
      ]);
    }
  }

  routes.post(
    '/v1/webhook-endpoints',
    {
      config,
      schema: {
        operationId: 'create_webhook_endpoint',
        summary: 'Create a webhook endpoint',
        description:
          'Registers a URL that receives events of all your linked accounts, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The response carries the signing secret once. The URL must be https and resolve to public addresses.',
        tags,
        security,
        body: z
          .object({
            url: z.url().max(2000).describe('https URL receiving POSTed events.'),
            event_types: z
              .array(eventType)
              .min(1)
              .max(EVENT_TYPES.length)
              .optional()
              .describe('The event types to receive; omitted = all.'),
            payload: z.enum(['full', 'thin']).default('full'),
            description: textInput(500).optional(),
          })
          .strict()
          .meta({
            example: {
              url: 'https://platform.example.com/hris-webhooks',
              event_types: ['employee.created', 'employee.updated', 'employee.deleted', 'sync.completed'],
              payload: 'full',
              description: 'Production receiver',
            },
          }),
        response: {
          201: endpointWithSecretSchema,
          ...errors,
          409: errorResponseSchema.describe(`You already have ${MAX_ENDPOINTS_PER_PLATFORM} endpoints.`),
        },
      },
    },
    async (request, reply) => {
      const platformId = request.apiKey.platformId;
      await checkUrl(request.body.url);
      if ((await countEndpoints(pool, platformId)) >= MAX_ENDPOINTS_PER_PLATFORM) {
        throw new AppError(
          'conflict',
          `A platform has at most ${MAX_ENDPOINTS_PER_PLATFORM} webhook endpoints; delete one first.`,
        );
      }
      const endpoint = await createEndpoint(pool, app.keyring, platformId, request.body);
      return reply.code(201).send(endpoint);
    },
  );

  routes.get(
    '/v1/webhook-endpoints',
    {
      config,
      schema: {
        operationId: 'list_webhook_endpoints',
        summary: 'List webhook endpoints',
        description: 'Your endpoints, with their status: a disabled one says why in disabled_reason.',
        tags,
        security,
        querystring: z.object(pageParams('Endpoints')).strict(),
        response: {
          200: z.object({
            next: z.string().nullable(),
            previous: z.string().nullable(),
            results: z.array(endpointSchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const cursor = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      const rows = await listEndpoints(pool, request.apiKey.platformId, cursor, request.query.page_size);
      return toPage(rows, request.query.page_size, cursor);
    },
  );

  routes.get(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        operationId: 'get_webhook_endpoint',
        summary: 'Get a webhook endpoint',
        description: 'One of your endpoints, with its status and, when disabled, why (never its secret).',
        tags,
        security,
        params: idParams,
        response: { 200: endpointSchema, ...errors },
      },
    },
    async (request) => {
      const endpoint = await getEndpoint(pool, request.apiKey.platformId, request.params.id);
      if (!endpoint) throw notFound('webhook endpoint');
      return endpoint;
    },
  );

  routes.patch(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        operationId: 'update_webhook_endpoint',
        summary: 'Update a webhook endpoint',
        description:
          'Changes the URL, event types, payload or description, or enables/disables the endpoint. Re-enabling a disabled endpoint sends its pending deliveries at once.',
        tags,
        security,
        params: idParams,
        body: z
          .object({
            url: z.url().max(2000).optional(),
            event_types: z.array(eventType).min(1).nullable().optional().describe('null = all event types.'),
            payload: z.enum(['full', 'thin']).optional(),
            description: textInput(500).nullable().optional(),
            status: z.enum(['enabled', 'disabled']).optional(),
          })
          .strict()
          .meta({ example: { status: 'enabled', payload: 'thin' } }),
        response: { 200: endpointSchema, ...errors },
      },
    },
    async (request) => {
      if (request.body.url !== undefined) await checkUrl(request.body.url);
      const endpoint = await updateEndpoint(pool, request.apiKey.platformId, request.params.id, request.body);
      if (!endpoint) throw notFound('webhook endpoint');
      return endpoint;
    },
  );

  routes.delete(
    '/v1/webhook-endpoints/:id',
    {
      config,
      schema: {
        operationId: 'delete_webhook_endpoint',
        summary: 'Delete a webhook endpoint',
        description: 'Deletes the endpoint and its deliveries; nothing more is sent to it.',
        tags,
        security,
        params: idParams,
        response: { 204: z.null().describe('Deleted.'), ...errors },
      },
    },
    async (request, reply) => {
      if (!(await deleteEndpoint(pool, request.apiKey.platformId, request.params.id))) {
        throw notFound('webhook endpoint');
      }
      return reply.code(204).send(null);
    },
  );

  routes.post(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      config,
      schema: {
        operationId: 'rotate_webhook_secret',
        summary: 'Rotate the signing secret',
        description:
          'Returns a new secret. For 24 hours deliveries carry two signatures (new and previous secret), so receivers can switch without losing events.',
        tags,
        security,
        params: idParams,
        response: {
          200: z.object({ id: z.uuid(), secret: z.string(), previous_secret_expires_at: dateTime }).meta({
            id: 'WebhookSecretRotation',
            example: {
              id: EXAMPLE_ID,
              secret: EXAMPLE_SECRET,
              previous_secret_expires_at: '2026-11-27T10:00:00.000Z',
            },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const rotated = await rotateSecret(pool, app.keyring, request.apiKey.platformId, request.params.id);
      if (!rotated) throw notFound('webhook endpoint');
      return { id: request.params.id, ...rotated };
    },
  );

  routes.post(
    '/v1/webhook-endpoints/:id/test',
    {
      config,
      schema: {
        operationId: 'test_webhook_endpoint',
        summary: 'Send a test event',
        description:
          'Sends a `webhook.test` event to this endpoint now; follow it with GET /v1/webhook-deliveries?event_id=.',
        tags,
        security,
        params: idParams,
        response: {
          202: z.object({ event_id: z.uuid(), delivery_id: z.uuid() }).meta({
            id: 'WebhookTestSent',
            example: {
              event_id: '0193a5e2-ffff-7abc-8def-0123456789ab',
              delivery_id: '0193a5e3-0000-7000-8000-000000000001',
            },
          }),
          ...errors,
          409: errorResponseSchema.describe('The endpoint is disabled: enable it first.'),
        },
      },
    },
    async (request, reply) => {
      const endpoint = await getEndpoint(pool, request.apiKey.platformId, request.params.id);
      if (!endpoint) throw notFound('webhook endpoint');
      if (endpoint.status !== 'enabled') throw disabledConflict('testing');
      return reply.code(202).send(await sendTestEvent(pool, request.apiKey.platformId, endpoint.id));
    },
  );

  routes.post(
    '/v1/webhook-endpoints/:id/replay',
    {
      config,
      schema: {
        operationId: 'replay_webhook_events',
        summary: 'Replay events',
        description:
          'Sends again every event of the window (that the endpoint subscribes to), in order and with the same webhook-id, so a receiver that missed some catches up and deduplicates the rest. Events are kept for WEBHOOK_RETENTION_DAYS (30 by default).',
        tags,
        security,
        params: idParams,
        body: z
          .object({
            since: instantInput.describe('Events created at or after this time.'),
            until: instantInput.optional().describe('Events created before this time; default now.'),
            event_types: z.array(eventType).min(1).optional().describe('Only these types.'),
          })
          .strict()
          .meta({ example: { since: '2026-11-25T00:00:00Z', event_types: ['employee.updated'] } }),
        response: {
          202: z
            .object({ replayed: z.number().int().describe('Events queued for delivery.') })
            .meta({ id: 'WebhookReplay', example: { replayed: 1250 } }),
          ...errors,
          409: errorResponseSchema.describe('The endpoint is disabled: enable it first.'),
        },
      },
    },
    async (request, reply) => {
      const endpoint = await getEndpoint(pool, request.apiKey.platformId, request.params.id);
      if (!endpoint) throw notFound('webhook endpoint');
      if (endpoint.status !== 'enabled') throw disabledConflict('replaying');
      const { since } = request.body;
      const until = request.body.until ?? new Date();
      if (until <= since) {
        throw new AppError('invalid_request_body', 'until must be after since', [
          { field: 'until', message: 'must be after since' },
        ]);
      }
      const replayed = await replayEvents(pool, request.apiKey.platformId, endpoint.id, {
        since,
        until,
        eventTypes: request.body.event_types ?? [],
      });
      return reply.code(202).send({ replayed });
    },
  );

  routes.post(
    '/v1/webhook-events/:id/redeliver',
    {
      config,
      schema: {
        operationId: 'redeliver_webhook_event',
        summary: 'Redeliver an event',
        description:
          'Sends one event again (same webhook-id): to the endpoint named, or to every enabled endpoint subscribed to its type.',
        tags,
        security,
        params: z.object({ id: z.uuid().describe('The event id (the webhook-id header).') }),
        body: z
          .object({ endpoint_id: z.uuid().optional() })
          .strict()
          .optional()
          .meta({ example: { endpoint_id: EXAMPLE_ID } }),
        response: {
          202: z.object({ deliveries: z.array(z.object({ id: z.uuid(), endpoint_id: z.uuid() })) }).meta({
            id: 'WebhookRedelivery',
            example: {
              deliveries: [{ id: '0193a5e3-0000-7000-8000-000000000002', endpoint_id: EXAMPLE_ID }],
            },
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const endpointId = request.body?.endpoint_id;
      if (endpointId && !(await getEndpoint(pool, request.apiKey.platformId, endpointId))) {
        throw new AppError('not_found', 'No webhook endpoint of yours has this id.', [
          { field: 'endpoint_id', message: 'unknown endpoint' },
        ]);
      }
      const deliveries = await redeliverEvent(pool, request.apiKey.platformId, request.params.id, endpointId);
      if (!deliveries) throw notFound('webhook event');
      return reply.code(202).send({ deliveries });
    },
  );

  routes.get(
    '/v1/webhook-deliveries',
    {
      config,
      schema: {
        operationId: 'list_webhook_deliveries',
        summary: 'List webhook deliveries',
        description:
          'Deliveries oldest first, each with every attempt (status, duration, error) and, while pending, when the next attempt is due.',
        tags,
        security,
        querystring: z
          .object({
            ...pageParams('Deliveries'),
            endpoint_id: z.uuid().optional(),
            event_id: z.uuid().optional(),
            status: z.enum(['pending', 'delivered', 'failed']).optional(),
          })
          .strict(),
        response: {
          200: z.object({
            next: z.string().nullable(),
            previous: z.string().nullable(),
            results: z.array(deliverySchema),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { cursor: rawCursor, page_size: pageSize, ...filters } = request.query;
      const cursor = rawCursor ? decodeCursor(rawCursor) : undefined;
      const rows = await listDeliveries(pool, request.apiKey.platformId, filters, cursor, pageSize);
      return toPage(rows, pageSize, cursor);
    },
  );
}

// ─── The events themselves, for the OpenAPI document's `webhooks` section ─────────────────────

const signatureHeaders = [
  { name: 'webhook-id', description: 'The event id: the same on every retry, replay and redelivery.' },
  { name: 'webhook-timestamp', description: 'Unix seconds of this attempt.' },
  {
    name: 'webhook-signature',
    description:
      '`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`; two, space-separated, for 24 h after a rotation.',
  },
].map((header) => ({ ...header, in: 'header', required: true, schema: { type: 'string' } }));

const accountEventData = z.object({
  linked_account_id: z.uuid(),
  end_user_origin_id: z.string(),
  organization_name: z.string(),
  status: z.string(),
  previous_status: z.string().nullable(),
  status_reason: z.string().nullable().describe('What to fix, when the account needs attention.'),
  credentials_expire_at: dateTime.nullable(),
});

const WEBHOOK_EVENTS = {
  recordChanged: {
    summary: 'A record changed',
    description:
      'One event per changed record per sync (`<model>.created|updated|deleted`). `record` (the record as GET /v1/<model>/{id} returns it, never sensitive fields or remote_data) only with payload "full".',
    body: z.object({
      type: z.enum(
        EVENT_TYPES.filter((type) => /\.(created|updated|deleted)$/.test(type)) as [string, ...string[]],
      ),
      timestamp: dateTime,
      data: z.object({
        id: z.uuid(),
        remote_id: z.string().nullable(),
        linked_account_id: z.uuid(),
        model: z.string(),
        record: z.record(z.string(), z.unknown()).nullable().optional(),
      }),
    }),
  },
  linkedAccount: {
    summary: 'A linked account connected, changed status or nears credentials expiry',
    description:
      'linked_account.connected, linked_account.status_changed, linked_account.credentials_expiring.',
    body: z.object({
      type: z.enum(EVENT_TYPES.filter((type) => type.startsWith('linked_account.')) as [string, ...string[]]),
      timestamp: dateTime,
      data: accountEventData,
    }),
  },
  sync: {
    summary: 'A sync ended',
    description:
      'sync.completed (with counts; a first sync sends only this) or sync.failed (with the error).',
    body: z.object({
      type: z.enum(['sync.completed', 'sync.failed']),
      timestamp: dateTime,
      data: z.object({
        sync_run_id: z.uuid(),
        linked_account_id: z.uuid(),
        kind: z.enum(['full', 'incremental']),
        first_sync: z.boolean(),
        started_at: dateTime,
        finished_at: dateTime.nullable(),
        counts: z.record(
          z.string(),
          z.object({ created: z.number(), updated: z.number(), deleted: z.number() }),
        ),
        error: z.string().optional(),
      }),
    }),
  },
} as const;

type WebhooksObject = NonNullable<
  Extract<NonNullable<FastifyDynamicSwaggerOptions['openapi']>, { webhooks?: unknown }>['webhooks']
>;

/**
 * The OpenAPI 3.1 `webhooks` object: what an endpoint receives, with the signature headers (the
 * signature is the authentication: no security scheme applies).
 */
export function webhookEventsDocument(): WebhooksObject {
  return Object.fromEntries(
    Object.entries(WEBHOOK_EVENTS).map(([name, event]) => [
      name,
      {
        post: {
          operationId: `webhook_${name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}`,
          summary: event.summary,
          description: event.description,
          tags,
          security: [],
          parameters: signatureHeaders,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: z.toJSONSchema(event.body) } },
          },
          responses: {
            '204': { description: 'Any 2xx: delivered. 410: disables the endpoint. Else retried.' },
          },
        },
      },
    ]),
  ) as WebhooksObject;
}
