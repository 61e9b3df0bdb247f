import type { ModelName } from '../../../unified/models.js';
import type {
  LinkRule,
  ModelAvailability,
  PickRule,
  ReferenceRule,
  SourceStream,
  SyncPage,
} from '../../types.js';
import { diagnose } from '../diagnose.js';
import { FNO_MODELS, type FnoEntity, fnoEntitiesFor } from './catalog.js';
import { type DmfSettings, SharedDmfExport } from './dmf.js';
import { FnoError, type FnoHttp } from './fno-http.js';
import { type FnoSources, fnoLinkRules, fnoPickRules, fnoReferenceRules } from './joins.js';
import { type FnoEntitySetInfo, findEntitySet, parseFnoMetadata } from './metadata.js';
import { dmfEntityStream, odataEntityStream } from './streams.js';

/**
 * Per-model routing to Finance & Operations (docs/microsoft-wire.md, "F&O data entities", Microsoft's advice for entities Dataverse
 * lacks): for each model Dataverse cannot serve (or that the account's settings send to F&O), use the
 * F&O OData entity set found in `$metadata`, else a DMF export of the configured definition group.
 * `odata` / `dmf` settings force one path. The reason given for each choice is what sync status shows.
 */

export type SourceChoice = 'auto' | 'dataverse' | 'odata' | 'dmf';

export interface FallbackRequest {
  model: ModelName;
  /** Why Dataverse does not serve it, in words (first half of the reason shown). */
  dataverseReason: string;
  choice: SourceChoice;
}

export interface FallbackPlan {
  models: ModelAvailability[];
  streams: SourceStream[];
  references: ReferenceRule[];
  links: LinkRule[];
  picks: PickRule[];
  dispose(): Promise<void>;
}

/** A stream that only fails: makes an F&O problem found while planning a failed run of that model. */
function failingStream(model: ModelName, error: unknown): SourceStream {
  return {
    sourceTable: `fno:${model}`,
    target: model,
    // biome-ignore lint/correctness/useYield: fails before its first page, by design
    async *pages(): AsyncGenerator<SyncPage> {
      throw error;
    },
  };
}

/** What the model's F&O entities cannot fill, as a sentence for its reason. */
function limitsOf(entities: readonly FnoEntity[]): string {
  return entities.map((entity) => (entity.cannotFill ? ` ${entity.cannotFill}` : '')).join('');
}

export async function planFnoFallback(options: {
  http: FnoHttp | undefined;
  requests: FallbackRequest[];
  dmf: DmfSettings;
  pageSize: number;
  dmfPageSize: number;
}): Promise<FallbackPlan> {
  const { http, requests } = options;
  const plan: FallbackPlan = {
    models: [],
    streams: [],
    references: [],
    links: [],
    picks: [],
    dispose: async () => {},
  };
  if (requests.length === 0) return plan;
  let metadata: FnoEntitySetInfo[] | undefined;
  let metadataError: unknown;
  const needsMetadata = requests.some(
    (request) => FNO_MODELS.includes(request.model) && request.choice !== 'dmf',
  );
  if (http && needsMetadata) {
    try {
      metadata = parseFnoMetadata(await http.getText(`${http.dataRoot}$metadata`));
    } catch (error) {
      metadataError = error;
    }
  }
  const dmfEntities: { model: ModelName; entity: FnoEntity }[] = [];
  // provider_records source table of each auxiliary entity read (the derivations join on it).
  const auxiliarySources = new Map<FnoEntity['id'], string>();
  for (const request of requests) {
    const { model, dataverseReason } = request;
    if (!FNO_MODELS.includes(model)) {
      plan.models.push({ model, source: 'unavailable', reason: dataverseReason });
      continue;
    }
    if (!http) {
      plan.models.push({
        model,
        source: 'unavailable',
        reason: `${dataverseReason} Finance & Operations serves them, but this account has no F&O environment URL.`,
      });
      continue;
    }
    const entities = fnoEntitiesFor(model);
    if (request.choice !== 'dmf') {
      if (metadataError !== undefined) {
        const { reason } = diagnose(metadataError, 'Finance & Operations');
        plan.models.push({
          model,
          source: 'unavailable',
          reason: `${dataverseReason} F&O OData failed: ${reason}`,
        });
        // The run fails for this model with the diagnosis as its error (still an FnoError, so
        // whoever diagnoses the run's errors gets the same answer).
        plan.streams.push(
          failingStream(
            model,
            metadataError instanceof FnoError
              ? new FnoError(metadataError.status, metadataError.code, reason, metadataError.url)
              : metadataError,
          ),
        );
        continue;
      }
      const sets = entities.map((entity) => ({
        entity,
        set: findEntitySet(metadata ?? [], entity.preferredSetName, entity.signature),
      }));
      const missing = sets.filter((found) => !found.set).map((found) => found.entity.title);
      if (missing.length === 0) {
        const names = sets.map((found) => found.set?.name ?? '').join(' and ');
        // Fields the entity lacks in this environment are left empty and said, never a failure.
        const lacking = sets
          .map((found) => {
            const absent = found.entity.fields.filter((field) => !found.set?.properties.has(field));
            return absent.length > 0 ? `${found.set?.name} lacks ${absent.join(', ')} (left empty)` : '';
          })
          .filter(Boolean);
        plan.models.push({
          model,
          source: `fno-odata:${sets[0]?.set?.name}`,
          reason: `${dataverseReason} Served by F&O OData entity ${names} (whole entity read each sync, cross-company).${
            lacking.length > 0 ? ` ${lacking.join('; ')}.` : ''
          }${limitsOf(entities)}`,
        });
        for (const found of sets) {
          plan.streams.push(
            odataEntityStream({
              http,
              entity: found.entity,
              entitySetName: found.set?.name ?? found.entity.preferredSetName,
              pageSize: options.pageSize,
              fields: found.entity.fields.filter((field) => found.set?.properties.has(field) ?? true),
            }),
          );
          if (found.entity.target === 'auxiliary')
            auxiliarySources.set(found.entity.id, `fno-odata:${found.set?.name}`);
        }
        continue;
      }
      if (request.choice === 'odata') {
        plan.models.push({
          model,
          source: 'unavailable',
          reason: `${dataverseReason} Settings ask for F&O OData, but $metadata has no entity set for ${missing.join(', ')}.`,
        });
        continue;
      }
      plan.models.push({
        model,
        source: `dmf:${options.dmf.definitionGroup}`,
        reason: `${dataverseReason} F&O OData has no entity set for ${missing.join(', ')}; served by a DMF export of data project '${options.dmf.definitionGroup}'.${limitsOf(entities)}`,
      });
    } else {
      plan.models.push({
        model,
        source: `dmf:${options.dmf.definitionGroup}`,
        reason: `${dataverseReason} Settings ask for DMF: served by an export of data project '${options.dmf.definitionGroup}'.${limitsOf(entities)}`,
      });
    }
    for (const entity of entities) dmfEntities.push({ model, entity });
  }
  if (http && dmfEntities.length > 0) {
    const shared = new SharedDmfExport(http, options.dmf, dmfEntities.length);
    for (const { entity } of dmfEntities) {
      const stream = dmfEntityStream({ shared, entity, pageSize: options.dmfPageSize });
      plan.streams.push(stream);
      if (entity.target === 'auxiliary') auxiliarySources.set(entity.id, stream.sourceTable);
    }
    plan.dispose = () => shared.dispose();
    shared.start();
  }
  const fromFno = (model: ModelName) =>
    plan.models.some((entry) => entry.model === model && entry.source !== 'unavailable');
  const sources: FnoSources = {
    employments: fromFno('employments'),
    positions: fromFno('job_positions')
      ? plan.streams.find((stream) => stream.target === 'job_positions')?.sourceTable
      : undefined,
    dependents: fromFno('dependents'),
    enrollments: fromFno('benefit_enrollments'),
    coverageSource: auxiliarySources.get('covered-dependents'),
    // Managers through the position hierarchy only when both employees and positions are F&O's.
    hierarchySource: fromFno('employees') ? auxiliarySources.get('position-hierarchies') : undefined,
  };
  plan.references = fnoReferenceRules(sources);
  plan.links = fnoLinkRules(sources);
  plan.picks = fnoPickRules(sources);
  return plan;
}
