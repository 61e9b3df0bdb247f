import type { ProviderId } from '../providers/registry.js';
import { bambooSimulator } from './bamboohr/simulator.js';
import { dynamicsSimulator } from './dynamics/simulator.js';
import type { AnySimulatorDefinition, SimulatorDefinition } from './simulator.js';

export type * from './bamboohr/simulator.js';
export type * from './dynamics/simulator.js';

/**
 * Each provider's simulator, by provider id: the only place in the sandbox that names them. An
 * explicit map as the provider registry (src/providers/registry.ts) is, one line per provider (and
 * its import and public types above); the type makes a registered provider without a simulator a
 * compile error. The recipe: docs/providers.md.
 */
export const SIMULATORS = {
  dynamics365: dynamicsSimulator,
  bamboohr: bambooSimulator,
} as const satisfies Record<ProviderId, AnySimulatorDefinition>;

export type SimulatorId = keyof typeof SIMULATORS;

/** Every simulator id, registration order (for `--provider`'s choices). */
export const SIMULATOR_IDS = Object.keys(SIMULATORS) as [SimulatorId, ...SimulatorId[]];

/** The simulators as provider-neutral code iterates them. */
export const SIMULATOR_LIST: readonly AnySimulatorDefinition[] = Object.values(SIMULATORS);

type UnionToIntersection<U> = (U extends unknown ? (value: U) => void : never) extends (
  value: infer I,
) => void
  ? I
  : never;
// biome-ignore lint/suspicious/noExplicitAny: matching any definition to read one of its type parameters.
type ShapeOf<D> = D extends SimulatorDefinition<infer Shape, any, any> ? Shape : never;
// biome-ignore lint/suspicious/noExplicitAny: as above.
type SurfaceOf<D> = D extends SimulatorDefinition<any, infer Surface, any> ? Surface : never;
type EachSimulator = (typeof SIMULATORS)[SimulatorId];

/** What the simulators add to the Sandbox object, all together. */
export type SimulatorSurfaces = UnionToIntersection<SurfaceOf<EachSimulator>>;

/** Every simulator's own startSandbox options (zod shapes), merged flat for options.ts. */
export const SIMULATOR_OPTIONS = Object.assign(
  {},
  ...SIMULATOR_LIST.map((simulator) => simulator.options),
) as UnionToIntersection<ShapeOf<EachSimulator>>;
