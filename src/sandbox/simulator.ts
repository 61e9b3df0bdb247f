import type { z } from 'zod';
import type { GeneratedOrganisation } from './data/types.js';
import type { FaultInjector } from './faults.js';
import type { Router, SandboxServer } from './http/server.js';
import type { SandboxRequest, SandboxResponse } from './http/types.js';

/**
 * Everything the sandbox knows about one provider's simulator, in one object, as
 * src/providers/definition.ts is for the provider itself. The simulator registry
 * (src/sandbox/simulators.ts) lists them; the sandbox's start-up, options, CLI, faults and HTTP
 * server reach a simulator only through its definition (docs/providers.md, the recipe).
 *
 * Generic over its own startSandbox options (Shape, merged flat into startSandbox's options), what
 * it adds to the Sandbox object (Surface) and what the CLI prints for it (Facts).
 */
export interface SimulatorDefinition<Shape extends z.ZodRawShape, Surface extends object, Facts> {
  /** The provider id it simulates (src/providers/registry.ts): `--provider <id>` starts it. */
  readonly id: string;
  /** Started whatever `provider` says: the default tenant every existing caller knows. */
  readonly alwaysStarted: boolean;
  /** Its own startSandbox options (zod shape), beside the sandbox's own (options.ts). */
  readonly options: Shape;
  /** Its CLI flags and their help (`npm run sandbox -- --help`). */
  readonly cliFlags: readonly SimulatorCliFlag[];
  /** The route families its requests are served as: what `route` in a fault rule may name. */
  readonly routeFamilies: readonly string[];
  /** How an injected throttle or server error looks on its families, as its real service answers. */
  readonly faultShape?: FaultShape;
  /** Starts it on the sandbox's port (and any own ports through `context.listen`). */
  start(context: SimulatorContext<z.output<z.ZodObject<Shape>>>): Promise<RunningSimulator<Surface>>;
  /** What to paste into the connect page, from a started sandbox (the CLI prints it). */
  facts(surface: Surface, sandbox: { caCertPath: string; baseUrl: string }): Facts | undefined;
  /** The facts as text, one section. */
  formatFacts(facts: Facts): string;
  /** What `npm run demo -- --provider <id>` links and how it invites a change. */
  demo(surface: Surface, sandbox: { baseUrl: string }): SimulatorDemo | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds simulators of different option and surface types.
export type AnySimulatorDefinition = SimulatorDefinition<any, any, any>;

/** The sandbox-wide options every simulator may read (options.ts). */
export interface CoreSandboxOptions {
  workers: number;
  seed: number;
  /** The sandbox's port, 0 for any: a simulator with own ports derives stable ones from it. */
  port: number;
  host: string;
}

export interface SimulatorContext<Options> {
  options: Options & CoreSandboxOptions;
  /** The sandbox's data directory (resolved): certificates, keys. */
  dataDir: string;
  /** `https://host:port` of the sandbox's main port. */
  baseUrl: string;
  /** `https://host:port` of another port on the sandbox's host. */
  origin(port: number): string;
  /** Listens on another port (an environment with its own origin); the simulator closes it. */
  listen(port: number, router: Router): Promise<SandboxServer>;
  /** The shared seeded organisation (options.workers, options.seed): the same people in every simulator. */
  organisation(): GeneratedOrganisation;
  faults: FaultInjector;
  /** The sandbox's clock (advanceClock moves it). */
  now(): Date;
}

export interface RunningSimulator<Surface> {
  /** Merged into the Sandbox object tests and the CLI hold. */
  surface: Surface;
  /** Serves a request of the sandbox's main port, or undefined when the path is not its own. */
  route(request: SandboxRequest): Promise<RoutedResponse | undefined>;
  close(): Promise<void>;
}

export interface RoutedResponse {
  /** One of its routeFamilies, or "controls" (never faulted). */
  family: string;
  response: SandboxResponse;
}

export interface SimulatorCliFlag {
  /** The flag without dashes, e.g. "tenant-shape". */
  flag: string;
  /** The startSandbox option it sets. */
  option: string;
  /** The flag's help line, e.g. "--tenant-shape hr-dataverse|virtual-tables|fno-only". */
  usage: string;
  /** Parses the flag's text (throws naming the flag when wrong). */
  parse(value: string): unknown;
}

/** A throttle or a server error in the wire shape of a simulated service. */
export interface FaultShape {
  throttle(retryAfterSeconds: string): SandboxResponse;
  serverError(status: number, message: string, family: string): SandboxResponse;
}

export interface SimulatorDemo {
  /** The linked account's organisation name. */
  organizationName: string;
  /** The provider's credentials (its credentialsSchema) for the simulated account. */
  credentials: unknown;
  /** A shell command that changes five people in the simulator. */
  changeSomePeople: string;
}
