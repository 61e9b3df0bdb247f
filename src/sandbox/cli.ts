import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isEntryModule } from '../util/entry-module.js';
import { type Sandbox, startSandbox } from './index.js';
import { SANDBOX_PROVIDERS, type SandboxProvider } from './options.js';
import type { AnySimulatorDefinition } from './simulator.js';
import { SIMULATOR_LIST } from './simulators.js';

/** The simulators' own flags (their definitions' cliFlags), e.g. --tenant-shape. */
const SIMULATOR_FLAGS = SIMULATOR_LIST.flatMap((simulator) => simulator.cliFlags);

/**
 * `hris sandbox` / `npm run sandbox -- [options]` (SANDBOX_USAGE): starts the sandbox and prints
 * what the connect page needs. Also runnable directly: `tsx src/sandbox/cli.ts --workers 100`.
 */
export const SANDBOX_USAGE = `Usage: hris sandbox [--workers N] [--seed S] [--port P] [--host H] [--json]
                    [--cert PEM --key PEM] [--data-dir DIR] [--provider ${SANDBOX_PROVIDERS.join('|')}]
                    ${SIMULATOR_FLAGS.map((flag) => `[${flag.usage}]`).join(' ')}

Starts the sandbox (N generated people, default 1000, seed S) on port P (default 8443) and prints what
the connect page needs for each simulator --provider picks (--json: one line). Ctrl+C stops it.
`;

const cliSchema = z.object({
  workers: z.coerce.number().int().min(1).max(200_000).default(1000),
  seed: z.coerce.number().int().default(42),
  port: z.coerce.number().int().min(0).max(65_535).default(8443),
  host: z.string().default('127.0.0.1'),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
  cert: z.string().optional(),
  key: z.string().optional(),
  'data-dir': z.string().default('.data/sandbox'),
  provider: z.enum(SANDBOX_PROVIDERS).default(SANDBOX_PROVIDERS[0]),
});

/**
 * The simulators whose facts are printed: the one --provider names, or with `all` every started
 * one (the first registered is the default).
 */
function printedSimulators(provider: SandboxProvider): AnySimulatorDefinition[] {
  return SIMULATOR_LIST.filter((simulator) => provider === 'all' || simulator.id === provider);
}

/**
 * --json: the printed simulator's facts as one object; with `all`, the first one's at the top and
 * every other's under its provider id.
 */
export function factsJson(sandbox: Sandbox, provider: SandboxProvider): Record<string, unknown> {
  const [first, ...others] = printedSimulators(provider).flatMap((simulator) => {
    const facts = simulator.facts(sandbox, sandbox) as Record<string, unknown> | undefined;
    return facts ? [{ id: simulator.id, facts }] : [];
  });
  return {
    ...first?.facts,
    ...Object.fromEntries(others.map(({ id, facts }) => [id, facts])),
  };
}

export function factsText(sandbox: Sandbox, provider: SandboxProvider): string {
  const sections = printedSimulators(provider).flatMap((simulator) => {
    const facts = simulator.facts(sandbox, sandbox);
    return facts === undefined ? [] : [simulator.formatFacts(facts)];
  });
  return `${sections.join('\n\n')}\n\nPress Ctrl+C to stop.`;
}

export async function runSandboxCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string' },
      seed: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'data-dir': { type: 'string' },
      provider: { type: 'string' },
      ...Object.fromEntries(SIMULATOR_FLAGS.map((flag) => [flag.flag, { type: 'string' as const }])),
    },
    strict: true,
  });
  const options = cliSchema.parse(values);
  if (options.help) {
    process.stdout.write(SANDBOX_USAGE);
    return;
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new Error('--cert and --key go together');
  }
  const simulatorOptions: Record<string, unknown> = {};
  for (const flag of SIMULATOR_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.flag];
    if (typeof value === 'string') simulatorOptions[flag.option] = flag.parse(value);
  }
  const sandbox = await startSandbox({
    ...simulatorOptions,
    workers: options.workers,
    seed: options.seed,
    port: options.port,
    host: options.host,
    dataDir: options['data-dir'],
    certPath: options.cert,
    keyPath: options.key,
    provider: options.provider,
  });
  process.stdout.write(
    options.json
      ? `${JSON.stringify(factsJson(sandbox, options.provider))}\n`
      : `${factsText(sandbox, options.provider)}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sandbox.close();
}

if (isEntryModule(import.meta.url)) {
  runSandboxCommand(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
