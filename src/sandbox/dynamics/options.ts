import { z } from 'zod';

/**
 * What a tenant's Dataverse serves (docs/microsoft-wire.md, "Virtual tables"): `hr-dataverse` the
 * native cdm_ tables of the Human Resources app; `virtual-tables` those plus the payroll API's virtual
 * table of worker benefit plans (mshr_, change tracking off, as virtual tables have it by default);
 * `fno-only` no HR table at all, everything from Finance & Operations.
 */
export const TENANT_SHAPES = ['hr-dataverse', 'virtual-tables', 'fno-only'] as const;
export type TenantShape = (typeof TENANT_SHAPES)[number];

/** The Dynamics simulator's own startSandbox options (flat, beside the sandbox's; options.ts). */
export const dynamicsSimulatorOptions = {
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
};

export const tenantOptionsSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9]{1,30}$/),
  workers: z.number().int().min(1).max(200_000).optional(),
  seed: z.number().int().optional(),
  tenantShape: z.enum(TENANT_SHAPES).optional(),
});
export type TenantOptions = z.input<typeof tenantOptionsSchema>;
