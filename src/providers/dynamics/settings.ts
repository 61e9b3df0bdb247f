import { z } from 'zod';

/**
 * The Dynamics provider's own environment variables (docs/configuration.md). loadConfig validates
 * them at start-up with the gateway's, through the provider definition's settingsSchema.
 */
export const dynamicsSettingsSchema = z.object({
  /** Concurrent requests per Dynamics environment (Dataverse allows 52 per user). */
  DATAVERSE_CONCURRENCY: z.coerce.number().int().min(1).max(52).default(4),
  /** Rows per Dataverse page (odata.maxpagesize; 5000 is Dataverse's maximum). */
  DATAVERSE_PAGE_SIZE: z.coerce.number().int().min(1).max(5000).default(2000),
  /** Extra PEM CA certificate(s) to trust for Dynamics endpoints (e.g. the sandbox's). */
  DYNAMICS_CA_FILE: z.string().min(1).optional(),
});
export type DynamicsSettings = z.infer<typeof dynamicsSettingsSchema>;
