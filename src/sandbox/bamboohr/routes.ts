import { z } from 'zod';
import { headerValue, jsonResponse, type SandboxRequest, type SandboxResponse } from '../http/types.js';
import {
  type BambooCompany,
  type BambooEmployee,
  COMPENSATION_FIELDS,
  EMPLOYEE_FIELDS,
  type EmployeeFieldName,
  TABLE_NAMES,
  type TableName,
  type TableRow,
} from './company.js';
import type { RateLimitSettings } from './controls.js';

/**
 * BambooHR's API as documented (docs/bamboohr.md): `/api/gateway.php/{companyDomain}/v1/...`, HTTP
 * Basic with the API key as the user name and any password, JSON responses, rate limiting with
 * Retry-After, and the changed-since endpoints for incremental reads.
 */

export interface BambooRuntime {
  company: BambooCompany;
  rateLimit: RateLimitSettings;
  /** Requests of the current window, per API key. */
  window: { startedAt: number; count: number };
}

/** Which companies the sandbox serves, by company domain. */
export type FindCompany = (companyDomain: string) => BambooRuntime | undefined;

export function isBambooPath(segments: string[]): boolean {
  return segments[0] === 'api' && segments[1] === 'gateway.php';
}

/** Errors carry their reason in a header and no body, as BambooHR's do (docs/bamboohr.md, "Errors"). */
function bambooError(status: number, message: string, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { 'x-bamboohr-error-message': message, ...headers }, body: '' };
}

/** ISO 8601 as the changed-since endpoints accept it (docs/bamboohr.md, "Changed since"). */
const SINCE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:?\d{2})$/;

function parseSince(request: SandboxRequest): number | SandboxResponse {
  const since = request.url.searchParams.get('since');
  if (!since || !SINCE.test(since)) {
    return bambooError(400, 'The since parameter is missing or is not a valid ISO 8601 date.');
  }
  const normalised = since.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
  const at = Date.parse(normalised);
  return Number.isNaN(at) ? bambooError(400, 'Invalid since date.') : at;
}

function authenticate(request: SandboxRequest, company: BambooCompany): SandboxResponse | undefined {
  const header = headerValue(request.headers, 'authorization') ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return bambooError(401, 'Missing API key.', { 'www-authenticate': 'Basic realm="BambooHR"' });
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const apiKey = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  if (apiKey !== company.apiKey) {
    return bambooError(401, 'Invalid API key.', { 'www-authenticate': 'Basic realm="BambooHR"' });
  }
  if (!company.access.enabled) return bambooError(403, 'The API key belongs to a disabled user.');
  return undefined;
}

function rateLimited(runtime: BambooRuntime, now: number): SandboxResponse | undefined {
  const { rateLimit, window } = runtime;
  const windowMs = rateLimit.windowSeconds * 1000;
  if (now - window.startedAt >= windowMs) {
    window.startedAt = now;
    window.count = 0;
  }
  window.count++;
  if (window.count <= rateLimit.requestLimit) return undefined;
  const retryAfter = Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000));
  return bambooError(rateLimit.status, 'Too many requests; see Retry-After.', {
    'retry-after': String(retryAfter),
  });
}

export function handleBambooRequest(
  request: SandboxRequest,
  findCompany: FindCompany,
  now: () => Date,
): SandboxResponse {
  const [, , companyDomain = '', version, ...rest] = request.segments;
  const runtime = findCompany(companyDomain.toLowerCase());
  if (!runtime || version !== 'v1') return bambooError(404, 'Unknown company domain or API version.');
  const { company } = runtime;
  const denied = authenticate(request, company) ?? rateLimited(runtime, now().getTime());
  if (denied) return denied;
  const route = `${request.method} ${rest.join('/')}`;
  const [first, second, third, fourth] = rest;
  if (route === 'GET employees/directory') return directory(company);
  if (route === 'GET employees/changed') return changedEmployees(request, company, now());
  if (request.method === 'GET' && first === 'employees' && second === 'changed' && third === 'tables') {
    return changedTable(request, company, fourth ?? '');
  }
  if (request.method === 'GET' && first === 'employees' && third === 'tables' && rest.length === 4) {
    return tableRows(company, second ?? '', fourth ?? '');
  }
  if (request.method === 'GET' && first === 'employees' && rest.length === 2) {
    return oneEmployee(request, company, second ?? '');
  }
  if (route === 'POST reports/custom') return customReport(request, company);
  if (request.method === 'GET' && first === 'employeedependents' && rest.length <= 2) {
    return dependents(request, company, second);
  }
  if (route === 'GET benefit/company_benefit') return companyBenefits(company);
  if (route === 'GET benefit/employee_benefit') return employeeBenefits(request, company);
  if (route === 'GET meta/fields') return metaFields();
  if (route === 'GET meta/lists') return metaLists(company);
  return bambooError(404, 'The URL given is not a valid API.');
}

function visibleFields(company: BambooCompany): EmployeeFieldName[] {
  return (Object.keys(EMPLOYEE_FIELDS) as EmployeeFieldName[]).filter(
    (field) => company.access.compensation || !COMPENSATION_FIELDS.includes(field),
  );
}

function fieldDescriptions(fields: EmployeeFieldName[]) {
  return fields.map((id) => ({ id, type: EMPLOYEE_FIELDS[id].type, name: EMPLOYEE_FIELDS[id].name }));
}

function project(employee: BambooEmployee, fields: EmployeeFieldName[]): Record<string, string | null> {
  const row: Record<string, string | null> = { id: employee.id };
  for (const field of fields) row[field] = employee.values[field];
  return row;
}

const DIRECTORY_FIELDS: EmployeeFieldName[] = [
  'displayName',
  'firstName',
  'lastName',
  'preferredName',
  'gender',
  'jobTitle',
  'mobilePhone',
  'workEmail',
  'department',
  'location',
  'division',
  'supervisor',
];

/** Only Active employees, a fixed fieldset (docs/bamboohr.md, "Directory"). */
function directory(company: BambooCompany): SandboxResponse {
  const employees = [...company.employees.values()].filter((employee) => employee.values.status === 'Active');
  if (employees.length === 0) return bambooError(404, 'The directory is empty.');
  return jsonResponse(200, {
    fields: fieldDescriptions(DIRECTORY_FIELDS),
    employees: employees.map((employee) => project(employee, DIRECTORY_FIELDS)),
  });
}

function oneEmployee(request: SandboxRequest, company: BambooCompany, id: string): SandboxResponse {
  const employee = company.employees.get(id);
  if (!employee) return bambooError(404, `Employee ${id} not found.`);
  const allowed = new Set<string>(visibleFields(company));
  const wanted = (request.url.searchParams.get('fields') ?? 'firstName,lastName')
    .split(',')
    .map((field) => field.trim())
    .filter((field): field is EmployeeFieldName => allowed.has(field));
  return jsonResponse(200, project(employee, wanted));
}

function changedEmployees(request: SandboxRequest, company: BambooCompany, now: Date): SandboxResponse {
  const since = parseSince(request);
  if (typeof since !== 'number') return since;
  const type = request.url.searchParams.get('type')?.toLowerCase();
  if (type && !['inserted', 'updated', 'deleted', 'all'].includes(type)) {
    return bambooError(400, 'Invalid type parameter.');
  }
  const employees: Record<string, { id: string; action: string; lastChanged: string }> = {};
  let latest = '';
  const add = (id: string, action: string, lastChanged: string): void => {
    if (Date.parse(lastChanged) < since) return;
    if (type && type !== 'all' && type !== action.toLowerCase()) return;
    employees[id] = { id, action, lastChanged };
    if (lastChanged > latest) latest = lastChanged;
  };
  for (const employee of company.employees.values())
    add(employee.id, employee.lastAction, employee.lastChanged);
  for (const deleted of company.deleted.values()) add(deleted.id, 'Deleted', deleted.lastChanged);
  return jsonResponse(200, { latest: latest || `${now.toISOString().slice(0, 19)}+00:00`, employees });
}

function isTable(name: string): name is TableName {
  return (TABLE_NAMES as readonly string[]).includes(name);
}

function tableDenied(company: BambooCompany, table: TableName): SandboxResponse | undefined {
  return table === 'compensation' && !company.access.compensation
    ? bambooError(403, 'The API key has no access to the compensation table.')
    : undefined;
}

/** `employees/{id|all}/tables/{table}`: rows with their id and employee id. */
function tableRows(company: BambooCompany, employeeId: string, table: string): SandboxResponse {
  if (!isTable(table)) return bambooError(404, `Unknown table ${table}.`);
  const denied = tableDenied(company, table);
  if (denied) return denied;
  if (employeeId !== 'all' && !company.employees.has(employeeId)) {
    return bambooError(404, `Employee ${employeeId} not found.`);
  }
  const rows = company.tables[table].filter((row) => employeeId === 'all' || row.employeeId === employeeId);
  return jsonResponse(200, rows);
}

/** Every row of each employee changed since, keyed by employee (docs/bamboohr.md, "Changed since"). */
function changedTable(request: SandboxRequest, company: BambooCompany, table: string): SandboxResponse {
  if (!isTable(table)) return bambooError(404, `Unknown table ${table}.`);
  const denied = tableDenied(company, table);
  if (denied) return denied;
  const since = parseSince(request);
  if (typeof since !== 'number') return since;
  const rowsOf = new Map<string, TableRow[]>();
  for (const row of company.tables[table]) {
    rowsOf.set(row.employeeId, [...(rowsOf.get(row.employeeId) ?? []), row]);
  }
  const employees: Record<string, { lastChanged: string; rows: Record<string, string | null>[] }> = {};
  for (const employee of company.employees.values()) {
    if (Date.parse(employee.lastChanged) < since) continue;
    employees[employee.id] = {
      lastChanged: `${employee.lastChanged.slice(0, 19)}Z`,
      rows: (rowsOf.get(employee.id) ?? []).map(({ id: _id, employeeId: _employee, ...columns }) => columns),
    };
  }
  return jsonResponse(200, { table, employees });
}

const reportSchema = z.object({
  title: z.string().optional(),
  fields: z.array(z.string()).min(1).max(400),
  filters: z
    .object({
      lastChanged: z.object({ includeNull: z.string().optional(), value: z.string() }).optional(),
      employeeIds: z.array(z.union([z.number().int(), z.string()])).optional(),
    })
    .optional(),
});

/** POST reports/custom: every employee, active or not; unknown or hidden fields silently left out. */
function customReport(request: SandboxRequest, company: BambooCompany): SandboxResponse {
  const format = request.url.searchParams.get('format');
  const accept = headerValue(request.headers, 'accept') ?? '';
  if (format ? format.toLowerCase() !== 'json' : accept !== 'application/json') {
    return bambooError(400, 'The sandbox serves custom reports as JSON only (format=JSON).');
  }
  const contentType = headerValue(request.headers, 'content-type');
  if (contentType !== 'application/json') {
    // BambooHR parses any other content type as XML (docs/bamboohr.md, "Custom reports").
    return bambooError(400, 'Malformed XML');
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    return bambooError(400, 'Malformed JSON');
  }
  const parsed = reportSchema.safeParse(body);
  if (!parsed.success) return bambooError(400, `Invalid report request: ${parsed.error.issues[0]?.message}`);
  const allowed = new Set<string>(visibleFields(company));
  const fields = [...new Set(parsed.data.fields)].filter((field): field is EmployeeFieldName =>
    allowed.has(field),
  );
  const ids = parsed.data.filters?.employeeIds?.map(String);
  const changedAfter = parsed.data.filters?.lastChanged?.value;
  const after = changedAfter ? Date.parse(changedAfter) : undefined;
  const employees = (ids ? ids.map((id) => company.employees.get(id)) : [...company.employees.values()])
    .filter((employee): employee is BambooEmployee => employee !== undefined)
    .filter((employee) => after === undefined || Date.parse(employee.lastChanged) >= after);
  return jsonResponse(200, {
    title: parsed.data.title ?? 'Report',
    fields: fieldDescriptions(fields),
    employees: employees.map((employee) => project(employee, fields)),
  });
}

function benefitsDenied(company: BambooCompany): SandboxResponse | undefined {
  return company.access.benefitsAdministration
    ? undefined
    : bambooError(403, 'The authenticated user does not have Benefits Administration permissions.');
}

function dependents(
  request: SandboxRequest,
  company: BambooCompany,
  id: string | undefined,
): SandboxResponse {
  const denied = benefitsDenied(company);
  if (denied) return denied;
  if (id !== undefined) {
    const dependent = company.dependents.find((row) => row.id === id);
    if (!dependent) return bambooError(400, 'The specified dependent ID was not found.');
    return jsonResponse(200, { 'Employee Dependents': [dependent] });
  }
  const employeeId = request.url.searchParams.get('employeeid');
  return jsonResponse(200, {
    'Employee Dependents': company.dependents.filter(
      (row) => employeeId === null || row.employeeId === employeeId,
    ),
  });
}

function companyBenefits(company: BambooCompany): SandboxResponse {
  return benefitsDenied(company) ?? jsonResponse(200, company.companyBenefits);
}

const benefitFiltersSchema = z.object({
  filters: z
    .object({
      employeeId: z.union([z.number().int(), z.string()]).optional(),
      companyBenefitId: z.union([z.number().int(), z.string()]).optional(),
      enrollmentStatusEffectiveDate: z.string().optional(),
    })
    .refine((filters) => Object.values(filters).some((value) => value !== undefined), {
      message:
        'filters must contain at least one of employeeId, companyBenefitId or enrollmentStatusEffectiveDate',
    }),
});

/** GET benefit/employee_benefit with a JSON body of filters (a GET with a body, as documented). */
function employeeBenefits(request: SandboxRequest, company: BambooCompany): SandboxResponse {
  const denied = benefitsDenied(company);
  if (denied) return denied;
  let body: unknown;
  try {
    body = JSON.parse(request.body || 'null');
  } catch {
    return bambooError(400, 'Malformed JSON');
  }
  const parsed = benefitFiltersSchema.safeParse(body);
  if (!parsed.success) return bambooError(400, parsed.error.issues[0]?.message ?? 'Invalid filters');
  const { employeeId, companyBenefitId, enrollmentStatusEffectiveDate } = parsed.data.filters;
  const rows = company.employeeBenefits.filter(
    (row) =>
      (employeeId === undefined || String(row.employeeId) === String(employeeId)) &&
      (companyBenefitId === undefined || String(row.companyBenefitId) === String(companyBenefitId)) &&
      (enrollmentStatusEffectiveDate === undefined || row.effectiveDate === enrollmentStatusEffectiveDate),
  );
  const byEmployee = new Map<number, typeof rows>();
  for (const row of rows) byEmployee.set(row.employeeId, [...(byEmployee.get(row.employeeId) ?? []), row]);
  return jsonResponse(200, {
    employeeBenefits: [...byEmployee].map(([id, employeeBenefit]) => ({
      employeeId: id,
      payFrequency: company.employees.get(String(id))?.values.paySchedule ?? null,
      employeeBenefit,
    })),
  });
}

function metaFields(): SandboxResponse {
  return jsonResponse(
    200,
    (Object.keys(EMPLOYEE_FIELDS) as EmployeeFieldName[]).map((alias, index) => ({
      id: index + 1,
      name: EMPLOYEE_FIELDS[alias].name,
      type: EMPLOYEE_FIELDS[alias].type,
      alias,
    })),
  );
}

function metaLists(company: BambooCompany): SandboxResponse {
  const fieldIds: Record<keyof BambooCompany['lists'], number> = {
    department: 4,
    division: 17,
    jobTitle: 18,
    location: 19,
  };
  return jsonResponse(
    200,
    (Object.keys(company.lists) as (keyof BambooCompany['lists'])[]).map((alias) => ({
      fieldId: fieldIds[alias],
      alias,
      manageable: 'yes',
      multiple: 'no',
      name: EMPLOYEE_FIELDS[alias].name,
      options: company.lists[alias].map((option) => ({ ...option, archived: 'no' })),
    })),
  );
}
