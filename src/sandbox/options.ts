import { z } from 'zod';
import { SIMULATOR_IDS, SIMULATOR_OPTIONS } from './simulators.js';

/**
 * Which simulators the sandbox starts: one provider id of the simulator registry
 * (src/sandbox/simulators.ts), or `all`. A simulator marked alwaysStarted runs whatever this says
 * (docs/sandbox.md).
 */
export const SANDBOX_PROVIDERS = [...SIMULATOR_IDS, 'all'] as const;
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
  /** Which simulators to start (see SANDBOX_PROVIDERS); the first registered by default. */
  provider: z.enum(SANDBOX_PROVIDERS).default(SIMULATOR_IDS[0]),
  /** Each simulator's own options (its definition's `options`), flat. */
  ...SIMULATOR_OPTIONS,
});

export type SandboxOptions = z.input<typeof sandboxOptionsSchema>;
export type ResolvedSandboxOptions = z.output<typeof sandboxOptionsSchema>;
