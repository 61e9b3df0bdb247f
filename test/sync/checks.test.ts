import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/providers/types.js';
import { connectSandbox, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

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
