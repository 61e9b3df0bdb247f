import type { INetworkModule } from '@azure/msal-node';
import type { Dispatcher } from 'undici';
import { MODEL_NAMES, type ModelName } from '../../unified/models.js';
import { recordId } from '../../unified/record-id.js';
import { Semaphore } from '../../util/semaphore.js';
import { EXPIRY_WARNING_DAYS } from '../definition.js';
import type {
  CheckResult,
  ModelAvailability,
  PassthroughRequest,
  PassthroughResponse,
  ProviderConnection,
  SourceStream,
  SyncPlan,
} from '../types.js';
import { DynamicsTokenSource } from './auth.js';
import { credentialsExpireAt, type DynamicsCredentials } from './credentials.js';
import { DATAVERSE_MODEL_TABLES, DATAVERSE_TABLES } from './dataverse/catalog.js';
import {
  dataversePickRules,
  dataverseValueRules,
  employmentRollup,
  payrollEnrollmentReferences,
  planCoverageLevels,
} from './dataverse/joins.js';
import type { MapContext } from './dataverse/mappers.js';
import {
  attributeName,
  dataverseTableStream,
  describeMissingColumns,
  describeTable,
  missingColumns,
  type TableDefinition,
} from './dataverse/tables.js';
import { diagnose } from './diagnose.js';
import { fnoEntitiesFor } from './fno/catalog.js';
import type { DmfSettings } from './fno/dmf.js';
import { FnoHttp } from './fno/fno-http.js';
import { findEntitySet, parseFnoMetadata } from './fno/metadata.js';
import { type FallbackRequest, planFnoFallback } from './fno/plan.js';
import { ODataClient, ODataError } from './odata-client.js';
import { dynamicsPassthrough } from './passthrough.js';

/** Shared, process-wide plumbing handed to every Dynamics connection. */
export interface DynamicsDependencies {
  dispatcher: Dispatcher;
  networkClient: INetworkModule;
  /** Concurrent requests per environment. */
  concurrency: number;
  pageSize: number;
  retryBudgetMs: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

/** Fields every HR record has, whose emptiness in most rows points at a permission problem. */
const COMPLETENESS_FIELDS: Record<string, string[]> = {
  cdm_worker: [
    'cdm_firstname',
    'cdm_lastname',
    'cdm_primaryemailaddress',
    'cdm_birthdate',
    'cdm_workernumber',
  ],
  cdm_employment: ['_cdm_workerid_value', '_cdm_companyid_value', 'cdm_employmentstartdate'],
};
const COMPLETENESS_SAMPLE = 500;

/**
 * The catalog columns this environment lacks that feed `model` (its own table's and those of the
 * auxiliary tables it derives from), in words for sync status; empty when none is missing.
 */
function lackingColumns(model: ModelName, definitions: Map<string, TableDefinition | null>): string {
  return DATAVERSE_TABLES.filter((table) => table.target === model || table.informs === model)
    .map((table) => {
      const definition = definitions.get(table.logicalName);
      return definition ? describeMissingColumns(table, missingColumns(table, definition)) : '';
    })
    .filter(Boolean)
    .join(', ');
}
const COMPLETENESS_WARNING_SHARE = 0.8;

/** A failed check, with what caused it and the table it is about (to group failures by cause). */
export interface TableProblem {
  result: CheckResult;
  /** Same cause, same fix: e.g. the Dataverse error code, or "missing table". */
  cause: string;
  table: string;
}

/**
 * Problems with one cause are one item: the fix once, naming every table it affects (a missing
 * security role makes every table unreadable; the admin needs one sentence, not seven copies). The
 * item keeps the first table's id.
 */
export function groupTableProblems(problems: readonly TableProblem[]): CheckResult[] {
  const groups = new Map<string, TableProblem[]>();
  for (const problem of problems) {
    const key = `${problem.result.status}:${problem.cause}`;
    groups.set(key, [...(groups.get(key) ?? []), problem]);
  }
  return [...groups.values()].map((group) => {
    const [first] = group as [TableProblem, ...TableProblem[]];
    if (group.length === 1) return first.result;
    const tables = group.map((problem) => problem.table);
    const sameDetail = group.every((problem) => problem.result.detail === first.result.detail);
    return {
      ...first.result,
      title: `${group.length} tables: ${group.map((problem) => problem.result.title).join(', ')}`,
      detail: sameDetail
        ? first.result.detail
        : group.map((problem) => `${problem.result.title}: ${problem.result.detail}`).join(' '),
      ...(first.result.remediation
        ? { remediation: first.result.remediation.replaceAll(first.table, tables.join(', ')) }
        : {}),
    };
  });
}

export class DynamicsConnection implements ProviderConnection {
  readonly tokens: DynamicsTokenSource;
  readonly dataverse: ODataClient;
  readonly apiRoot: string;
  /** Finance & Operations (token audience = the F&O URL), when the account gives one. */
  readonly fno: FnoHttp | undefined;
  private disposeFallback: () => Promise<void> = async () => {};

  constructor(
    readonly linkedAccountId: string,
    readonly credentials: DynamicsCredentials,
    private readonly deps: DynamicsDependencies,
  ) {
    this.tokens = new DynamicsTokenSource(credentials, deps.networkClient, {
      retryBudgetMs: deps.retryBudgetMs,
      ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
    });
    this.apiRoot = `${credentials.dataverseUrl}/api/data/v9.2/`;
    this.dataverse = new ODataClient({
      resource: credentials.dataverseUrl,
      tokens: this.tokens,
      dispatcher: deps.dispatcher,
      limiter: new Semaphore(deps.concurrency),
      retryBudgetMs: deps.retryBudgetMs,
      ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
    });
    this.fno = credentials.fnoUrl
      ? new FnoHttp({
          environmentUrl: credentials.fnoUrl,
          tokens: this.tokens,
          dispatcher: deps.dispatcher,
          concurrency: deps.concurrency,
          retryBudgetMs: deps.retryBudgetMs,
          ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
        })
      : undefined;
  }

  /** DMF export settings: the account's, else the defaults (docs/fno-fallback.md). */
  get dmfSettings(): DmfSettings {
    const dmf = this.credentials.dmf;
    return {
      definitionGroup: dmf?.definitionGroup ?? 'HR export',
      legalEntityId: dmf?.legalEntityId ?? '',
      packageName: 'hris-gateway.zip',
      timeoutMs: (dmf?.timeoutSeconds ?? 1800) * 1000,
      unknownTimeoutMs: (dmf?.unknownTimeoutSeconds ?? 300) * 1000,
      initialPollMs: 250,
      maxPollMs: 10_000,
    };
  }

  private readonly context: MapContext = {
    ref: (model: ModelName, remoteId: string | null | undefined) =>
      remoteId ? recordId(this.linkedAccountId, model, remoteId) : null,
  };

  /** Each catalog table's definition in this environment (null when missing). */
  async describeTables(): Promise<Map<string, TableDefinition | null>> {
    const entries = await Promise.all(
      DATAVERSE_TABLES.map(
        async (table) =>
          [table.logicalName, await describeTable(this.dataverse, this.apiRoot, table.logicalName)] as const,
      ),
    );
    return new Map(entries);
  }

  /**
   * Which source each model comes from, before F&O is asked: a Dataverse table (an availability), or
   * a request to the F&O fallback for models Dataverse does not serve (no table, table missing, or
   * settings say F&O), which then picks OData or DMF (fno/plan.ts). Indexed like MODEL_NAMES.
   */
  private routeModels(definitions: Map<string, TableDefinition | null>): {
    viaDataverse: (ModelAvailability | undefined)[];
    fallback: FallbackRequest[];
  } {
    const fallback: FallbackRequest[] = [];
    const viaDataverse = MODEL_NAMES.map((model): ModelAvailability | undefined => {
      const choice = this.credentials.sources?.[model] ?? 'auto';
      const logicalName = DATAVERSE_MODEL_TABLES[model];
      if (!logicalName) {
        if (choice === 'dataverse') {
          return {
            model,
            source: 'unavailable',
            reason: `Dataverse has no table for ${model.replaceAll('_', ' ')}, and the account's settings keep it on Dataverse.`,
          };
        }
        fallback.push({
          model,
          choice,
          dataverseReason: `Dataverse has no table for ${model.replaceAll('_', ' ')} (no cdm_ table exists).`,
        });
        return undefined;
      }
      const definition = definitions.get(logicalName);
      if (choice === 'odata' || choice === 'dmf') {
        fallback.push({
          model,
          choice,
          dataverseReason: `The account's settings send ${model.replaceAll('_', ' ')} to F&O ${choice === 'odata' ? 'OData' : 'DMF'}.`,
        });
        return undefined;
      }
      if (!definition) {
        const why =
          DATAVERSE_TABLES.find((table) => table.logicalName === logicalName)?.whenMissing ??
          'Is the Human Resources app installed?';
        const dataverseReason = `The ${logicalName} table does not exist in this Dataverse environment. ${why}`;
        if (choice === 'dataverse') return { model, source: 'unavailable', reason: dataverseReason };
        fallback.push({ model, choice, dataverseReason });
        return undefined;
      }
      const lacking = lackingColumns(model, definitions);
      return {
        model,
        source: `dataverse:${definition.entitySetName}`,
        reason: `${
          logicalName.startsWith('mshr_')
            ? `Human Resources virtual table ${logicalName} (no native table serves ${model.replaceAll('_', ' ')}); ${
                definition.changeTrackingEnabled
                  ? 'incremental through change tracking.'
                  : 'virtual tables have no change tracking unless Microsoft support enables it, so every sync reads it whole.'
              } It carries no covered dependents.`
            : definition.changeTrackingEnabled
              ? `Dataverse table ${logicalName}, incremental through change tracking.`
              : `Dataverse table ${logicalName}; change tracking is off, so every sync reads the whole table (turn it on in the table's properties).`
        }${lacking ? ` This environment lacks ${lacking}.` : ''}`,
      };
    });
    return { viaDataverse, fallback };
  }

  async plan(): Promise<SyncPlan> {
    const definitions = await this.describeTables();
    const { viaDataverse, fallback } = this.routeModels(definitions);
    await this.disposeFallback();
    const fno = await planFnoFallback({
      http: this.fno,
      requests: fallback,
      dmf: this.dmfSettings,
      pageSize: Math.max(this.deps.pageSize, 1000),
      dmfPageSize: 2500,
    });
    this.disposeFallback = fno.dispose;
    const models: ModelAvailability[] = MODEL_NAMES.map(
      (model) =>
        viaDataverse[MODEL_NAMES.indexOf(model)] ??
        fno.models.find((entry) => entry.model === model) ?? {
          model,
          source: 'unavailable',
          reason: 'No source serves this model.',
        },
    );
    const fromFno = new Set(fallback.map((request) => request.model));
    const streams: SourceStream[] = [];
    for (const table of DATAVERSE_TABLES) {
      const definition = definitions.get(table.logicalName);
      if (!definition) continue;
      if (table.target !== 'auxiliary' && fromFno.has(table.target)) continue;
      streams.push(
        dataverseTableStream({
          client: this.dataverse,
          apiRoot: this.apiRoot,
          table,
          definition,
          pageSize: this.deps.pageSize,
          context: this.context,
        }),
      );
    }
    const source = (logicalName: string, fallback: string) =>
      `dataverse:${definitions.get(logicalName)?.entitySetName ?? fallback}`;
    const dataverseSources = {
      employments: source('cdm_employment', 'cdm_employments'),
      positions: source('cdm_jobposition', 'cdm_jobpositions'),
      plans: source('cdm_benefitplan', 'cdm_benefitplans'),
      jobs: source('cdm_job', 'cdm_jobs'),
      assignments: source('cdm_positionworkerassignmentmap', 'cdm_positionworkerassignmentmaps'),
      benefitTypes: source('cdm_benefittype', 'cdm_benefittypes'),
    };
    const fromDataverse = { positions: !fromFno.has('job_positions'), plans: !fromFno.has('benefit_plans') };
    const values = dataverseValueRules(dataverseSources, fromDataverse);
    const picks = dataversePickRules(dataverseSources, fromDataverse);
    streams.push(...fno.streams);
    // Enrollments from the payroll API's virtual table name their worker and plan by business key.
    const fromVirtualTable = models.some(
      (entry) => entry.model === 'benefit_enrollments' && entry.source.startsWith('dataverse:'),
    );
    const references = [...fno.references, ...(fromVirtualTable ? payrollEnrollmentReferences : [])];
    // Plans and employments come from Dataverse or from F&O: the roll-ups rerun on a change to either.
    const sourceOf = (model: ModelName, fallback: string) =>
      streams.find((stream) => stream.target === model)?.sourceTable ?? fallback;
    const rollups = [
      employmentRollup(sourceOf('employments', dataverseSources.employments)),
      planCoverageLevels(sourceOf('benefit_plans', dataverseSources.plans)),
    ];
    // The sync layer fills the references first (employees' dates roll up from employments, which
    // F&O rows name by number), then the copied values (employees pick their position's title).
    return {
      models,
      streams,
      references,
      values,
      links: fno.links,
      picks: [...fno.picks, ...picks],
      rollups,
    };
  }

  /** The live checks of the connect flow, each as it completes. */
  async *check(): AsyncGenerator<CheckResult> {
    const environment = this.credentials.dataverseUrl;
    try {
      await this.tokens.token(environment);
      yield {
        id: 'token',
        title: 'Entra ID token',
        status: 'ok',
        detail: 'Entra ID issued an access token for the environment.',
      };
    } catch (error) {
      const { reason } = diagnose(error, environment);
      yield {
        id: 'token',
        title: 'Entra ID token',
        status: 'failure',
        detail: (error as Error).message,
        remediation: reason,
      };
      return;
    }
    try {
      const { body } = await this.dataverse.get(`${this.apiRoot}WhoAmI`);
      yield {
        id: 'whoami',
        title: 'Environment reachable and application user present',
        status: 'ok',
        detail: `Signed in to ${environment} as application user ${String(body.UserId)}.`,
      };
    } catch (error) {
      const { reason } = diagnose(error, environment);
      yield {
        id: 'whoami',
        title: 'Environment reachable and application user present',
        status: 'failure',
        detail: (error as Error).message,
        remediation: reason,
      };
      return;
    }
    const definitions = await this.describeTables();
    // Problems with one cause (no security role: every table unreadable) become one item with one fix.
    const problems: TableProblem[] = [];
    for (const table of DATAVERSE_TABLES) {
      if (table.target === 'auxiliary') continue;
      const definition = definitions.get(table.logicalName);
      const id = `table:${table.logicalName}`;
      const title = `${table.target.replaceAll('_', ' ')} (${table.logicalName})`;
      // An optional source (a virtual table) that is absent is no problem: its model comes from the
      // next source, which the models' sources list shows.
      if (!definition && table.whenMissing) continue;
      if (!definition) {
        // With an F&O environment the account still syncs: F&O serves every model
        // (docs/fno-fallback.md). Without one, nothing would serve it.
        const fallback = this.fno ? ' Finance & Operations serves this model instead.' : '';
        problems.push({
          cause: 'missing table',
          table: table.logicalName,
          result: {
            id,
            title,
            status: this.fno ? 'warning' : 'failure',
            detail: `The ${table.logicalName} table does not exist in this environment.${fallback}`,
            remediation:
              'Install the Dynamics 365 Human Resources app (its cdm_ tables) in this environment, or link the environment that has it.',
          },
        });
        continue;
      }
      try {
        const { body } = await this.dataverse.get(
          `${this.apiRoot}${definition.entitySetName}?$select=${table.key}&$count=true&$top=1`,
        );
        const count = typeof body['@odata.count'] === 'number' ? body['@odata.count'] : undefined;
        const lacking = describeMissingColumns(table, missingColumns(table, definition));
        yield {
          id,
          title,
          status: count === 0 || lacking ? 'warning' : definition.changeTrackingEnabled ? 'ok' : 'warning',
          detail: `${
            count === 0
              ? 'Readable but empty: if the environment has this data, the security role may not reach every business unit.'
              : `Readable${count !== undefined ? `, ${count >= 5000 ? '5,000 or more' : count} rows` : ''}; change tracking ${definition.changeTrackingEnabled ? 'on' : 'off'}.`
          }${lacking ? ` The table lacks ${lacking}.` : ''}`,
          ...(definition.changeTrackingEnabled
            ? {}
            : { remediation: `Turn on "Track changes" for ${table.logicalName} so syncs are incremental.` }),
        };
      } catch (error) {
        const { reason } = diagnose(error, environment);
        problems.push({
          cause: error instanceof ODataError ? `http ${error.status} ${error.code ?? ''}` : reason,
          table: table.logicalName,
          result: { id, title, status: 'failure', detail: (error as Error).message, remediation: reason },
        });
      }
    }
    yield* groupTableProblems(problems);
    if (this.fno) yield await this.checkFno(definitions);
    yield* this.completenessChecks(definitions);
    const expiresAt = credentialsExpireAt(this.credentials);
    if (expiresAt) {
      const days = Math.floor((expiresAt.getTime() - Date.now()) / 86_400_000);
      yield {
        id: 'expiry',
        title: this.credentials.auth.type === 'secret' ? 'Client secret expiry' : 'Certificate expiry',
        status: days < 0 ? 'failure' : days < EXPIRY_WARNING_DAYS ? 'warning' : 'ok',
        detail:
          days < 0
            ? `Expired on ${expiresAt.toISOString().slice(0, 10)}.`
            : `Expires on ${expiresAt.toISOString().slice(0, 10)} (in ${days} days).`,
        ...(days < EXPIRY_WARNING_DAYS
          ? { remediation: 'Create a new secret or certificate in Entra ID and relink before it expires.' }
          : {}),
      };
    }
  }

  /**
   * F&O reachable with this app, and which entities its OData exposes: only the entities of the models
   * the plan sends to F&O (fnoEntitiesFor), so a tenant whose Dataverse serves employees is not warned
   * about F&O's Worker entity it never reads.
   */
  private async checkFno(definitions: Map<string, TableDefinition | null>): Promise<CheckResult> {
    const title = 'Finance & Operations';
    const fno = this.fno as FnoHttp;
    const models = this.routeModels(definitions).fallback.map((request) => request.model);
    const served =
      models.length > 0 ? models.map((model) => model.replaceAll('_', ' ')).join(', ') : 'no model';
    const scope = `The plan reads ${served} from F&O.`;
    try {
      const sets = parseFnoMetadata(await fno.getText(`${fno.dataRoot}$metadata`));
      const found = [...new Set(models.flatMap((model) => fnoEntitiesFor(model)))].map((entity) => ({
        entity,
        set: findEntitySet(sets, entity.preferredSetName, entity.signature),
      }));
      const missing = found.filter((item) => !item.set).map((item) => item.entity.title);
      return {
        id: 'fno',
        title,
        status: missing.length === 0 ? 'ok' : 'warning',
        detail:
          missing.length === 0
            ? `${scope}${found.length > 0 ? ` F&O OData serves ${found.map((item) => item.set?.name).join(', ')}.` : ' F&O is reachable.'}`
            : `${scope} F&O OData lacks ${missing.join(', ')}; those come from DMF exports of data project '${this.dmfSettings.definitionGroup}'.`,
      };
    } catch (error) {
      const { reason } = diagnose(error, 'Finance & Operations');
      return {
        id: 'fno',
        title,
        status: 'failure',
        detail: `${scope} ${(error as Error).message}`,
        remediation: reason,
      };
    }
  }

  /**
   * Data completeness: in a sample of rows, the share left empty of fields every HR record has.
   * A field empty almost everywhere usually means column-level security hides it from the
   * application user, not that the data is missing.
   */
  private async *completenessChecks(
    definitions: Map<string, TableDefinition | null>,
  ): AsyncGenerator<CheckResult> {
    for (const [logicalName, allFields] of Object.entries(COMPLETENESS_FIELDS)) {
      const definition = definitions.get(logicalName);
      if (!definition) continue;
      // Columns the table lacks are reported by the table check; sample the others.
      const attributes = definition.attributes;
      const fields = attributes
        ? allFields.filter((field) => attributes.has(attributeName(field)))
        : allFields;
      if (fields.length === 0) continue;
      let rows: Record<string, unknown>[];
      try {
        const { body } = await this.dataverse.get(
          `${this.apiRoot}${definition.entitySetName}?$select=${fields.join(',')}&$top=${COMPLETENESS_SAMPLE}`,
        );
        rows = Array.isArray(body.value) ? (body.value as Record<string, unknown>[]) : [];
      } catch {
        continue; // the table check above already reported why it cannot be read
      }
      if (rows.length === 0) continue;
      const emptyShare = fields.map((field) => ({
        field,
        share:
          rows.filter((row) => row[field] === null || row[field] === undefined || row[field] === '').length /
          rows.length,
      }));
      const mostlyEmpty = emptyShare.filter(({ share }) => share >= COMPLETENESS_WARNING_SHARE);
      const summary = emptyShare.map(({ field, share }) => `${field} ${Math.round(share * 100)}%`).join(', ');
      yield {
        id: `completeness:${logicalName}`,
        title: `Data completeness (${logicalName})`,
        status: mostlyEmpty.length > 0 ? 'warning' : 'ok',
        detail: `Empty in a sample of ${rows.length} rows: ${summary}.`,
        ...(mostlyEmpty.length > 0
          ? {
              remediation: `${mostlyEmpty.map(({ field }) => field).join(', ')} ${mostlyEmpty.length > 1 ? 'are' : 'is'} empty in most rows: if your HR data has ${mostlyEmpty.length > 1 ? 'them' : 'it'}, a column security profile probably hides ${mostlyEmpty.length > 1 ? 'them' : 'it'} from the application user (Power Platform admin center > your environment > Settings > Users + permissions > Column security profiles).`,
            }
          : {}),
      };
    }
  }

  /** One request to this account's Dataverse or F&O API (passthrough.ts, docs/passthrough.md). */
  passthrough(request: PassthroughRequest): Promise<PassthroughResponse> {
    return dynamicsPassthrough(
      {
        dataverseUrl: this.credentials.dataverseUrl,
        fnoUrl: this.credentials.fnoUrl,
        tokens: this.tokens,
        dispatcher: this.deps.dispatcher,
      },
      request,
    );
  }

  async close(): Promise<void> {
    await this.disposeFallback();
  }
}
