import {
  addTableRows,
  type BambooCompany,
  type BambooEmployee,
  bambooTimestamp,
  type EmployeeValues,
  payOf,
} from './company.js';

/**
 * Changes to a simulated BambooHR company, as an administrator would make them in BambooHR; each
 * moves the employee's last-changed timestamp, so the changed-since endpoints report it
 * (docs/sandbox.md, "BambooHR controls").
 */
export interface BambooControls {
  createEmployees(count: number): string[];
  /** Applies `changes` (default: a new preferred name and pay rate) to the chosen employees. */
  updateEmployees(selection: { count?: number; ids?: string[] }, changes?: Partial<EmployeeValues>): string[];
  deleteEmployees(selection: { count?: number; ids?: string[] }): string[];
  /** Deletes dependents (not an employee change: the dependents endpoint simply stops listing them). */
  deleteDependents(count: number): string[];
  /** The API key's user is disabled (403) or enabled again. */
  setKeyEnabled(enabled: boolean): void;
  /** What the key's user may read: benefits administration (dependents, benefits) and compensation. */
  setAccess(access: { benefitsAdministration?: boolean; compensation?: boolean }): void;
  /** Replaces the API key (the old one then gets 401); returns the new key. */
  rotateApiKey(): string;
  /** Rate limiting of the key: requests per window, and the status of a refused request. */
  setRateLimit(limit: { requestLimit?: number; windowSeconds?: number; status?: 429 | 503 }): void;
}

export interface RateLimitSettings {
  requestLimit: number;
  windowSeconds: number;
  status: 429 | 503;
}

export function createBambooControls(
  company: BambooCompany,
  rateLimit: RateLimitSettings,
  now: () => Date,
): BambooControls {
  const pick = (selection: { count?: number; ids?: string[] }): BambooEmployee[] => {
    if (selection.ids) {
      return selection.ids.map((id) => {
        const employee = company.employees.get(id);
        if (!employee) throw new Error(`No BambooHR employee ${id}`);
        return employee;
      });
    }
    return [...company.employees.values()].slice(0, selection.count ?? 1);
  };
  const touch = (employee: BambooEmployee, action: BambooEmployee['lastAction']): void => {
    employee.lastChanged = bambooTimestamp(now());
    employee.lastAction = action;
  };
  return {
    createEmployees(count) {
      const existing = [...company.employees.values()];
      const ids: string[] = [];
      for (let index = 0; index < count; index++) {
        const id = String(company.nextEmployeeId++);
        const template = existing[company.random.int(0, Math.max(0, existing.length - 1))];
        const first = template?.values.firstName ?? 'Alex';
        const last = `${template?.values.lastName ?? 'Doe'}-${id}`;
        const pay = payOf(company.random, false);
        const today = now().toISOString().slice(0, 10);
        const values: EmployeeValues = {
          ...(template?.values as EmployeeValues),
          employeeNumber: `B${id.padStart(6, '0')}`,
          firstName: first,
          middleName: null,
          lastName: last,
          preferredName: null,
          displayName: `${first} ${last}`,
          workEmail: `${first}.${last}@example.com`.toLowerCase(),
          status: 'Active',
          employmentHistoryStatus: 'Full-Time',
          hireDate: today,
          originalHireDate: today,
          terminationDate: null,
          payRate: `${pay.rate} USD`,
          payType: pay.type,
          payPer: pay.per,
          paySchedule: pay.schedule,
        };
        const employee: BambooEmployee = { id, values, lastChanged: '', lastAction: 'Inserted' };
        touch(employee, 'Inserted');
        company.employees.set(id, employee);
        company.deleted.delete(id);
        addTableRows(company, id, values);
        ids.push(id);
      }
      return ids;
    },
    updateEmployees(selection, changes) {
      return pick(selection).map((employee) => {
        const applied: Partial<EmployeeValues> = changes ?? {
          preferredName: `${employee.values.firstName ?? ''}ie`,
          payRate: `${Number.parseFloat(employee.values.payRate ?? '0') + 1000}.00 USD`,
        };
        Object.assign(employee.values, applied);
        if (applied.payRate !== undefined) {
          // A raise is a new compensation row; the previous one ends the day before.
          const rows = company.tables.compensation.filter((row) => row.employeeId === employee.id);
          const today = now().toISOString().slice(0, 10);
          for (const row of rows) if (row.endDate === null) row.endDate = today;
          company.tables.compensation.push({
            ...(rows[rows.length - 1] ?? { employeeId: employee.id }),
            id: String(company.nextRowId++),
            employeeId: employee.id,
            startDate: today,
            endDate: null,
            rate: applied.payRate,
            reason: 'Merit',
          } as (typeof rows)[number]);
        }
        touch(employee, 'Updated');
        return employee.id;
      });
    },
    deleteEmployees(selection) {
      return pick(selection).map((employee) => {
        company.employees.delete(employee.id);
        company.deleted.set(employee.id, { id: employee.id, lastChanged: bambooTimestamp(now()) });
        for (const table of Object.values(company.tables)) {
          for (let index = table.length - 1; index >= 0; index--) {
            if (table[index]?.employeeId === employee.id) table.splice(index, 1);
          }
        }
        company.dependents = company.dependents.filter((row) => row.employeeId !== employee.id);
        company.employeeBenefits = company.employeeBenefits.filter(
          (row) => String(row.employeeId) !== employee.id,
        );
        return employee.id;
      });
    },
    deleteDependents(count) {
      const removed = company.dependents.slice(0, count);
      company.dependents = company.dependents.slice(count);
      return removed.map((row) => row.id);
    },
    setKeyEnabled(enabled) {
      company.access.enabled = enabled;
    },
    setAccess(access) {
      Object.assign(company.access, access);
    },
    rotateApiKey() {
      company.apiKey = `${company.apiKey.slice(0, 8)}${company.random.guid().replaceAll('-', '')}`.slice(
        0,
        40,
      );
      return company.apiKey;
    },
    setRateLimit(limit) {
      Object.assign(rateLimit, limit);
    },
  };
}
