import { z } from 'zod';

/** BambooHR's API root; `{root}/{companyDomain}/v1/` (docs/bamboohr.md, "Base URL"). */
export const BAMBOOHR_API_ROOT = 'https://api.bamboohr.com/api/gateway.php';

/**
 * What an admin gives to link a BambooHR account (docs/bamboohr.md, "Authentication"): the company's
 * subdomain and an API key of a BambooHR user. `apiRoot` replaces BambooHR's API root only to reach
 * the sandbox's simulator (or a test double of BambooHR); real accounts never set it.
 */
export const bambooCredentialsSchema = z.object({
  companyDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'the part before .bamboohr.com, letters, digits and dashes only'),
  apiKey: z
    .string()
    .trim()
    .min(16, 'a BambooHR API key is a long string of letters and digits')
    .max(200)
    .regex(/^[A-Za-z0-9]+$/, 'a BambooHR API key has only letters and digits'),
  apiRoot: z.string().url().optional(),
});
export type BambooCredentials = z.infer<typeof bambooCredentialsSchema>;

/** `https://api.bamboohr.com/api/gateway.php/{companyDomain}/v1/` for these credentials. */
export function bambooApiBase(credentials: BambooCredentials): string {
  const root = (credentials.apiRoot ?? BAMBOOHR_API_ROOT).replace(/\/+$/, '');
  return `${root}/${encodeURIComponent(credentials.companyDomain)}/v1/`;
}
