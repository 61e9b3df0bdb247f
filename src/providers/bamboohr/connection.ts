import type { Dispatcher } from 'undici';
import { MODEL_NAMES, type ModelName } from '../../unified/models.js';
import { recordId } from '../../unified/record-id.js';
import type {
  CheckResult,
  ModelAvailability,
  PassthroughRequest,
  PassthroughResponse,
  ProviderConnection,
  SourceStream,
  SyncPlan,
} from '../types.js';
import { BAMBOOHR_GAPS, BAMBOOHR_UNAVAILABLE } from './catalog.js';
import { BambooClient, BambooHttpError } from './client.js';
import type { BambooCredentials } from './credentials.js';
import { diagnoseBamboo } from './diagnose.js';
import type { BambooMapContext } from './mappers.js';
import { bambooPassthrough } from './passthrough.js';
import {
  benefitEnrollmentsStream,
  benefitPlansStream,
  departmentsStream,
  dependentsStream,
  employeesStream,
  employmentsStream,
  type ListField,
  REPORT_FIELDS,
  type StreamDependencies,
} from './streams.js';

/** Process-wide plumbing handed to every BambooHR connection. */
export interface BambooDependencies {
  dispatcher: Dispatcher;
  /** Requests in flight per account (BambooHR throttles an API key that asks too often). */
  concurrency: number;
  /** Records per page handed to the sync engine. */
  pageSize: number;
  retryBudgetMs: number;
  onRetry?: (event: { url: string; attempt: number; waitMs: number; reason: string }) => void;
}

/** One linked BambooHR account: its sources, its streams and its live checks. */
export class BambooConnection implements ProviderConnection {
  readonly client: BambooClient;
  private hiddenFields: string[] = [];

  constructor(
    readonly linkedAccountId: string,
    readonly credentials: BambooCredentials,
    private readonly deps: BambooDependencies,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.client = new BambooClient({
      credentials,
      dispatcher: deps.dispatcher,
      concurrency: deps.concurrency,
      retryBudgetMs: deps.retryBudgetMs,
      ...(deps.onRetry ? { onRetry: deps.onRetry } : {}),
    });
  }

  private ref = (model: ModelName, remoteId: string | null | undefined): string | null =>
    remoteId ? recordId(this.linkedAccountId, model, remoteId) : null;

  private readLists = (): Promise<ListField[]> => this.client.get<ListField[]>('meta/lists');

  /** Whether the key may read benefits (dependents, plans, enrollments): 403 says no. */
  private async benefitsReadable(): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      await this.client.get('benefit/company_benefit');
      return { ok: true };
    } catch (error) {
      if (error instanceof BambooHttpError && error.status === 403) {
        return {
          ok: false,
          reason:
            "The API key's user lacks Benefits Administration access in BambooHR (Settings > Access Levels), which dependents and benefits need.",
        };
      }
      throw error;
    }
  }

  async plan(): Promise<SyncPlan> {
    // Employees name their department by its list option's name; departments are the options.
    const departmentIds = new Map<string, string>();
    for (const field of await this.readLists()) {
      if (field.alias !== 'department') continue;
      for (const option of field.options ?? []) {
        const { id, name } = option as { id?: unknown; name?: unknown };
        if (typeof name === 'string' && id !== undefined) departmentIds.set(name, String(id));
      }
    }
    const context: BambooMapContext = {
      ref: this.ref,
      departmentId: (name) => this.ref('departments', name ? departmentIds.get(name) : null),
    };
    const streamDeps: StreamDependencies = {
      client: this.client,
      context,
      now: this.now,
      pageSize: this.deps.pageSize,
      onHiddenFields: (fields) => {
        this.hiddenFields = fields;
      },
    };
    const benefits = await this.benefitsReadable();
    const streams: SourceStream[] = [
      employeesStream(streamDeps),
      employmentsStream(streamDeps),
      departmentsStream(streamDeps, async () => this.readLists()),
    ];
    if (benefits.ok) {
      streams.push(
        dependentsStream(streamDeps),
        benefitPlansStream(streamDeps),
        benefitEnrollmentsStream(streamDeps),
      );
    }
    const incremental = "incremental through BambooHR's changed-since endpoint (deletions included).";
    const snapshot =
      'BambooHR has no change feed for it, so every sync reads it whole and deletions are found by comparison.';
    const models: ModelAvailability[] = MODEL_NAMES.map((model) => {
      const unavailable = BAMBOOHR_UNAVAILABLE[model];
      if (unavailable) return { model, source: 'unavailable', reason: unavailable };
      const stream = streams.find((candidate) => candidate.target === model);
      if (!stream) {
        return { model, source: 'unavailable', reason: benefits.ok ? 'No source.' : benefits.reason };
      }
      const how =
        model === 'employees'
          ? `Custom report of employee fields, ${incremental}`
          : model === 'employments'
            ? `Job information, employment status and compensation tables, ${incremental}`
            : snapshot;
      return { model, source: stream.sourceTable, reason: `${how} ${BAMBOOHR_GAPS[model] ?? ''}`.trim() };
    });
    return { models, streams };
  }

  /** Fields of the last report the key's user may not see (filled once a sync has read employees). */
  get fieldsHiddenFromKey(): readonly string[] {
    return this.hiddenFields;
  }

  /** The connect flow's live checks, each with the fix when it fails. */
  async *check(): AsyncGenerator<CheckResult> {
    const failure = (id: string, title: string, error: unknown): CheckResult => {
      const { reason } = diagnoseBamboo(error);
      return { id, title, status: 'failure', detail: (error as Error).message, remediation: reason };
    };
    try {
      const fields = await this.client.get<unknown[]>('meta/fields');
      yield {
        id: 'api-key',
        title: 'Company domain and API key',
        status: 'ok',
        detail: `BambooHR accepted the API key for ${this.credentials.companyDomain} (${fields.length} fields visible).`,
      };
    } catch (error) {
      yield failure('api-key', 'Company domain and API key', error);
      return;
    }
    try {
      const report = await this.client.post<{ fields?: { id: string }[]; employees?: unknown[] }>(
        'reports/custom',
        { format: 'JSON', onlyCurrent: 'true' },
        { title: 'HRIS Gateway check', fields: REPORT_FIELDS },
      );
      const returned = new Set((report.fields ?? []).map((field) => field.id));
      const hidden = REPORT_FIELDS.filter((field) => !returned.has(field));
      const count = report.employees?.length ?? 0;
      yield {
        id: 'employees',
        title: 'Employees (custom report)',
        status: hidden.length > 0 || count === 0 ? 'warning' : 'ok',
        detail: `${count} employees readable.${hidden.length > 0 ? ` The API key's user cannot see ${hidden.join(', ')}: those stay empty.` : ''}`,
        ...(hidden.length > 0 || count === 0
          ? {
              remediation:
                "Give the API key's user an access level that sees every employee and these fields (BambooHR Settings > Access Levels), or use a key of a full administrator.",
            }
          : {}),
      };
    } catch (error) {
      yield failure('employees', 'Employees (custom report)', error);
    }
    try {
      await this.client.get('employees/changed/tables/compensation', {
        since: `${this.now().toISOString().slice(0, 19)}Z`,
      });
      yield {
        id: 'tables',
        title: 'Job, status and compensation tables',
        status: 'ok',
        detail: 'Employments (job, status and pay) are readable and incremental.',
      };
    } catch (error) {
      yield failure('tables', 'Job, status and compensation tables', error);
    }
    try {
      const benefits = await this.benefitsReadable();
      yield benefits.ok
        ? {
            id: 'benefits',
            title: 'Dependents and benefits',
            status: 'ok',
            detail: 'Dependents, benefit plans and enrollments are readable.',
          }
        : {
            id: 'benefits',
            title: 'Dependents and benefits',
            status: 'warning',
            detail: 'Dependents, benefit plans and enrollments will stay unavailable.',
            remediation: benefits.reason,
          };
    } catch (error) {
      yield failure('benefits', 'Dependents and benefits', error);
    }
  }

  /** One request to this account's BambooHR API (passthrough.ts, docs/passthrough.md). */
  passthrough(request: PassthroughRequest): Promise<PassthroughResponse> {
    return bambooPassthrough(this.credentials, this.deps.dispatcher, request);
  }

  async close(): Promise<void> {}
}
