import type { AnyProviderDefinition } from '../providers/definition.js';
import type { CheckResult, ModelAvailability } from '../providers/types.js';

/**
 * The live checks of step 3, as events the page shows one by one: the provider's own checks
 * (for Dynamics: token, WhoAmI, each table, expiry), then where each unified model will come from
 * according to the sync plan (a source the provider names, or unavailable and why).
 */
export interface ModelSource {
  model: string;
  /** A group of sources of the provider (e.g. "dataverse", "fno"), or "unavailable". */
  kind: string;
  /** The source in the admin's words, e.g. "Dataverse". */
  label: string;
  source: string;
  reason: string;
}

export type CheckEvent =
  | ({ type: 'check' } & CheckResult)
  | { type: 'models'; models: ModelSource[] }
  | { type: 'done'; can_connect: boolean; failures: number; warnings: number };

/** The id only names the connection in logs and record ids; no account exists yet. */
const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

function describeModel(definition: AnyProviderDefinition, model: ModelAvailability): ModelSource {
  const { kind, label } =
    model.source === 'unavailable'
      ? { kind: 'unavailable', label: 'unavailable' }
      : definition.describeSource(model.source);
  return { model: model.model, kind, label, source: model.source, reason: model.reason };
}

const DESCRIBE_FAILED =
  'Could not read where each model comes from; run the checks again, and if it persists check the permissions the checks above name.';

export async function* runConnectChecks(
  definition: AnyProviderDefinition,
  credentials: unknown,
  dependencies: unknown,
): AsyncGenerator<CheckEvent> {
  const connection = definition.connect(NO_ACCOUNT, credentials, dependencies);
  let failures = 0;
  let warnings = 0;
  let blocked = false;
  try {
    for await (const result of connection.check()) {
      if (result.status === 'failure') {
        failures++;
        if (definition.blockingChecks.has(result.id)) blocked = true;
      }
      if (result.status === 'warning') warnings++;
      yield { type: 'check', ...result };
    }
    if (!blocked) {
      try {
        const plan = await connection.plan();
        yield { type: 'models', models: plan.models.map((model) => describeModel(definition, model)) };
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
 * The gate before storing credentials: the provider's blocking checks must pass (the page shows
 * everything; the server re-checks the essentials so a hand-made request cannot skip them). A
 * provider yields its blocking checks first; the gate stops at the first other check. Returns the
 * first blocking failure, or undefined.
 */
export async function blockingFailure(
  definition: AnyProviderDefinition,
  credentials: unknown,
  dependencies: unknown,
): Promise<CheckResult | undefined> {
  const connection = definition.connect(NO_ACCOUNT, credentials, dependencies);
  const pending = new Set(definition.blockingChecks);
  try {
    for await (const result of connection.check()) {
      if (!pending.has(result.id)) return undefined;
      if (result.status === 'failure') return result;
      pending.delete(result.id);
      if (pending.size === 0) return undefined;
    }
    return undefined;
  } finally {
    await connection.close();
  }
}
