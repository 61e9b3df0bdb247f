import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { DynamicsConnection } from '../../src/providers/dynamics/connection.js';
import type { DynamicsCredentials } from '../../src/providers/dynamics/credentials.js';
import { diagnose } from '../../src/providers/dynamics/diagnose.js';
import { requestSandboxToken } from '../../src/sandbox/token.js';
import { SyncEngine } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';
import { sandboxCredentials, sandboxDependencies, startFileSandbox } from '../helpers/sandbox.js';

/**
 * DMF wire behaviour from Microsoft's "Data management package REST API" page and public reports
 * (docs/microsoft-wire.md, "DMF package API"): the manifest's source format, an execution F&O does not
 * know yet (or never creates), and exports of a change-tracked data project, which are deltas.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 60, seed: 9, dmfExportDurationMs: 200 });
const deps = sandboxDependencies(sandbox, { pageSize: 500 });
const engine = new SyncEngine(db.pool);
const tenant = sandbox.defaultTenant;

async function account(dmf: NonNullable<DynamicsCredentials['dmf']>, name: string) {
  const { account } = await createTestTenant(db, `${name} ${Math.random()}`);
  const credentials: DynamicsCredentials = {
    ...sandboxCredentials(tenant, 'secret', true),
    sources: { dependents: 'dmf' },
    dmf,
  };
  const connection = new DynamicsConnection(account.id, credentials, deps);
  const sync = () => engine.run({ linkedAccountId: account.id, connection, kind: 'full', trigger: 'test' });
  return { id: account.id, sync };
}

async function dependents(accountId: string) {
  const { rows } = await db.pool.query<{
    remote_id: string;
    last_name: string | null;
    remote_was_deleted: boolean;
  }>(
    'SELECT remote_id, last_name, remote_was_deleted FROM dependents WHERE linked_account_id = $1 ORDER BY remote_id',
    [accountId],
  );
  return rows;
}

const dependentKeys = () =>
  tenant.truth.dependents
    .filter((contact) => contact.IsDependent === 'Yes')
    .map((contact) => `${contact.WorkerPersonnelNumber}:${contact.ContactPersonPartyNumber}`)
    .sort();

describe('DMF package API as documented and reported', () => {
  it('refuses a data file whose manifest source format is not CSV, naming the format and the fix', async () => {
    const xml = await account(
      { definitionGroup: 'HR export XML', legalEntityId: '', timeoutSeconds: 60 },
      'XML',
    );
    const result = await xml.sync();
    expect(result.status).toBe('failed');
    const error = result.errors.find((entry) => entry.sourceTable.startsWith('dmf:'))?.error;
    expect(String(error)).toMatch(/as XML-Element; the gateway reads CSV data files only/);
    expect(diagnose(error)).toMatchObject({ status: 'error_config' });
    expect(diagnose(error)?.reason).toContain('CSV source data format');
    expect(await dependents(xml.id)).toEqual([]);
  });

  it('waits out "execution details were not found" right after ExportToPackage', async () => {
    tenant.controls.setDmfExportBehaviour({ notFoundForMs: 1200 });
    try {
      // The sandbox answers as reported (microsoft/Recurring-Integrations-Scheduler#71) ...
      const token = await requestSandboxToken(deps.dispatcher, tenant, tenant.fnoUrl);
      const action = (name: string, body: unknown) =>
        request(
          `${tenant.fnoUrl}/data/DataManagementDefinitionGroups/Microsoft.Dynamics.DataEntities.${name}`,
          {
            method: 'POST',
            dispatcher: deps.dispatcher,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          },
        );
      const started = await action('ExportToPackage', {
        definitionGroupId: 'HR export',
        packageName: 'p.zip',
        executionId: '',
        reExecute: false,
        legalEntityId: '',
      });
      const { value: executionId } = (await started.body.json()) as { value: string };
      const status = await action('GetExecutionSummaryStatus', { executionId });
      expect(status.statusCode).toBe(400);
      expect(await status.body.text()).toContain(
        `Execution details were not found for execution id: ${executionId}`,
      );
      // ... and the gateway keeps polling until the execution exists.
      const patient = await account(
        { definitionGroup: 'HR export', legalEntityId: '', timeoutSeconds: 60 },
        'NotFound',
      );
      const result = await patient.sync();
      expect(result.errors.map((entry) => String(entry.error))).toEqual([]);
      expect((await dependents(patient.id)).map((row) => row.remote_id)).toEqual(dependentKeys());
    } finally {
      tenant.controls.setDmfExportBehaviour({ notFoundForMs: 0 });
    }
  });

  it('gives up on an execution that stays Unknown after its own bound, long before the export time limit', async () => {
    tenant.controls.setDmfExportBehaviour({ loseExecutions: true });
    try {
      const lost = await account(
        { definitionGroup: 'HR export', legalEntityId: '', timeoutSeconds: 600, unknownTimeoutSeconds: 1 },
        'Lost',
      );
      const started = Date.now();
      const result = await lost.sync();
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.status).toBe('failed');
      const error = result.errors.find((entry) => entry.sourceTable.startsWith('dmf:'))?.error;
      expect(String(error)).toMatch(
        /F&O still does not know DMF execution .* \(status Unknown\): the export job was not created/,
      );
      expect(diagnose(error)?.reason).toContain('Job history');
    } finally {
      tenant.controls.setDmfExportBehaviour({ loseExecutions: false });
    }
  });

  it('applies an export of a change-tracked data project as a delta: updates, and never deletes what it omits', async () => {
    const tracked = await account(
      { definitionGroup: 'HR export tracked', legalEntityId: '', timeoutSeconds: 60 },
      'Tracked',
    );
    const first = await tracked.sync();
    expect(first.errors.map((entry) => String(entry.error))).toEqual([]);
    expect((await dependents(tracked.id)).map((row) => row.remote_id)).toEqual(dependentKeys());

    const unchanged = await tracked.sync();
    expect(unchanged.stats.dependents).toMatchObject({ created: 0, updated: 0, deleted: 0 });

    const before = dependentKeys();
    const updatedKeys = tenant.controls.updateFnoRecords(
      'WorkerPersonalContactPersons',
      { count: 3 },
      {
        ContactLastName: 'Tracked Change',
      },
    );
    tenant.controls.deleteFnoRecords('WorkerPersonalContactPersons', { count: 4 });
    const delta = await tracked.sync();
    expect(delta.status).toBe('succeeded');
    expect(delta.stats.dependents?.deleted).toBe(0);
    const stored = await dependents(tracked.id);
    // Rows the delta omitted (unchanged, or deleted in F&O) are kept; none is marked deleted.
    expect(stored.map((row) => row.remote_id)).toEqual(before);
    expect(stored.every((row) => !row.remote_was_deleted)).toBe(true);
    const renamed = stored.filter((row) => row.last_name === 'Tracked Change');
    expect(renamed.length).toBeGreaterThan(0);
    expect(renamed.length).toBeLessThanOrEqual(updatedKeys.length);
    expect(delta.stats.dependents?.updated).toBe(renamed.length);
  });
});
