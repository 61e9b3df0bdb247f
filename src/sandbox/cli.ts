import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isEntryModule } from '../util/entry-module.js';
import { type Sandbox, startSandbox } from './index.js';
import { SANDBOX_PROVIDERS, TENANT_SHAPES } from './options.js';

/**
 * `hris sandbox` / `npm run sandbox -- --workers 5000 --seed 42 [--tenant-shape hr-dataverse|virtual-tables|fno-only]
 * [--provider dynamics365|bamboohr|all]`: starts the sandbox and prints what the
 * connect page needs. Also runnable directly: `tsx src/sandbox/cli.ts --workers 100`.
 */
const cliSchema = z.object({
  workers: z.coerce.number().int().min(1).max(200_000).default(1000),
  seed: z.coerce.number().int().default(42),
  port: z.coerce.number().int().min(0).max(65_535).default(8443),
  host: z.string().default('127.0.0.1'),
  json: z.boolean().default(false),
  cert: z.string().optional(),
  key: z.string().optional(),
  'data-dir': z.string().default('.data/sandbox'),
  'tenant-shape': z.enum(TENANT_SHAPES).default('hr-dataverse'),
  provider: z.enum(SANDBOX_PROVIDERS).default('dynamics365'),
});

/** What to paste into the connect page for the BambooHR company. */
export interface BambooFacts {
  companyDomain: string;
  apiKey: string;
  apiBaseUrl: string;
  caCertPath: string;
  employees: number;
}

export function bambooFacts(sandbox: Sandbox): BambooFacts | undefined {
  const bamboo = sandbox.bamboohr;
  if (!bamboo) return undefined;
  return {
    companyDomain: bamboo.companyDomain,
    apiKey: bamboo.apiKey,
    apiBaseUrl: bamboo.apiBaseUrl,
    caCertPath: sandbox.caCertPath,
    employees: bamboo.truth.employees.size,
  };
}

export function formatBambooFacts(facts: BambooFacts): string {
  return [
    `BambooHR sandbox: ${facts.employees} employees`,
    `  Company domain  ${facts.companyDomain}`,
    `  API key         ${facts.apiKey}`,
    `  API base URL    ${facts.apiBaseUrl}  (instead of https://api.bamboohr.com/api/gateway.php)`,
    `  Trust this CA   NODE_EXTRA_CA_CERTS=${facts.caCertPath}`,
  ].join('\n');
}

export interface SandboxFacts {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  clientSecretExpiresAt: string;
  certificatePath: string;
  privateKeyPath: string;
  thumbprintSha256: string;
  dataverseUrl: string;
  fnoUrl: string;
  authorityHost: string;
  authority: string;
  caCertPath: string;
  controlsUrl: string;
  workers: number;
  seed: number;
}

export function sandboxFacts(sandbox: Sandbox): SandboxFacts {
  const tenant = sandbox.defaultTenant;
  return {
    tenantId: tenant.tenantId,
    clientId: tenant.clientId,
    clientSecret: tenant.clientSecret,
    clientSecretExpiresAt: tenant.clientSecretExpiresAt.toISOString(),
    certificatePath: tenant.certificatePath,
    privateKeyPath: tenant.privateKeyPath,
    thumbprintSha256: tenant.thumbprintSha256,
    dataverseUrl: tenant.dataverseUrl,
    fnoUrl: tenant.fnoUrl,
    authorityHost: tenant.authorityHost,
    authority: tenant.authority,
    caCertPath: sandbox.caCertPath,
    controlsUrl: `${sandbox.baseUrl}/_sandbox`,
    workers: tenant.truth.workerCount,
    seed: tenant.truth.seed,
  };
}

export function formatFacts(facts: SandboxFacts): string {
  const rows: Array<[string, string]> = [
    ['Tenant id', facts.tenantId],
    ['Client id', facts.clientId],
    ['Client secret', `${facts.clientSecret}  (expires ${facts.clientSecretExpiresAt})`],
    ['Certificate (PEM)', facts.certificatePath],
    ['Private key (PEM)', facts.privateKeyPath],
    ['Thumbprint SHA-256', facts.thumbprintSha256],
    ['Dataverse URL', facts.dataverseUrl],
    ['F&O URL', facts.fnoUrl],
    ['Authority host', facts.authorityHost],
    ['Authority', facts.authority],
    ['Trust this CA', `NODE_EXTRA_CA_CERTS=${facts.caCertPath}`],
    ['Controls', facts.controlsUrl],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `Dynamics 365 sandbox: ${facts.workers} workers, seed ${facts.seed}`,
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    'Press Ctrl+C to stop.',
  ].join('\n');
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
      cert: { type: 'string' },
      key: { type: 'string' },
      'data-dir': { type: 'string' },
      'tenant-shape': { type: 'string' },
      provider: { type: 'string' },
    },
    strict: true,
  });
  const options = cliSchema.parse(values);
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new Error('--cert and --key go together');
  }
  const sandbox = await startSandbox({
    workers: options.workers,
    seed: options.seed,
    port: options.port,
    host: options.host,
    dataDir: options['data-dir'],
    certPath: options.cert,
    keyPath: options.key,
    tenantShape: options['tenant-shape'],
    provider: options.provider,
  });
  const facts = sandboxFacts(sandbox);
  const bamboo = bambooFacts(sandbox);
  if (options.json) {
    const printed =
      options.provider === 'bamboohr' ? bamboo : { ...facts, ...(bamboo ? { bamboohr: bamboo } : {}) };
    process.stdout.write(`${JSON.stringify(printed)}\n`);
  } else {
    const sections = [
      ...(options.provider === 'bamboohr' ? [] : [formatFacts(facts)]),
      // formatFacts ends with the Ctrl+C hint; alone, the BambooHR facts need it too.
      ...(bamboo
        ? [
            formatBambooFacts(bamboo),
            ...(options.provider === 'bamboohr' ? ['', 'Press Ctrl+C to stop.'] : []),
          ]
        : []),
    ];
    process.stdout.write(`${sections.join('\n')}\n`);
  }
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
