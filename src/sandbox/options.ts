import { z } from 'zod';

/**
 * What a tenant's Dataverse serves (docs/microsoft-wire.md, "Virtual tables"): `hr-dataverse` the
 * native cdm_ tables of the Human Resources app; `virtual-tables` those plus the payroll API's virtual
 * table of worker benefit plans (mshr_, change tracking off, as virtual tables have it by default);
 * `fno-only` no HR table at all, everything from Finance & Operations.
 */
export const TENANT_SHAPES = ['hr-dataverse', 'virtual-tables', 'fno-only'] as const;
export type TenantShape = (typeof TENANT_SHAPES)[number];

/**
 * Which HR systems the sandbox simulates: the Dynamics 365 tenant is always there (it is the default
 * tenant every caller knows); `bamboohr` and `all` add a BambooHR company built from the same seeded
 * organisation (docs/sandbox.md, "BambooHR").
 */
export const SANDBOX_PROVIDERS = ['dynamics365', 'bamboohr', 'all'] as const;
export type SandboxProvider = (typeof SANDBOX_PROVIDERS)[number];

/** Options of startSandbox, validated once (they also come from the CLI). */
export const sandboxOptionsSchema = z.object({
  workers: z.number().int().min(1).max(200_000).default(1000),
  seed: z.number().int().default(42),
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().default('127.0.0.1'),
  dataDir: z.string().default('.data/sandbox'),
  /** PEM paths of a server certificate to use instead of the generated one. */
  certPath: z.string().optional(),
  keyPath: z.string().optional(),
  /** What the default tenant's Dataverse serves (see TENANT_SHAPES). */
  tenantShape: z.enum(TENANT_SHAPES).default('hr-dataverse'),
  /** Name of the default tenant (its domain is `{name}.onmicrosoft.com`). */
  tenantName: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,30}$/)
    .default('contoso'),
  tokenLifetimeSeconds: z.number().int().min(1).default(3599),
  clientSecretLifetimeDays: z.number().min(0).default(365),
  /** Change-tracking token retention (docs/microsoft-wire.md, "Change tracking", org setting ExpireChangeTrackingInDays). */
  changeTrackingRetentionDays: z.number().min(0).default(7),
  /** Service protection limits (docs/microsoft-wire.md, "Service protection limits"). */
  requestLimit: z.number().int().min(1).default(6000),
  requestWindowSeconds: z.number().int().min(1).default(300),
  concurrencyLimit: z.number().int().min(1).default(52),
  /** Combined execution time per user in the window (Dataverse's documented 1,200,000 ms). */
  executionTimeLimitMs: z.number().int().min(1).default(1_200_000),
  /** How long a DMF export stays Executing. */
  dmfExportDurationMs: z.number().int().min(0).default(2000),
  /** Lifetime of the signature on exported package URLs. */
  packageUrlLifetimeSeconds: z.number().int().min(1).default(3600),
  /** Which HR systems to simulate (see SANDBOX_PROVIDERS). */
  provider: z.enum(SANDBOX_PROVIDERS).default('dynamics365'),
  /** The BambooHR company's domain (the `{companyDomain}` of its API URLs). */
  bambooCompanyDomain: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,40}$/)
    .default('acme'),
  /**
   * BambooHR rate limiting per API key: requests per window, and the status of a refused request
   * (429 since BambooHR's change of 2026-09-16, 503 before; docs/bamboohr.md, "Rate limiting").
   */
  bambooRequestLimit: z.number().int().min(1).default(200),
  bambooWindowSeconds: z.number().int().min(1).default(10),
  bambooRateLimitStatus: z.union([z.literal(429), z.literal(503)]).default(429),
});

export type SandboxOptions = z.input<typeof sandboxOptionsSchema>;
export type ResolvedSandboxOptions = z.output<typeof sandboxOptionsSchema>;

export const tenantOptionsSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9]{1,30}$/),
  workers: z.number().int().min(1).max(200_000).optional(),
  seed: z.number().int().optional(),
  tenantShape: z.enum(TENANT_SHAPES).optional(),
});
export type TenantOptions = z.input<typeof tenantOptionsSchema>;
