import { DynamicsConnection, type DynamicsDependencies } from '../providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../providers/dynamics/credentials.js';
import type { CheckResult, ModelAvailability } from '../providers/types.js';

/**
 * The live checks of step 3, as events the page shows one by one: the provider's own checks
 * (token, WhoAmI, each table, expiry), then where each unified model will come from according to
 * the sync plan (a Dataverse table, the Finance & Operations fallback, or unavailable and why).
 */
export type ModelSourceKind = 'dataverse' | 'fno' | 'unavailable';

export interface ModelSource {
  model: string;
  kind: ModelSourceKind;
  source: string;
  reason: string;
}

export type CheckEvent =
  | ({ type: 'check' } & CheckResult)
  | { type: 'models'; models: ModelSource[] }
  | { type: 'done'; can_connect: boolean; failures: number; warnings: number };

/** Checks that must pass before the gateway may store the credentials. */
export const BLOCKING_CHECKS = new Set(['token', 'whoami']);

export function sourceKind(source: string): ModelSourceKind {
  if (source.startsWith('dataverse:')) return 'dataverse';
  if (source === 'unavailable') return 'unavailable';
  return 'fno';
}

function describeModel(model: ModelAvailability): ModelSource {
  return { model: model.model, kind: sourceKind(model.source), source: model.source, reason: model.reason };
}

const DESCRIBE_FAILED =
  'Could not read the environment’s table definitions; run the checks again, and if it persists check the security role.';

export async function* runConnectChecks(
  credentials: DynamicsCredentials,
  deps: DynamicsDependencies,
): AsyncGenerator<CheckEvent> {
  // The id only names the connection in logs and record ids; no account exists yet.
  const connection = new DynamicsConnection('00000000-0000-0000-0000-000000000000', credentials, deps);
  let failures = 0;
  let warnings = 0;
  let blocked = false;
  try {
    for await (const result of connection.check()) {
      if (result.status === 'failure') {
        failures++;
        if (BLOCKING_CHECKS.has(result.id)) blocked = true;
      }
      if (result.status === 'warning') warnings++;
      yield { type: 'check', ...result };
    }
    if (!blocked) {
      try {
        const plan = await connection.plan();
        const models = plan.models.map(describeModel);
        yield { type: 'models', models };
      } catch {
        failures++;
        yield {
          type: 'check',
          id: 'plan',
          title: 'Where each model comes from',
          status: 'failure',
          detail: DESCRIBE_FAILED,
        };
      }
    }
  } finally {
    await connection.close();
  }
  yield { type: 'done', can_connect: !blocked && failures === 0, failures, warnings };
}

/**
 * The gate before storing credentials: token and WhoAmI must pass (the page shows everything; the
 * server re-checks the essentials so a hand-made request cannot skip them). Returns the first
 * blocking failure, or undefined.
 */
export async function blockingFailure(
  credentials: DynamicsCredentials,
  deps: DynamicsDependencies,
): Promise<CheckResult | undefined> {
  const connection = new DynamicsConnection('00000000-0000-0000-0000-000000000000', credentials, deps);
  try {
    for await (const result of connection.check()) {
      if (!BLOCKING_CHECKS.has(result.id)) return undefined;
      if (result.status === 'failure') return result;
      if (result.id === 'whoami') return undefined;
    }
    return undefined;
  } finally {
    await connection.close();
  }
}
