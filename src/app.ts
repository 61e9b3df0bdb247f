import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger, { type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
  hasZodFastifySchemaValidationErrors,
  validatorCompiler,
  type ZodFastifySchemaValidationError,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { refuseInvalidText } from './api/input-guard.js';
import { registerJsonBodyParser } from './api/json-body.js';
import { healthRoutes } from './api/routes/health.js';
import { webhookEventsDocument } from './api/routes/webhooks.js';
import { v1Api } from './api/v1.js';
import type { Config } from './config.js';
import type { Keyring } from './crypto/credentials.js';
import type { Database } from './db/database.js';
import { AppError, ERROR_CODES, type ErrorCode, type ErrorDetail, errorBody } from './errors.js';
import { loggerOptions } from './logging.js';
import { PROVIDERS } from './providers/registry.js';
import type { SyncService } from './sync/sync-service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the app registered (method and URL pattern), in order. */
    routeTable: readonly { method: string; url: string }[];
    config: Config;
    db: Database;
    keyring: Keyring;
    sync: SyncService;
    /** Extra PEM CA certificate(s) every provider's pools trust (the sandbox's), if any. */
    providerCaCertPem: string | undefined;
  }
}

export interface AppDependencies {
  config: Config;
  db: Database;
  /** Encrypts provider credentials at rest. */
  keyring: Keyring;
  /** Runs and queues syncs (not started by buildApp: server.ts starts it per ROLE). */
  sync: SyncService;
  /**
   * Extra PEM CA certificate(s) every provider trusts (the sandbox's): the connect page's and
   * passthrough's own pools get it, as createServices' sync pools do.
   */
  caCertPem?: string;
  /** Override the logger (tests pass false or a stream). */
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** Framework-raised 4xx statuses and the documented code each answers with. */
const FRAMEWORK_ERROR_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

const VALIDATION_CODES: Record<string, ErrorCode> = {
  body: 'invalid_request_body',
  params: 'invalid_path_params',
  querystring: 'invalid_query_params',
};

/** A zod validation failure as a 400 naming every field at fault. */
function sendValidationError(
  error: FastifyError & { validation: ZodFastifySchemaValidationError[] },
  reply: FastifyReply,
) {
  const context = error.validationContext ?? 'querystring';
  const noun = context === 'body' ? 'body' : context === 'params' ? 'path' : 'query';
  const details: ErrorDetail[] = error.validation.flatMap((issue) => {
    const params = issue.params as { keys?: string[] };
    if (issue.keyword === 'unrecognized_keys' && params.keys) {
      return params.keys.map((key) => ({ field: key, message: `unknown ${noun} parameter` }));
    }
    const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return [{ ...(field ? { field } : {}), message: issue.message ?? 'invalid' }];
  });
  const summary = details.map((detail) =>
    detail.field ? `${detail.field}: ${detail.message}` : detail.message,
  );
  return reply
    .code(400)
    .send(errorBody(VALIDATION_CODES[context] ?? 'invalid_query_params', summary.join('; '), details));
}

/**
 * Errors Fastify meets before any route or hook runs (a malformed percent-encoding in the URL), and
 * those Node's HTTP parser meets before Fastify (over-large headers, a malformed request line): both
 * answer in the one documented error shape, not the framework's own bodies.
 */
function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
  const code = FRAMEWORK_ERROR_CODES[status] ?? 'bad_request';
  const message =
    error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid: malformed percent-encoding.' : error.message;
  reply.code(ERROR_CODES[code]).send(errorBody(code, message));
}

function clientError(error: Error & { code?: string }, socket: Socket) {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : error.code === 'HPE_URI_TOO_LONG' ? 414 : 400;
  const code = FRAMEWORK_ERROR_CODES[status] ?? 'bad_request';
  const message = tooLarge ? 'The request headers are too large.' : 'The request could not be parsed.';
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

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
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
  });
  // Collected as routes are added, so tests (test/api/security.test.ts) can prove that every route
  // but the documented public ones refuses a request without credentials.
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
    // An API route that takes no query parameters still refuses unknown ones (a typo is never
    // silently ignored), like the routes whose schemas list theirs.
    if (route.url.startsWith('/v1/') && route.schema && !route.schema.querystring) {
      route.schema.querystring = z.object({}).strict();
    }
  });
  app.decorate('config', deps.config);
  app.decorate('keyring', deps.keyring);
  app.decorate('sync', deps.sync);
  app.decorate('providerCaCertPem', deps.caCertPem);
  registerJsonBodyParser(app);
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
      return reply
        .code(error.status)
        .headers(error.headers)
        .send(errorBody(error.code, error.message, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      return sendValidationError(error, reply);
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = FRAMEWORK_ERROR_CODES[status] ?? 'bad_request';
      return reply.code(ERROR_CODES[code]).send(errorBody(code, error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send(errorBody('internal_error', 'Something went wrong on our side; it was logged.'));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  // Every text input is checked for NUL and lone surrogates before any route's own validation.
  app.addHook('preValidation', refuseInvalidText);

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
    // The plugin's hook is bound to each route, so it runs after the /v1 scope's authentication:
    // authenticated calls count per API key (by id: the key itself is never held in the store), public
    // ones per client address. Failed authentications are limited per address by the Authenticator.
    keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.keyId}` : `ip:${request.ip}`),
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
          `One normalized REST API over employers' HR systems (${Object.values(PROVIDERS)
            .map((definition) => definition.displayName)
            .join(', ')}). ` +
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
        {
          name: 'Passthrough',
          description: "Raw requests to the linked account's provider API, for data the unified models lack.",
        },
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
