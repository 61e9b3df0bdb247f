import type { ModelName } from '../../unified/models.js';
import type { InvalidRow, MappedRecord, SourceStream, StoredCursor, SyncPage } from '../types.js';
import type { BambooClient } from './client.js';
import {
  type BambooMapContext,
  type EmployeeTables,
  mapBenefitEnrollment,
  mapBenefitPlan,
  mapDepartment,
  mapDependent,
  mapEmployee,
  mapEmployment,
} from './mappers.js';

/**
 * The BambooHR sources as SourceStreams (docs/bamboohr.md). Employees and employments are
 * incremental through the changed-since endpoints, with the last `latest` timestamp as cursor;
 * dependents, departments, plans and enrollments have no change feed, so each sync reads them whole
 * (snapshot pages without a cursor) and the engine reconciles deletions.
 */

export interface StreamDependencies {
  client: BambooClient;
  context: BambooMapContext;
  /** The client's clock, for the cursor a full load ends with. */
  now: () => Date;
  /** Records per page handed to the engine (one transaction each). */
  pageSize: number;
  /** The report's fields the key's user cannot see, noted for sync status (filled by the employees stream). */
  onHiddenFields?: (fields: string[]) => void;
}

/** The employee fields read through the custom report (docs/bamboohr.md, "Fields"). */
export const REPORT_FIELDS = [
  'employeeNumber',
  'firstName',
  'middleName',
  'lastName',
  'preferredName',
  'displayName',
  'workEmail',
  'homeEmail',
  'mobilePhone',
  'dateOfBirth',
  'gender',
  'status',
  'employmentHistoryStatus',
  'hireDate',
  'originalHireDate',
  'terminationDate',
  'department',
  'division',
  'location',
  'jobTitle',
  'supervisorEId',
] as const;

export const EMPLOYMENT_TABLES = ['jobInfo', 'employmentStatus', 'compensation'] as const;

/**
 * Changes made while a full load runs are read again by the first incremental sync: the cursor a full
 * load ends with lies this far before its start (also absorbing clock skew with BambooHR).
 */
const CURSOR_MARGIN_MS = 5 * 60_000;
/** Employee ids per filtered report request. */
const IDS_PER_REPORT = 500;

interface ChangedEmployees {
  latest?: string;
  employees?: Record<string, { id: string; action: string; lastChanged: string }>;
}
interface Report {
  fields?: { id: string }[];
  employees?: unknown[];
}

/** A mapper's result: a record typed with its model's fields, or an invalid row. */
type Mapped = (Omit<MappedRecord, 'fields'> & { fields: object }) | InvalidRow;

function split(results: Mapped[]): { records: MappedRecord[]; invalid: InvalidRow[] } {
  const records: MappedRecord[] = [];
  const invalid: InvalidRow[] = [];
  for (const result of results) {
    if ('remoteId' in result)
      records.push({ ...result, fields: Object.fromEntries(Object.entries(result.fields)) });
    else invalid.push(result);
  }
  return { records, invalid };
}

/** Mapped results as engine pages of `pageSize`, the cursor on the last one. */
function* pagesOf(
  results: Mapped[],
  deletedRemoteIds: string[],
  phase: 'full' | 'delta',
  cursor: string | null,
  pageSize: number,
): Generator<SyncPage> {
  const count = Math.max(1, Math.ceil(results.length / pageSize));
  for (let index = 0; index < count; index++) {
    const last = index === count - 1;
    yield {
      ...split(results.slice(index * pageSize, (index + 1) * pageSize)),
      deletedRemoteIds: last ? deletedRemoteIds : [],
      nextCursor: last ? cursor : null,
      phase,
      last,
    };
  }
}

const cursorAt = (date: Date): string =>
  `${new Date(date.getTime() - CURSOR_MARGIN_MS).toISOString().slice(0, 19)}Z`;

async function changedSince(client: BambooClient, since: string) {
  const changed = await client.get<ChangedEmployees>('employees/changed', { since });
  const entries = Object.values(changed.employees ?? {});
  return {
    // No change: keep asking from the same point.
    latest: changed.latest && entries.length > 0 ? changed.latest : since,
    upserted: entries.filter((entry) => entry.action !== 'Deleted').map((entry) => String(entry.id)),
    deleted: entries.filter((entry) => entry.action === 'Deleted').map((entry) => String(entry.id)),
  };
}

async function report(deps: StreamDependencies, employeeIds?: string[]): Promise<unknown[]> {
  const body = {
    title: 'HRIS Gateway employees',
    fields: REPORT_FIELDS,
    ...(employeeIds ? { filters: { employeeIds: employeeIds.map(Number) } } : {}),
  };
  const result = await deps.client.post<Report>(
    'reports/custom',
    { format: 'JSON', onlyCurrent: 'true' },
    body,
  );
  // Fields the key may not see are left out without an error (docs/bamboohr.md, "Custom reports").
  const returned = new Set((result.fields ?? []).map((field) => field.id));
  deps.onHiddenFields?.(REPORT_FIELDS.filter((field) => !returned.has(field)));
  return Array.isArray(result.employees) ? result.employees : [];
}

export function employeesStream(deps: StreamDependencies): SourceStream {
  return {
    sourceTable: 'bamboohr:reports/custom',
    target: 'employees',
    async *pages(from: StoredCursor | null) {
      if (!from?.cursor || from.phase === 'full') {
        const cursor = cursorAt(deps.now());
        const rows = await report(deps);
        yield* pagesOf(
          rows.map((row) => mapEmployee(row, deps.context)),
          [],
          'full',
          cursor,
          deps.pageSize,
        );
        return;
      }
      const changes = await changedSince(deps.client, from.cursor);
      const results: Mapped[] = [];
      for (let index = 0; index < changes.upserted.length; index += IDS_PER_REPORT) {
        const rows = await report(deps, changes.upserted.slice(index, index + IDS_PER_REPORT));
        results.push(...rows.map((row) => mapEmployee(row, deps.context)));
      }
      yield* pagesOf(results, changes.deleted, 'delta', changes.latest, deps.pageSize);
    },
  };
}

type TableRows = Record<string, unknown>[];

function groupByEmployee(
  tables: Record<(typeof EMPLOYMENT_TABLES)[number], TableRows>,
): Map<string, EmployeeTables> {
  const byEmployee = new Map<string, EmployeeTables>();
  for (const table of EMPLOYMENT_TABLES) {
    for (const row of tables[table]) {
      const employeeId = String(row.employeeId ?? '');
      if (!employeeId) continue;
      const entry = byEmployee.get(employeeId) ?? { jobInfo: [], employmentStatus: [], compensation: [] };
      entry[table].push(row);
      byEmployee.set(employeeId, entry);
    }
  }
  return byEmployee;
}

interface ChangedTable {
  employees?: Record<string, { lastChanged?: string; rows?: TableRows }>;
}

/** Employments from the job info, employment status and compensation tables (one per employee). */
export function employmentsStream(deps: StreamDependencies): SourceStream {
  const today = (): string => deps.now().toISOString().slice(0, 10);
  const mapAll = (byEmployee: Map<string, EmployeeTables>): Mapped[] =>
    [...byEmployee].map(([employeeId, tables]) => mapEmployment(employeeId, tables, deps.context, today()));
  return {
    sourceTable: 'bamboohr:tables',
    target: 'employments',
    async *pages(from: StoredCursor | null) {
      if (!from?.cursor || from.phase === 'full') {
        const cursor = cursorAt(deps.now());
        const [jobInfo, employmentStatus, compensation] = await Promise.all(
          EMPLOYMENT_TABLES.map((table) => deps.client.get<TableRows>(`employees/all/tables/${table}`)),
        );
        const byEmployee = groupByEmployee({
          jobInfo: jobInfo ?? [],
          employmentStatus: employmentStatus ?? [],
          compensation: compensation ?? [],
        });
        yield* pagesOf(mapAll(byEmployee), [], 'full', cursor, deps.pageSize);
        return;
      }
      const since = from.cursor;
      const changes = await changedSince(deps.client, since);
      // Each changed employee comes with ALL its rows of the table (docs/bamboohr.md, "Changed since").
      const changedTables = await Promise.all(
        EMPLOYMENT_TABLES.map((table) =>
          deps.client.get<ChangedTable>(`employees/changed/tables/${table}`, { since }),
        ),
      );
      const rowsOf = (index: number): TableRows =>
        Object.entries(changedTables[index]?.employees ?? {}).flatMap(([employeeId, entry]) =>
          (entry.rows ?? []).map((row) => ({ ...row, employeeId })),
        );
      const tables = { jobInfo: rowsOf(0), employmentStatus: rowsOf(1), compensation: rowsOf(2) };
      yield* pagesOf(
        mapAll(groupByEmployee(tables)),
        changes.deleted,
        'delta',
        changes.latest,
        deps.pageSize,
      );
    },
  };
}

/** A source without a change feed: read whole at every sync. */
function snapshotStream(
  sourceTable: string,
  target: ModelName,
  deps: StreamDependencies,
  read: () => Promise<Mapped[]>,
): SourceStream {
  return {
    sourceTable,
    target,
    async *pages() {
      yield* pagesOf(await read(), [], 'full', null, deps.pageSize);
    },
  };
}

export function dependentsStream(deps: StreamDependencies): SourceStream {
  return snapshotStream('bamboohr:employeedependents', 'dependents', deps, async () => {
    const body = await deps.client.get<{ 'Employee Dependents'?: unknown[] }>('employeedependents');
    return (body['Employee Dependents'] ?? []).map((row) => mapDependent(row, deps.context));
  });
}

export interface ListField {
  alias?: string;
  options?: unknown[];
}

export function departmentsStream(deps: StreamDependencies, lists: () => Promise<ListField[]>): SourceStream {
  return snapshotStream('bamboohr:meta/lists', 'departments', deps, async () =>
    ((await lists()).find((field) => field.alias === 'department')?.options ?? []).map(mapDepartment),
  );
}

export function benefitPlansStream(deps: StreamDependencies): SourceStream {
  return snapshotStream('bamboohr:benefit/company_benefit', 'benefit_plans', deps, async () =>
    (await deps.client.get<unknown[]>('benefit/company_benefit')).map(mapBenefitPlan),
  );
}

interface EmployeeBenefits {
  employeeBenefits?: { employeeBenefit?: unknown[] }[];
}

/** Enrollments, plan by plan: the endpoint needs a filter (docs/bamboohr.md, "Benefits"). */
export function benefitEnrollmentsStream(deps: StreamDependencies): SourceStream {
  return snapshotStream('bamboohr:benefit/employee_benefit', 'benefit_enrollments', deps, async () => {
    const plans = await deps.client.get<{ id?: unknown }[]>('benefit/company_benefit');
    const results: Mapped[] = [];
    for (const plan of plans) {
      if (plan.id === undefined || plan.id === null) continue;
      const body = await deps.client.get<EmployeeBenefits>(
        'benefit/employee_benefit',
        {},
        {
          filters: { companyBenefitId: Number(plan.id) },
        },
      );
      for (const employee of body.employeeBenefits ?? []) {
        for (const row of employee.employeeBenefit ?? [])
          results.push(mapBenefitEnrollment(row, deps.context));
      }
    }
    return results;
  });
}
