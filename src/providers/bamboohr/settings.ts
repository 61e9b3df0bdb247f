import { z } from 'zod';

/** The BambooHR provider's environment variables (docs/configuration.md). */
export const bambooSettingsSchema = z.object({
  /** Requests in flight per BambooHR account: BambooHR throttles keys that ask too often. */
  BAMBOOHR_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** Extra PEM CA certificate(s) to trust for BambooHR (e.g. the sandbox's). */
  BAMBOOHR_CA_FILE: z.string().min(1).optional(),
});
export type BambooSettings = z.infer<typeof bambooSettingsSchema>;
