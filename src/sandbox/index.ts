import { resolve } from 'node:path';
import { loadOrCreateTlsMaterial } from './certs.js';
import { generateOrganisation } from './data/generator.js';
import { createFaultInjector, type FaultInjector, handleFaultControl } from './faults.js';
import { type Router, type SandboxServer, startHttpsServer } from './http/server.js';
import { jsonResponse, type RouteFamily, type SandboxRequest, type SandboxResponse } from './http/types.js';
import { type ResolvedSandboxOptions, type SandboxOptions, sandboxOptionsSchema } from './options.js';
import type { AnySimulatorDefinition, FaultShape, RunningSimulator } from './simulator.js';
import { SIMULATOR_LIST, type SimulatorSurfaces } from './simulators.js';

export type * from './data/types.js';
export type { FaultRuleInput } from './faults.js';
export type { SandboxOptions } from './options.js';
export type * from './simulators.js';

/** The sandbox itself, whichever simulators run in it. */
export interface SandboxCore {
  /** `https://127.0.0.1:PORT` */
  baseUrl: string;
  port: number;
  caCertPem: string;
  /** Give this path to NODE_EXTRA_CA_CERTS (or pass caCertPem to createHttpPool). */
  caCertPath: string;
  /** Fault injection for every route of the sandbox. */
  faults: FaultInjector;
  /**
   * Moves the sandbox's clock forward (tokens it issued expire, modified stamps move): for tests
   * of token expiry in the middle of a sync. Reversible with resetClock().
   */
  advanceClock(seconds: number): void;
  resetClock(): void;
  close(): Promise<void>;
}

/** The sandbox and what each started simulator adds to it (its definition's surface). */
export type Sandbox = SandboxCore & SimulatorSurfaces;

/** Whether `options.provider` starts this simulator. */
function selected(simulator: AnySimulatorDefinition, options: ResolvedSandboxOptions): boolean {
  return simulator.alwaysStarted || options.provider === 'all' || options.provider === simulator.id;
}

/**
 * Starts the sandbox: one HTTPS port (the faults' controls and whatever the simulators route on
 * it) and each selected simulator of the registry (src/sandbox/simulators.ts), in order.
 */
export async function startSandbox(input: SandboxOptions = {}): Promise<Sandbox> {
  const options: ResolvedSandboxOptions = sandboxOptionsSchema.parse(input);
  const dataDir = resolve(options.dataDir);
  const tls = await loadOrCreateTlsMaterial(
    dataDir,
    options.certPath && options.keyPath
      ? { certPath: options.certPath, keyPath: options.keyPath }
      : undefined,
  );
  const faultShapes = new Map<RouteFamily, FaultShape>();
  for (const simulator of SIMULATOR_LIST) {
    for (const family of simulator.routeFamilies) {
      if (simulator.faultShape) faultShapes.set(family, simulator.faultShape);
    }
  }
  const faults = createFaultInjector(options.seed, [
    ...SIMULATOR_LIST.flatMap((simulator) => simulator.routeFamilies),
    'other',
  ]);
  let clockOffsetMs = 0;
  const now = (): Date => new Date(Date.now() + clockOffsetMs);
  const running: RunningSimulator<object>[] = [];

  async function route(request: SandboxRequest): Promise<{ family: RouteFamily; response: SandboxResponse }> {
    const [first = '', second] = request.segments;
    if (first === '_sandbox' && second === 'faults') {
      return { family: 'controls', response: handleFaultControl(request, faults) };
    }
    for (const simulator of running) {
      const routed = await simulator.route(request);
      if (routed) return routed;
    }
    if (first === '_sandbox') {
      return { family: 'controls', response: jsonResponse(404, { error: 'unknown control route' }) };
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
      faultShapes,
    });
  const server = await listen(options.port, route);
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = (port: number): string => `https://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${port}`;
  const baseUrl = origin(server.port);

  const closeAll = async (): Promise<void> => {
    await Promise.all(running.map((simulator) => simulator.close()));
    await server.close();
  };
  const surfaces: object[] = [];
  try {
    for (const simulator of SIMULATOR_LIST) {
      if (!selected(simulator, options)) continue;
      const started: RunningSimulator<object> = await simulator.start({
        options,
        dataDir,
        baseUrl,
        origin,
        listen,
        // The same seeded people in every simulator, each with its own copy to change.
        organisation: () => generateOrganisation({ workers: options.workers, seed: options.seed }),
        faults,
        now,
      });
      running.push(started);
      surfaces.push(started.surface);
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const core: SandboxCore = {
    baseUrl,
    port: server.port,
    caCertPem: tls.caCertPem,
    caCertPath: tls.caCertPath,
    faults,
    advanceClock: (seconds) => {
      clockOffsetMs += seconds * 1000;
    },
    resetClock: () => {
      clockOffsetMs = 0;
    },
    close: closeAll,
  };
  return Object.assign(core, ...surfaces) as Sandbox;
}
