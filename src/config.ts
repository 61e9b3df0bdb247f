import { z } from 'zod';
import { PROVIDERS, type ProviderId } from './providers/registry.js';

/**
 * Every knob of the gateway, read once from the environment. Invalid values fail start-up with
 * every problem listed at once (not just the first), so an operator fixes them in one go.
 * docs/configuration.md documents each variable. A provider's own variables (e.g. Dynamics'
 * DATAVERSE_PAGE_SIZE) belong to its definition's settingsSchema and are validated here with the rest.
 */
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1');

const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The address users reach the gateway at; used in magic links. Defaults to http://HOST:PORT. */
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Any PostgreSQL 15+ server. Unset: an embedded PostgreSQL under DATA_DIR is started. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Port for the embedded PostgreSQL; 0 picks a free one at first start. */
  EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Requests per minute per API key before 429. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /** Requests per minute per client address that fail authentication before every request from it gets 429. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** Seconds an authenticated (API key, account token) pair is cached; revocation takes effect within it. */
  AUTH_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  /** Serve Swagger UI at /docs. */
  DOCS_ENABLED: booleanFromEnv.default(true),
  /** Base64 AES-256 key(s) for credentials at rest, comma-separated, newest first. Required in production. */
  ENCRYPTION_KEY: z.string().min(1).optional(),
  /** What this process does: serve the API, run syncs, or both. */
  ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  /** V8 heap limit (MB) a `worker` process sets itself when started without one; 0 leaves V8's default. */
  WORKER_HEAP_MB: z.coerce.number().int().min(0).max(65_536).default(160),
  /** Minutes between incremental syncs of each connected account. */
  SYNC_INTERVAL_MINUTES: z.coerce.number().min(0.25).max(1440).default(5),
  /** Hours between full (reconciling) syncs of each connected account. */
  FULL_SYNC_INTERVAL_HOURS: z.coerce
    .number()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** How long a sync keeps retrying throttling, 5xx and network errors before it fails. */
  SYNC_RETRY_BUDGET_SECONDS: z.coerce.number().min(1).max(3600).default(300),
  /** Seconds a running sync's lease lasts: a run not renewed for this long is failed and resumed. */
  SYNC_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(60),
  /** Seconds between renewals of a running sync's lease (less than SYNC_LEASE_SECONDS). */
  SYNC_LEASE_RENEW_SECONDS: z.coerce.number().min(0.2).max(1200).default(15),
  /** POST /v1/passthrough calls per minute per API key (its own limit, below RATE_LIMIT_PER_MINUTE). */
  PASSTHROUGH_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /** Time a passthrough call may take, token included, before it is answered 504 provider_timeout. */
  PASSTHROUGH_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(300).default(30),
  /** Largest passthrough request body (serialized JSON) sent to a provider; larger ones get 413. */
  PASSTHROUGH_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(16_777_216).default(262_144),
  /** Largest provider answer passthrough reads; larger ones get 502 provider_response_too_large. */
  PASSTHROUGH_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(104_857_600).default(5_242_880),
  /** Accept webhook URLs on private, loopback and link-local addresses, and plain http (development only). */
  WEBHOOK_ALLOW_PRIVATE_URLS: booleanFromEnv.default(false),
  /** Days delivered webhook events and their attempts are kept. */
  WEBHOOK_RETENTION_DAYS: z.coerce.number().min(1).max(3650).default(30),
  /** Timeout of one webhook delivery attempt. */
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(15),
  /** Waits before each retry of a failed delivery (comma-separated seconds; the default spans 27.6 hours). */
  WEBHOOK_RETRY_DELAYS_SECONDS: z
    .string()
    .regex(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, 'must be comma-separated numbers of seconds')
    .default('5,300,1800,7200,18000,36000,36000')
    .transform((value) => value.split(',').map((part) => Number(part.trim())))
    .refine((delays) => delays.length <= 50, 'at most 50 retries'),
});

export type Config = z.infer<typeof configSchema> & {
  /** Each registered provider's settings, parsed by its definition's settingsSchema. */
  providerSettings: Record<ProviderId, unknown>;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset": docker-compose and shells often export VAR= .
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = configSchema
    .superRefine((config, context) => {
      if (config.NODE_ENV === 'production' && !config.ENCRYPTION_KEY) {
        context.addIssue({
          code: 'custom',
          path: ['ENCRYPTION_KEY'],
          message: 'required when NODE_ENV=production (base64 of 32 random bytes: openssl rand -base64 32)',
        });
      }
      if (config.SYNC_LEASE_RENEW_SECONDS >= config.SYNC_LEASE_SECONDS) {
        context.addIssue({
          code: 'custom',
          path: ['SYNC_LEASE_RENEW_SECONDS'],
          message: `must be less than SYNC_LEASE_SECONDS (${config.SYNC_LEASE_SECONDS}), a third of it or less is advisable`,
        });
      }
    })
    .safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  const providerSettings: Partial<Record<ProviderId, unknown>> = {};
  for (const [id, definition] of Object.entries(PROVIDERS) as [
    ProviderId,
    (typeof PROVIDERS)[ProviderId],
  ][]) {
    const settings = definition.settingsSchema.safeParse(present);
    if (settings.success) providerSettings[id] = settings.data;
    else problems.push(...settings.error.issues.map(describeIssue));
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return { ...parsed.data, providerSettings: providerSettings as Record<ProviderId, unknown> };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return `${issue.path.join('.')}: ${issue.message}`;
}

export function publicUrl(config: Config): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/$/, '');
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  return `http://${host}:${config.PORT}`;
}
