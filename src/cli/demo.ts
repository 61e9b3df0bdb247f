import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createAccountWithCredentials } from '../accounts/linked-accounts.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createApiKey, createPlatform } from '../platforms/platform-service.js';
import { PROVIDER_IDS, type ProviderId, providerDefinition } from '../providers/registry.js';
import { startSandbox } from '../sandbox/index.js';
import { SIMULATOR_LIST, SIMULATORS } from '../sandbox/simulators.js';
import { createServices } from '../services.js';
import type { SyncProgress } from '../sync/engine.js';

/**
 * `hris demo` / `npm run demo`: the whole product in one process. The sandbox's simulator of one
 * provider (--provider, an id of the registries), the gateway, a platform with an API key, and a
 * linked account connected to the simulator through the connect flow's code path (the provider's
 * credentialsSchema, createAccountWithCredentials and a first full sync); then it keeps running,
 * syncing what changes in the sandbox on the usual schedule, until Ctrl-C.
 */
export interface DemoIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<unknown>;
  /** Whether stderr is a terminal (progress bars redraw in place). */
  interactive?: boolean;
}

/** The simulators' own flags (e.g. --tenant-shape), as `npm run sandbox` takes them. */
const SIMULATOR_FLAGS = SIMULATOR_LIST.flatMap((simulator) => simulator.cliFlags);

export const DEMO_USAGE = `Usage: hris demo [--workers N] [--port P] [--sandbox-port P] [--seed S] [--json]
                 [--provider ${PROVIDER_IDS.join('|')}] ${SIMULATOR_FLAGS.map((flag) => `[${flag.usage}]`).join(' ')}

Starts the sandbox's simulator of a provider (default ${PROVIDER_IDS[0]}; N generated people, default
1000), the gateway (port P, default PORT or 3000), a platform with an API key and a linked account
connected to the simulator; runs the first sync, prints how to call the API and register a webhook
endpoint (--json: one line with base_url, api_key, account_token, linked_account_id, sandbox_url) and
keeps syncing changes made in the sandbox, and delivering their webhooks, until stopped. The
simulators' own flags are those of \`hris sandbox\` (docs/sandbox.md).
`;

function bar(progress: SyncProgress, width = 24): string {
  const filled = progress.done ? width : Math.min(width - 1, progress.pages % width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export async function runDemo(argv: string[], io: DemoIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      workers: { type: 'string', default: '1000' },
      port: { type: 'string' },
      'sandbox-port': { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      json: { type: 'boolean', default: false },
      provider: { type: 'string', default: PROVIDER_IDS[0] },
      ...Object.fromEntries(SIMULATOR_FLAGS.map((flag) => [flag.flag, { type: 'string' as const }])),
    },
    strict: true,
  });
  const workers = Number(values.workers);
  const definition = providerDefinition(values.provider);
  if (!definition) throw new Error(`--provider must be one of ${PROVIDER_IDS.join(', ')}`);
  const provider = definition.id as ProviderId;
  const simulator = SIMULATORS[provider];
  const simulatorOptions: Record<string, unknown> = {};
  for (const flag of SIMULATOR_FLAGS) {
    const value = (values as Record<string, unknown>)[flag.flag];
    if (typeof value === 'string') simulatorOptions[flag.option] = flag.parse(value);
  }
  if (!Number.isInteger(workers) || workers < 10 || workers > 200_000) {
    throw new Error('--workers must be an integer from 10 to 200000');
  }
  const env = io.env ?? process.env;
  // Webhook receivers in a demo run on this machine: private URLs are allowed unless said otherwise.
  const config = loadConfig({
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    ...env,
    ...(values.port !== undefined ? { PORT: values.port } : {}),
  });
  const say = (text: string) => io.stderr(`${text}\n`);

  say(`Starting the ${definition.displayName} sandbox with ${workers} people…`);
  const sandboxDir = join(config.DATA_DIR, 'sandbox');
  mkdirSync(sandboxDir, { recursive: true });
  const sandbox = await startSandbox({
    ...simulatorOptions,
    workers,
    seed: Number(values.seed),
    port: Number(values['sandbox-port']),
    dataDir: sandboxDir,
    provider,
  });
  const db = await openDatabase(config, (message) => say(`[database] ${message}`));
  const quiet = {
    info() {},
    warn() {},
    error: (object: object, message: string) => say(`${message} ${JSON.stringify(object)}`),
  };
  const services = await createServices(config, db, quiet, { caCertPem: sandbox.caCertPem });
  const app = await buildApp({
    config,
    db,
    keyring: services.keyring,
    sync: services.sync,
    caCertPem: sandbox.caCertPem,
    logger: false,
  });
  try {
    await app.listen({ host: config.HOST, port: config.PORT });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    const baseUrl = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;

    const { platform } = await createPlatform(db.prisma, 'Demo benefits platform');
    const { apiKey } = await createApiKey(db.prisma, platform.id, { name: 'demo', sensitive: true });
    const demo = simulator.demo(sandbox, sandbox);
    if (!demo) throw new Error(`the sandbox did not start the ${provider} simulator`);
    const { account, accountToken } = await createAccountWithCredentials(db, services.keyring, {
      provider,
      platformId: platform.id,
      endUserOriginId: 'demo-employer',
      organizationName: demo.organizationName,
      // The connect page's own check: the simulator's account must be valid credentials of the provider.
      credentials: definition.credentialsSchema.parse(demo.credentials),
    });

    say('First sync:');
    const bars = new Map<string, SyncProgress>();
    const render = (progress: SyncProgress) => {
      bars.set(progress.sourceTable, progress);
      const line = `  ${bar(progress)} ${progress.sourceTable.padEnd(44)} ${String(progress.records).padStart(7)} records`;
      if (io.interactive) io.stderr(`\r${line}${progress.done ? '\n' : ''}`);
      else if (progress.done) say(line);
    };
    const started = performance.now();
    const result = await services.sync.runNow(account.id, {
      kind: 'full',
      trigger: 'demo',
      onProgress: render,
    });
    if (result?.status !== 'succeeded') {
      say(
        `The first sync failed: ${result?.errors.map((error) => String(error.error)).join('; ') ?? 'joined another'}`,
      );
      return 1;
    }
    say(`Synced in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
    await services.sync.startWorker();
    await services.webhooks.startWorker();

    if (values.json) {
      io.stdout(
        `${JSON.stringify({
          base_url: baseUrl,
          api_key: apiKey,
          account_token: accountToken,
          linked_account_id: account.id,
          sandbox_url: sandbox.baseUrl,
        })}\n`,
      );
    } else {
      io.stdout(
        [
          '',
          `Gateway:  ${baseUrl}  (API docs: ${baseUrl}/docs)`,
          `Sandbox:  ${sandbox.baseUrl}  (controls: docs/sandbox.md)`,
          '',
          'List employees:',
          `  curl -s '${baseUrl}/v1/employees?page_size=5' -H 'Authorization: Bearer ${apiKey}' -H 'X-Account-Token: ${accountToken}'`,
          '',
          'Change 5 workers in the sandbox, then watch them arrive (every SYNC_INTERVAL_MINUTES, or now with POST /v1/sync):',
          demo.changeSomePeople,
          '',
          'Get those changes pushed to you instead: register a webhook endpoint (the response has its signing secret;',
          'a receiver that verifies signatures is in docs/webhooks.md), then send it a test event:',
          `  curl -s -X POST ${baseUrl}/v1/webhook-endpoints -H 'Authorization: Bearer ${apiKey}' -H 'content-type: application/json' -d '{"url":"http://127.0.0.1:4000/webhooks"}'`,
          `  curl -s -X POST ${baseUrl}/v1/webhook-endpoints/<id>/test -H 'Authorization: Bearer ${apiKey}'`,
          '',
          'Ctrl-C stops the demo.',
          '',
        ].join('\n'),
      );
    }
    await (io.stopSignal ??
      new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      }));
    say('Stopping…');
    return 0;
  } finally {
    await app.close();
    await services.close();
    await db.close();
    await sandbox.close();
  }
}
