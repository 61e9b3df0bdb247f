import { resolve } from 'node:path';
import { type BambooCompany, createBambooCompany } from './bamboohr/company.js';
import { type BambooControls, createBambooControls } from './bamboohr/controls.js';
import { handleBambooControl } from './bamboohr/controls-http.js';
import { type BambooRuntime, handleBambooRequest, isBambooPath } from './bamboohr/routes.js';
import { loadOrCreateTlsMaterial, loadOrCreateTokenSigningMaterial } from './certs.js';
import { createTenantControls, type TenantControls } from './controls.js';
import { handleControlRequest } from './controls-http.js';
import { generateOrganisation } from './data/generator.js';
import { createDataverseEnvironment, type DataverseEnvironment } from './dataverse/environment.js';
import { handleDataverseRequest } from './dataverse/routes.js';
import { createTokenSigningKey, type DirectoryTenant } from './entra/directory.js';
import { handleEntraRequest, isEntraPath } from './entra/routes.js';
import { createFaultInjector, type FaultInjector } from './faults.js';
import { createFnoEnvironment, type FnoEnvironment } from './fno/environment.js';
import { handleFnoRequest, handlePackageDownload } from './fno/routes.js';
import { type Router, type SandboxServer, startHttpsServer } from './http/server.js';
import { jsonResponse, type RouteFamily, type SandboxRequest, type SandboxResponse } from './http/types.js';
import {
  type ResolvedSandboxOptions,
  type SandboxOptions,
  sandboxOptionsSchema,
  type TenantOptions,
  tenantOptionsSchema,
} from './options.js';
import { createRandom, seedFromText } from './random.js';
import { createTenantIdentity, type TenantCredentials } from './tenant.js';
import { createTruth, type SandboxTruth } from './truth.js';

export type { BambooCompany } from './bamboohr/company.js';
export type { BambooControls } from './bamboohr/controls.js';
export type { TenantControls } from './controls.js';
export type * from './data/types.js';
export type { FaultRuleInput } from './faults.js';
export type { SandboxOptions, TenantOptions } from './options.js';
export type { TenantCredentials } from './tenant.js';
export type { SandboxTruth } from './truth.js';

/** A tenant as tests and the CLI see it: credentials and URLs, its data, and its controls. */
export interface SandboxTenant extends TenantCredentials {
  truth: SandboxTruth;
  controls: TenantControls;
}

/** The simulated BambooHR company: what the connect page needs, its data and its controls. */
export interface SandboxBambooHR {
  companyDomain: string;
  /** HTTP Basic user name of every request (any password). */
  apiKey: string;
  /** Replaces `https://api.bamboohr.com/api/gateway.php`: `{apiBaseUrl}/{companyDomain}/v1/...`. */
  apiBaseUrl: string;
  /** The company's data in wire shape, live (after controls). */
  truth: BambooCompany;
  controls: BambooControls;
}

export interface Sandbox {
  /** `https://127.0.0.1:PORT` */
  baseUrl: string;
  port: number;
  caCertPem: string;
  /** Give this path to NODE_EXTRA_CA_CERTS (or pass caCertPem to createHttpPool). */
  caCertPath: string;
  tenants: Map<string, SandboxTenant>;
  defaultTenant: SandboxTenant;
  /** Adds a tenant with its own directory, Dataverse org and F&O environment, isolated from the others. */
  createTenant(options: TenantOptions): Promise<SandboxTenant>;
  /**
   * Drops a tenant created with createTenant and closes its environments' ports (its data leaves
   * memory; long soaks create hundreds). False for the default tenant or an unknown name.
   */
  removeTenant(name: string): Promise<boolean>;
  /** The default tenant's truth and controls. */
  truth: SandboxTruth;
  controls: TenantControls;
  /** Fault injection for every route of the sandbox. */
  faults: FaultInjector;
  /** The BambooHR company, when started with provider `bamboohr` or `all`. */
  bamboohr?: SandboxBambooHR;
  /**
   * Moves the sandbox's clock forward (tokens it issued expire, modifiedon stamps move): for tests
   * of token expiry in the middle of a sync. Reversible with resetClock().
   */
  advanceClock(seconds: number): void;
  resetClock(): void;
  close(): Promise<void>;
}

interface TenantRuntime {
  public: SandboxTenant;
  directory: DirectoryTenant;
  dataverse: DataverseEnvironment;
  fno: FnoEnvironment;
}

export async function startSandbox(input: SandboxOptions = {}): Promise<Sandbox> {
  const options: ResolvedSandboxOptions = sandboxOptionsSchema.parse(input);
  const dataDir = resolve(options.dataDir);
  const tls = await loadOrCreateTlsMaterial(
    dataDir,
    options.certPath && options.keyPath
      ? { certPath: options.certPath, keyPath: options.keyPath }
      : undefined,
  );
  const signingKey = createTokenSigningKey(await loadOrCreateTokenSigningMaterial(dataDir));
  const faults = createFaultInjector(options.seed);
  let clockOffsetMs = 0;
  const now = (): Date => new Date(Date.now() + clockOffsetMs);
  const runtimes = new Map<string, TenantRuntime>();
  /** Each environment has its own origin (port), as real ones have their own host: closed with the sandbox. */
  const environmentServers: SandboxServer[] = [];
  let baseUrl = '';

  const findTenant = (idOrDomain: string): DirectoryTenant | undefined => {
    const wanted = idOrDomain.toLowerCase();
    for (const runtime of runtimes.values()) {
      if (runtime.directory.tenantId === wanted || runtime.directory.domain === wanted)
        return runtime.directory;
    }
    return undefined;
  };

  let bamboo: BambooRuntime | undefined;
  let bamboohr: SandboxBambooHR | undefined;
  async function route(request: SandboxRequest): Promise<{ family: RouteFamily; response: SandboxResponse }> {
    const [first = ''] = request.segments;
    if (isBambooPath(request.segments)) {
      const findCompany = (domain: string) => (bamboo?.company.companyDomain === domain ? bamboo : undefined);
      return { family: 'bamboohr', response: handleBambooRequest(request, findCompany, now) };
    }
    if (first === '_sandbox' && request.segments[1] === 'bamboohr') {
      return { family: 'controls', response: handleBambooControl(request, bamboohr?.controls) };
    }
    if (first === '_sandbox') {
      return { family: 'controls', response: await handleControlRequest(request, sandboxForControls) };
    }
    if (first === '_blob') {
      const runtime = runtimes.get(request.segments[2] ?? '');
      return { family: 'package', response: handlePackageDownload(request, runtime?.fno, now()) };
    }
    if (isEntraPath(request.segments)) {
      return {
        family: 'entra',
        response: await handleEntraRequest(request, {
          baseUrl,
          signingKey,
          tokenLifetimeSeconds: options.tokenLifetimeSeconds,
          findTenant,
          now,
        }),
      };
    }
    if (first === 'error') {
      return { family: 'other', response: jsonResponse(200, { code: request.url.searchParams.get('code') }) };
    }
    return {
      family: 'other',
      response: jsonResponse(404, { error: 'not_found', path: request.url.pathname }),
    };
  }

  const listen = (port: number, router: Router): Promise<SandboxServer> =>
    startHttpsServer({
      host: options.host,
      port,
      key: tls.serverKeyPem,
      cert: tls.serverCertPem,
      router,
      faults,
    });
  const server = await listen(options.port, route);
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = (port: number): string => `https://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${port}`;
  baseUrl = origin(server.port);

  /**
   * A real environment URL is an origin without a path (https://org.crm.dynamics.com), and clients resolve
   * relative URLs against it. So each environment listens on its own port: with a fixed `--port P`, the
   * n-th tenant's Dataverse is on P+1+2n and its F&O on P+2+2n (stable across restarts); with port 0, any.
   */
  async function listenEnvironments(
    holder: { runtime?: TenantRuntime },
    tenantIndex: number,
  ): Promise<{ dataverse: SandboxServer; fno: SandboxServer }> {
    const fixed = options.port === 0 ? undefined : options.port + 1 + 2 * tenantIndex;
    const unavailable = (): { family: RouteFamily; response: SandboxResponse } => ({
      family: 'other',
      response: jsonResponse(503, { error: 'environment_starting' }),
    });
    const dataverse = await listen(fixed ?? 0, async (request) => {
      const runtime = holder.runtime;
      if (!runtime) return unavailable();
      return {
        family: 'dataverse',
        response: await handleDataverseRequest(request, runtime.dataverse, { baseUrl, signingKey, now }),
      };
    });
    environmentServers.push(dataverse);
    const fno = await listen(fixed === undefined ? 0 : fixed + 1, async (request) => {
      const runtime = holder.runtime;
      if (!runtime) return unavailable();
      const family: RouteFamily = request.segments[1] === 'DataManagementDefinitionGroups' ? 'dmf' : 'fno';
      return {
        family,
        response: handleFnoRequest(request, runtime.fno, { baseUrl, signingKey, now }),
      };
    });
    environmentServers.push(fno);
    return { dataverse, fno };
  }

  /** Each tenant's two environment servers, so removeTenant can close them. */
  const tenantServers = new Map<string, { dataverse: SandboxServer; fno: SandboxServer }>();

  async function createTenant(tenantInput: TenantOptions): Promise<SandboxTenant> {
    const tenantOptions = tenantOptionsSchema.parse(tenantInput);
    const name = tenantOptions.name;
    if (runtimes.has(name)) throw new Error(`A sandbox tenant named '${name}' already exists`);
    const holder: { runtime?: TenantRuntime } = {};
    const servers = await listenEnvironments(holder, runtimes.size);
    tenantServers.set(name, servers);
    const seed =
      tenantOptions.seed ??
      (name === options.tenantName ? options.seed : seedFromText(`${options.seed}:${name}`));
    const identity = await createTenantIdentity({
      name,
      seed,
      authorityHost: baseUrl,
      dataverseUrl: origin(servers.dataverse.port),
      fnoUrl: origin(servers.fno.port),
      dataDir,
      clientSecretLifetimeDays: options.clientSecretLifetimeDays,
      now: now(),
    });
    const organisation = generateOrganisation({ workers: tenantOptions.workers ?? options.workers, seed });
    const dataverse = createDataverseEnvironment({
      orgName: name,
      url: identity.credentials.dataverseUrl,
      tenantId: identity.credentials.tenantId,
      applicationId: identity.credentials.clientId,
      organisation,
      shape: tenantOptions.tenantShape ?? options.tenantShape,
      changeTrackingRetentionDays: options.changeTrackingRetentionDays,
      limits: {
        requestLimit: options.requestLimit,
        windowSeconds: options.requestWindowSeconds,
        concurrencyLimit: options.concurrencyLimit,
        executionTimeLimitMs: options.executionTimeLimitMs,
      },
      seed,
    });
    const fno = createFnoEnvironment({
      envName: `${name}-fno`,
      url: identity.credentials.fnoUrl,
      tenantId: identity.credentials.tenantId,
      organisation,
      exportDurationMs: options.dmfExportDurationMs,
      packageUrlLifetimeSeconds: options.packageUrlLifetimeSeconds,
    });
    const directory: DirectoryTenant = {
      ...identity.directory,
      resources: () => [dataverse.url, fno.url],
    };
    const tenant: SandboxTenant = {
      ...identity.credentials,
      truth: createTruth(organisation, dataverse),
      controls: createTenantControls({
        app: identity.app,
        dataverse,
        fno,
        seed,
        clientSecretLifetimeDays: options.clientSecretLifetimeDays,
        now,
      }),
    };
    const runtime: TenantRuntime = { public: tenant, directory, dataverse, fno };
    runtimes.set(name, runtime);
    holder.runtime = runtime;
    tenants.set(name, tenant);
    return tenant;
  }

  const closeAll = async (): Promise<void> => {
    await Promise.all([server, ...environmentServers].map((each) => each.close()));
  };
  const tenants = new Map<string, SandboxTenant>();
  const sandboxForControls = { tenants, faults, createTenant };
  let defaultTenant: SandboxTenant;
  try {
    defaultTenant = await createTenant({
      name: options.tenantName,
      workers: options.workers,
      seed: options.seed,
      tenantShape: options.tenantShape,
    });
  } catch (error) {
    await closeAll();
    throw error;
  }
  if (options.provider !== 'dynamics365') {
    // The same seeded organisation as the default tenant, in BambooHR's shape.
    const organisation = generateOrganisation({ workers: options.workers, seed: options.seed });
    const random = createRandom(seedFromText(`${options.seed}:bamboohr`));
    const company = createBambooCompany({
      organisation,
      companyDomain: options.bambooCompanyDomain,
      apiKey: `${random.guid()}${random.guid()}`.replaceAll('-', '').slice(0, 40),
    });
    const rateLimit = {
      requestLimit: options.bambooRequestLimit,
      windowSeconds: options.bambooWindowSeconds,
      status: options.bambooRateLimitStatus,
    };
    bamboo = { company, rateLimit, window: { startedAt: 0, count: 0 } };
    bamboohr = {
      companyDomain: company.companyDomain,
      get apiKey() {
        return company.apiKey;
      },
      apiBaseUrl: `${baseUrl}/api/gateway.php`,
      truth: company,
      controls: createBambooControls(company, rateLimit, now),
    };
  }
  return {
    ...(bamboohr ? { bamboohr } : {}),
    baseUrl,
    port: server.port,
    caCertPem: tls.caCertPem,
    caCertPath: tls.caCertPath,
    tenants,
    defaultTenant,
    createTenant,
    removeTenant: async (name) => {
      const servers = tenantServers.get(name);
      if (name === options.tenantName || !runtimes.has(name) || !servers) return false;
      runtimes.delete(name);
      tenantServers.delete(name);
      for (const each of [servers.dataverse, servers.fno]) {
        environmentServers.splice(environmentServers.indexOf(each), 1);
        await each.close();
      }
      return tenants.delete(name);
    },
    truth: defaultTenant.truth,
    controls: defaultTenant.controls,
    faults,
    advanceClock: (seconds) => {
      clockOffsetMs += seconds * 1000;
    },
    resetClock: () => {
      clockOffsetMs = 0;
    },
    close: closeAll,
  };
}
