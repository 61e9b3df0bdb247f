import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  hasZodFastifySchemaValidationErrors,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { healthRoutes } from './api/routes/health.js';
import { webhookEventsDocument } from './api/routes/webhooks.js';
import { v1Api } from './api/v1.js';
import type { Config } from './config.js';
import type { Keyring } from './crypto/credentials.js';
import type { Database } from './db/database.js';
import { AppError, type ErrorDetail, errorBody } from './errors.js';
import { loggerOptions } from './logging.js';
import type { SyncService } from './sync/sync-service.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Database;
    keyring: Keyring;
    sync: SyncService;
  }
}

export interface AppDependencies {
  config: Config;
  db: Database;
  /** Encrypts provider credentials at rest. */
  keyring: Keyring;
  /** Runs and queues syncs (not started by buildApp: server.ts starts it per ROLE). */
  sync: SyncService;
  /** Override the logger (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The database as a named plugin, so route plugins can declare they depend on it. */
const databasePlugin = fp(
  async (app: FastifyInstance, options: { db: Database }) => {
    app.decorate('db', options.db);
  },
  { name: 'database' },
);

/**
 * The zod transform registers every named schema twice, as input and as output; our named schemas
 * are only ever responses, so the unused `...Input` copies would just clutter the document.
 */
function withoutUnusedInputSchemas(transform: SwaggerTransformObject): SwaggerTransformObject {
  return (input) => {
    const document = transform(input) as { components?: { schemas?: Record<string, unknown> } };
    const schemas = document.components?.schemas ?? {};
    const text = JSON.stringify({ ...document, components: { ...document.components, schemas: {} } });
    for (const name of Object.keys(schemas)) {
      if (name.endsWith('Input') && !text.includes(`#/components/schemas/${name}"`)) delete schemas[name];
    }
    return document as ReturnType<SwaggerTransformObject>;
  };
}

/**
 * Builds the Fastify application: plugins, routes and the error handler. It does not listen and
 * does not own the database (server.ts does), so tests build it around their own database and
 * drive it with app.inject or real HTTP.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(deps.config),
    // Honour a caller's X-Request-Id when it is sane, so logs correlate across services.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    requestIdHeader: false,
    trustProxy: deps.config.NODE_ENV === 'production',
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.decorate('config', deps.config);
  app.decorate('keyring', deps.keyring);
  app.decorate('sync', deps.sync);
  app.setValidatorCompiler(validatorCompiler);
  // Responses are built by our own typed code; the zod response schemas document them (OpenAPI) and
  // tests check real responses against them. Validating every row again on the hot path would cost
  // more than the query.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      return reply.code(error.status).send(errorBody(error.code, error.message, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext === 'body' ? 'body' : 'query';
      const details: ErrorDetail[] = error.validation.flatMap((issue) => {
        const params = issue.params as { keys?: string[] };
        if (issue.keyword === 'unrecognized_keys' && params.keys) {
          return params.keys.map((key) => ({ field: key, message: `unknown ${where} parameter` }));
        }
        const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
        return [{ ...(field ? { field } : {}), message: issue.message ?? 'invalid' }];
      });
      const code = error.validationContext === 'body' ? 'invalid_request_body' : 'invalid_query_params';
      const summary = details.map((detail) =>
        detail.field ? `${detail.field}: ${detail.message}` : detail.message,
      );
      return reply.code(400).send(errorBody(code, summary.join('; '), details));
    }
    const status = error.statusCode ?? 500;
    if (status === 429) {
      return reply.code(429).send(errorBody('rate_limited', error.message));
    }
    if (status === 413) return reply.code(413).send(errorBody('payload_too_large', error.message));
    if (status === 415) return reply.code(415).send(errorBody('unsupported_media_type', error.message));
    if (status >= 400 && status < 500) {
      return reply.code(400).send(errorBody('invalid_request_body', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send(errorBody('internal_error', 'Something went wrong on our side; it was logged.'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  await app.register(helmet, {
    // Swagger UI (/docs) runs its own scripts and styles from this origin only.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
      },
    },
  });

  await app.register(rateLimit, {
    max: deps.config.RATE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    // Per API key (hashed by the plugin's store key), falling back to the client address.
    keyGenerator: (request) => request.headers.authorization ?? request.ip,
    errorResponseBuilder: (_request, context) => {
      const error = new AppError(
        'rate_limited',
        `Rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s.`,
      ) as AppError & { statusCode: number };
      error.statusCode = 429;
      return error;
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'HRIS Gateway API',
        version: '1.0.0',
        description:
          "One normalized REST API over employers' HR systems (Microsoft Dynamics 365 Human Resources first). " +
          'Authenticate every request with your API key (`Authorization: Bearer <api key>`) and name the employer with ' +
          '`X-Account-Token: <account token>`. Lists are cursor-paginated (`next`, `previous`, `results`). ' +
          'Errors always have the shape `{ "error": { "code", "message", "details" } }`.',
        license: { name: 'Proprietary', url: 'https://hris-gateway.dev/terms' },
        contact: { name: 'HRIS Gateway', email: 'support@hris-gateway.dev' },
      },
      servers: [{ url: '/', description: 'The gateway serving this document' }],
      webhooks: webhookEventsDocument(),
      tags: [
        { name: 'Employees', description: 'People employed by the linked employer.' },
        { name: 'Employments', description: 'Employment periods, positions and pay.' },
        { name: 'Dependents', description: "Employees' dependents (spouses, partners, children)." },
        { name: 'Benefit plans', description: 'Benefit plans the employer offers.' },
        {
          name: 'Benefit enrollments',
          description: "Employees' enrollments in benefit plans, with covered dependents.",
        },
        { name: 'Companies', description: 'Legal entities of the employer.' },
        { name: 'Departments', description: 'Departments of the employer.' },
        { name: 'Job positions', description: 'Positions and their jobs.' },
        { name: 'Linked accounts', description: 'Employer accounts linked to your platform.' },
        { name: 'Sync', description: 'Run syncs and see how fresh each model is.' },
        { name: 'Webhooks', description: 'Signed, retried and replayable change notifications.' },
        { name: 'Operations', description: 'Health and readiness.' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: "Your platform's API key." },
          accountToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-Account-Token',
            description: 'The account token of the linked employer account.',
          },
        },
      },
    },
    transform: createJsonSchemaTransform({ skipList: ['/docs', '/docs/*'] }),
    transformObject: withoutUnusedInputSchemas(createJsonSchemaTransformObject({})),
  });

  if (deps.config.DOCS_ENABLED) {
    // Served from the package's own files: no CDN, so it works offline and under a strict CSP.
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: true } });
  }

  await app.register(databasePlugin, { db: deps.db });
  await app.register(healthRoutes);
  await app.register(v1Api);
  return app;
}
