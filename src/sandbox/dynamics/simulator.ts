import { loadOrCreateTokenSigningMaterial } from '../certs.js';
import { createTenantControls, type TenantControls } from '../controls.js';
import { handleControlRequest } from '../controls-http.js';
import { generateOrganisation } from '../data/generator.js';
import { createDataverseEnvironment, type DataverseEnvironment } from '../dataverse/environment.js';
import { handleDataverseRequest } from '../dataverse/routes.js';
import { createTokenSigningKey, type DirectoryTenant } from '../entra/directory.js';
import { handleEntraRequest, isEntraPath } from '../entra/routes.js';
import { createFnoEnvironment, type FnoEnvironment } from '../fno/environment.js';
import { handleFnoRequest, handlePackageDownload } from '../fno/routes.js';
import type { SandboxServer } from '../http/server.js';
import { jsonResponse, type RouteFamily, type SandboxResponse } from '../http/types.js';
import { seedFromText } from '../random.js';
import type { FaultShape, RoutedResponse, SimulatorDefinition } from '../simulator.js';
import { createTenantIdentity, type TenantCredentials } from '../tenant.js';
import { createTruth, type SandboxTruth } from '../truth.js';
import {
  dynamicsSimulatorOptions,
  TENANT_SHAPES,
  type TenantOptions,
  tenantOptionsSchema,
} from './options.js';

export type { TenantControls } from '../controls.js';
export type { TenantCredentials } from '../tenant.js';
export type { SandboxTruth } from '../truth.js';
export type { TenantOptions } from './options.js';

/** A tenant as tests and the CLI see it: credentials and URLs, its data, and its controls. */
export interface SandboxTenant extends TenantCredentials {
  truth: SandboxTruth;
  controls: TenantControls;
}

/** What the Dynamics simulator adds to the Sandbox: its tenants (always started). */
export interface DynamicsSurface {
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
}

/** What to paste into the connect page for the default tenant (`npm run sandbox -- --json`). */
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

interface TenantRuntime {
  public: SandboxTenant;
  directory: DirectoryTenant;
  dataverse: DataverseEnvironment;
  fno: FnoEnvironment;
}

/**
 * Dataverse's and Entra's wire shapes of an injected fault: Dataverse's service-protection body
 * (docs/microsoft-wire.md, "Service protection limits") and its error envelope; Entra's OAuth error.
 */
const microsoftFaultShape: FaultShape = {
  throttle: (retryAfter) =>
    jsonResponse(
      429,
      {
        error: {
          code: '0x80072322',
          message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
        },
      },
      { 'retry-after': retryAfter },
    ),
  serverError: (status, message, family) =>
    jsonResponse(
      status,
      family === 'entra'
        ? { error: 'temporarily_unavailable', error_description: message }
        : { error: { code: '0x80040216', message } },
    ),
};

/**
 * Dynamics 365: Entra ID (tokens), and per tenant a Dataverse org and an F&O environment, each on
 * its own port as real environments have their own host (docs/sandbox.md). Always started: its
 * default tenant is what every existing caller of startSandbox knows.
 */
export const dynamicsSimulator: SimulatorDefinition<
  typeof dynamicsSimulatorOptions,
  DynamicsSurface,
  SandboxFacts
> = {
  id: 'dynamics365',
  alwaysStarted: true,
  options: dynamicsSimulatorOptions,
  cliFlags: [
    {
      flag: 'tenant-shape',
      option: 'tenantShape',
      usage: `--tenant-shape ${TENANT_SHAPES.join('|')}`,
      parse(value) {
        const shape = TENANT_SHAPES.find((candidate) => candidate === value);
        if (!shape) throw new Error(`--tenant-shape must be one of ${TENANT_SHAPES.join(', ')}`);
        return shape;
      },
    },
  ],
  routeFamilies: ['entra', 'dataverse', 'fno', 'dmf', 'package'],
  faultShape: microsoftFaultShape,

  async start(context) {
    const { options, baseUrl, now } = context;
    const signingKey = createTokenSigningKey(await loadOrCreateTokenSigningMaterial(context.dataDir));
    const runtimes = new Map<string, TenantRuntime>();
    const tenants = new Map<string, SandboxTenant>();
    /** Each environment has its own origin (port), as real ones have their own host. */
    const environmentServers: SandboxServer[] = [];
    /** Each tenant's two environment servers, so removeTenant can close them. */
    const tenantServers = new Map<string, { dataverse: SandboxServer; fno: SandboxServer }>();

    const findTenant = (idOrDomain: string): DirectoryTenant | undefined => {
      const wanted = idOrDomain.toLowerCase();
      for (const runtime of runtimes.values()) {
        if (runtime.directory.tenantId === wanted || runtime.directory.domain === wanted)
          return runtime.directory;
      }
      return undefined;
    };

    /**
     * A real environment URL is an origin without a path (https://org.crm.dynamics.com), and clients
     * resolve relative URLs against it. So each environment listens on its own port: with a fixed
     * `--port P`, the n-th tenant's Dataverse is on P+1+2n and its F&O on P+2+2n (stable across
     * restarts); with port 0, any.
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
      const dataverse = await context.listen(fixed ?? 0, async (request) => {
        const runtime = holder.runtime;
        if (!runtime) return unavailable();
        return {
          family: 'dataverse',
          response: await handleDataverseRequest(request, runtime.dataverse, { baseUrl, signingKey, now }),
        };
      });
      environmentServers.push(dataverse);
      const fno = await context.listen(fixed === undefined ? 0 : fixed + 1, async (request) => {
        const runtime = holder.runtime;
        if (!runtime) return unavailable();
        const family: RouteFamily = request.segments[1] === 'DataManagementDefinitionGroups' ? 'dmf' : 'fno';
        return { family, response: handleFnoRequest(request, runtime.fno, { baseUrl, signingKey, now }) };
      });
      environmentServers.push(fno);
      return { dataverse, fno };
    }

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
        dataverseUrl: context.origin(servers.dataverse.port),
        fnoUrl: context.origin(servers.fno.port),
        dataDir: context.dataDir,
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
      const directory: DirectoryTenant = { ...identity.directory, resources: () => [dataverse.url, fno.url] };
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

    const close = async (): Promise<void> => {
      await Promise.all(environmentServers.map((each) => each.close()));
    };
    let defaultTenant: SandboxTenant;
    try {
      defaultTenant = await createTenant({
        name: options.tenantName,
        workers: options.workers,
        seed: options.seed,
        tenantShape: options.tenantShape,
      });
    } catch (error) {
      await close();
      throw error;
    }

    const controlTarget = { tenants, createTenant };
    async function route(
      request: Parameters<typeof handleEntraRequest>[0],
    ): Promise<RoutedResponse | undefined> {
      const [first = '', second] = request.segments;
      if (first === '_sandbox' && second === 'tenants') {
        return { family: 'controls', response: await handleControlRequest(request, controlTarget) };
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
      return undefined;
    }

    return {
      surface: {
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
      },
      route,
      close,
    };
  },

  facts(surface, sandbox) {
    const tenant = surface.defaultTenant;
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
  },

  formatFacts(facts) {
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
    ].join('\n');
  },

  demo(surface, sandbox) {
    const tenant = surface.defaultTenant;
    return {
      organizationName: 'Contoso (sandbox)',
      credentials: {
        tenantId: tenant.tenantId,
        clientId: tenant.clientId,
        authorityHost: tenant.authorityHost,
        dataverseUrl: tenant.dataverseUrl,
        fnoUrl: tenant.fnoUrl,
        auth: {
          type: 'secret',
          clientSecret: tenant.clientSecret,
          expiresAt: tenant.clientSecretExpiresAt.toISOString(),
        },
      },
      changeSomePeople: `  curl -sk -X POST ${sandbox.baseUrl}/_sandbox/tenants/${tenant.name}/records/update -H 'content-type: application/json' -d '{"table":"cdm_workers","count":5}'`,
    };
  },
};
