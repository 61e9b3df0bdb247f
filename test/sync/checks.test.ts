import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/providers/types.js';
import {
  connectSandbox,
  sandboxCredentials,
  sandboxDependencies,
  startFileSandbox,
} from '../helpers/sandbox.js';

const sandbox = await startFileSandbox({ workers: 80, seed: 9 });
const deps = sandboxDependencies(sandbox);

async function checks(): Promise<Map<string, CheckResult>> {
  const results = new Map<string, CheckResult>();
  for await (const result of connectSandbox(crypto.randomUUID(), sandbox, deps).check())
    results.set(result.id, result);
  return results;
}

describe('connection checks: data completeness', () => {
  it('passes when key fields are filled, with the share of empty ones', async () => {
    const result = (await checks()).get('completeness:cdm_worker');
    expect(result?.status).toBe('ok');
    expect(result?.detail).toMatch(/Empty in a sample of 80 rows: cdm_firstname 0%/);
  });

  it('warns when a field is empty almost everywhere, pointing at column security', async () => {
    sandbox.controls.updateRecords('cdm_workers', { count: 80 }, { cdm_birthdate: null });
    const result = (await checks()).get('completeness:cdm_worker');
    expect(result?.status).toBe('warning');
    expect(result?.detail).toContain('cdm_birthdate 100%');
    expect(result?.remediation).toMatch(/cdm_birthdate is empty in most rows.*column security profile/);
  });
});

describe('connection checks: one cause, one item', () => {
  async function all(withFno = false): Promise<CheckResult[]> {
    const results: CheckResult[] = [];
    const credentials = sandboxCredentials(sandbox.defaultTenant, 'secret', withFno);
    for await (const result of connectSandbox(crypto.randomUUID(), sandbox, deps, credentials).check())
      results.push(result);
    return results;
  }

  it('shows every table unreadable for want of a security role as one failure with one fix', async () => {
    sandbox.controls.removeSecurityRole();
    try {
      const failures = (await all()).filter((result) => result.status === 'failure');
      expect(failures).toHaveLength(1);
      const [failure] = failures;
      expect(failure?.id).toBe('table:cdm_company');
      expect(failure?.title).toMatch(/^6 tables: companies \(cdm_company\), .*employees \(cdm_worker\)/);
      expect(failure?.detail).toMatch(/missing prvReadcdm_company privilege/);
      expect(failure?.remediation).toContain(
        'organization-level read on cdm_company, cdm_department, cdm_jobposition, cdm_worker, cdm_employment, cdm_benefitplan',
      );
      expect(failure?.remediation?.match(/security role/g)).toHaveLength(2);
    } finally {
      sandbox.controls.restoreSecurityRole();
    }
  });

  it('lets an F&O-only tenant connect: missing HR tables are one warning saying where each model comes from', async () => {
    for (const table of ['cdm_worker', 'cdm_company']) sandbox.controls.removeTable(table);
    try {
      const results = await all(true);
      expect(results.filter((result) => result.status === 'failure')).toEqual([]);
      const missing = results.filter((result) => result.detail.includes('does not exist'));
      // The two removed tables in one warning; the absent virtual table is no problem at all.
      expect(missing).toHaveLength(1);
      const warning = missing[0];
      expect(warning?.status).toBe('warning');
      expect(warning?.title).toBe('2 tables: companies (cdm_company), employees (cdm_worker)');
      expect(warning?.detail).toContain(
        'employees (cdm_worker): The cdm_worker table does not exist in this environment. Finance & Operations serves this model instead.',
      );
      // F&O serves every model, companies included (docs/fno-fallback.md).
      expect(warning?.detail).toContain(
        'companies (cdm_company): The cdm_company table does not exist in this environment. Finance & Operations serves this model instead.',
      );
      expect(warning?.detail).not.toContain('stays unavailable');
    } finally {
      for (const table of ['cdm_worker', 'cdm_company']) sandbox.controls.restoreTable(table);
    }
  });
});

describe('connection checks: the F&O step covers the models the plan sends to F&O', () => {
  async function fnoCheck(): Promise<CheckResult | undefined> {
    const credentials = sandboxCredentials(sandbox.defaultTenant, 'secret', true);
    for await (const result of connectSandbox(crypto.randomUUID(), sandbox, deps, credentials).check())
      if (result.id === 'fno') return result;
    return undefined;
  }

  it("does not warn about F&O's Worker entity while Dataverse serves employees, and names F&O's models", async () => {
    // Without LastName, $metadata no longer shows the Workers set as F&O's Worker entity.
    sandbox.controls.removeFnoField('Workers', 'LastName');
    try {
      const check = await fnoCheck();
      expect(check?.status).toBe('ok');
      expect(check?.detail).toContain('The plan reads dependents, benefit enrollments from F&O.');
      expect(check?.detail).toContain('WorkerPersonalContactPersons');
      expect(check?.detail).not.toContain('Workers,');
    } finally {
      sandbox.controls.restoreFnoField('Workers', 'LastName');
    }
  });

  it('warns about the Worker entity once employees come from F&O', async () => {
    sandbox.controls.removeFnoField('Workers', 'LastName');
    sandbox.controls.removeTable('cdm_worker');
    try {
      const check = await fnoCheck();
      expect(check?.status).toBe('warning');
      expect(check?.detail).toMatch(/^The plan reads employees, dependents, benefit enrollments from F&O\./);
      expect(check?.detail).toContain('F&O OData lacks Workers; those come from DMF exports');
    } finally {
      sandbox.controls.restoreTable('cdm_worker');
      sandbox.controls.restoreFnoField('Workers', 'LastName');
    }
  });
});
