import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxTenant } from '../../src/sandbox/index.js';
import { fetchToken, getJson, startTestSandbox } from './helpers.js';

let sandbox: Sandbox;
let agent: Agent;
let tenant: SandboxTenant;
let token: string;
let root: string;

beforeAll(async () => {
  ({ sandbox, agent } = await startTestSandbox({ workers: 60 }));
  tenant = sandbox.defaultTenant;
  token = await fetchToken(agent, tenant, tenant.dataverseUrl);
  root = `${tenant.dataverseUrl}/api/data/v9.2/`;
});
afterAll(async () => {
  await agent.close();
  await sandbox.close();
});

type Page = Record<string, unknown> & { value: Array<Record<string, unknown>> };
const get = (url: string, prefer = 'odata.track-changes,odata.maxpagesize=25') =>
  getJson<Page>(agent, url.startsWith('https:') ? url : `${root}${url}`, {
    authorization: `Bearer ${token}`,
    prefer,
  });

async function initialLoad(): Promise<{ ids: Set<string>; deltaLink: string; pages: Page[] }> {
  const ids = new Set<string>();
  const pages: Page[] = [];
  let url: string | undefined = 'cdm_workers?$select=cdm_firstname,cdm_lastname';
  while (url) {
    const { body, status, headers } = await get(url);
    expect(status).toBe(200);
    expect(String(headers['preference-applied'])).toContain('odata.track-changes');
    pages.push(body);
    for (const row of body.value) ids.add(String(row.cdm_workerid));
    if (body['@odata.deltaLink']) return { ids, deltaLink: String(body['@odata.deltaLink']), pages };
    url = body['@odata.nextLink'] as string | undefined;
  }
  throw new Error('no deltaLink');
}

describe('Dataverse change tracking (docs/microsoft-wire.md, Change tracking)', () => {
  it('pages the initial load and puts the deltaLink on the last page only', async () => {
    const { ids, deltaLink, pages } = await initialLoad();
    expect(ids.size).toBe(sandbox.truth.workers.length);
    expect(pages).toHaveLength(3);
    for (const page of pages.slice(0, -1)) {
      expect(page['@odata.nextLink']).toBeDefined();
      expect(page['@odata.deltaLink']).toBeUndefined();
    }
    expect(deltaLink).toMatch(
      new RegExp(
        `^${root.replace(/[.$?]/g, '\\$&')}cdm_workers\\?\\$select=cdm_firstname,cdm_lastname&\\$deltatoken=\\d+%21\\d{2}%2f\\d{2}%2f\\d{4}%20\\d{2}%3a\\d{2}%3a\\d{2}$`,
      ),
    );
  });

  it('returns an empty delta with a fresh deltaLink when nothing changed', async () => {
    const { deltaLink } = await initialLoad();
    const { body } = await get(deltaLink, 'odata.track-changes');
    expect(body.value).toEqual([]);
    expect(String(body['@odata.context'])).toBe(
      `${root}$metadata#cdm_workers(cdm_firstname,cdm_lastname)/$delta`,
    );
    expect(body['@odata.deltaLink']).toBeDefined();
  });

  it('returns changed and created rows, then $deletedEntity rows', async () => {
    const { deltaLink } = await initialLoad();
    const updated = sandbox.controls.updateRecords('cdm_workers', { count: 3 }, { cdm_lastname: 'Changed' });
    const created = sandbox.controls.createRecords('cdm_worker', 2);
    const deleted = sandbox.controls.deleteRecords('cdm_workers', { count: 2 });
    const { body } = await get(deltaLink, 'odata.track-changes');
    const changedRows = body.value.filter((row) => !('reason' in row));
    const deletedRows = body.value.filter((row) => row.reason === 'deleted');
    expect(body.value.indexOf(deletedRows[0] as Record<string, unknown>)).toBe(changedRows.length);
    const stillPresent = [...updated, ...created].filter((id) => !deleted.includes(id));
    expect(changedRows.map((row) => row.cdm_workerid).sort()).toEqual(stillPresent.sort());
    expect(deletedRows).toEqual(
      deleted.map((id) => ({
        '@odata.context': `${root}$metadata#cdm_workers/$deletedEntity`,
        id,
        reason: 'deleted',
      })),
    );
    for (const row of changedRows.filter((candidate) => updated.includes(String(candidate.cdm_workerid)))) {
      expect(row.cdm_lastname).toBe('Changed');
    }
    const next = await get(String(body['@odata.deltaLink']), 'odata.track-changes');
    expect(next.body.value).toEqual([]);
  });

  it('pages a large delta and pins it: changes made while paging go to the next delta', async () => {
    const { deltaLink } = await initialLoad();
    const updated = sandbox.controls.updateRecords('cdm_workers', { count: 30 });
    const deleted = sandbox.controls.deleteRecords('cdm_workers', { count: 12 });
    const seenChanged = new Set<string>();
    const seenDeleted = new Set<string>();
    let url: string | undefined = deltaLink;
    let pages = 0;
    let nextDeltaLink = '';
    while (url) {
      const { body } = await get(url, 'odata.track-changes,odata.maxpagesize=10');
      expect(body.value.length).toBeLessThanOrEqual(10);
      for (const row of body.value) {
        if (row.reason === 'deleted') seenDeleted.add(String(row.id));
        else seenChanged.add(String(row.cdm_workerid));
      }
      if (pages === 0)
        sandbox.controls.updateRecords('cdm_workers', {
          ids: [sandbox.truth.workers[0]?.cdm_workerid as string],
        });
      pages++;
      nextDeltaLink = String(body['@odata.deltaLink'] ?? '');
      url = body['@odata.nextLink'] as string | undefined;
      if (url) expect(body['@odata.deltaLink']).toBeUndefined();
    }
    expect(pages).toBeGreaterThan(2);
    expect([...seenChanged].sort()).toEqual(updated.filter((id) => !deleted.includes(id)).sort());
    expect([...seenDeleted].sort()).toEqual([...deleted].sort());
    const following = await get(nextDeltaLink, 'odata.track-changes');
    expect(following.body.value.map((row) => row.cdm_workerid)).toEqual([
      sandbox.truth.workers[0]?.cdm_workerid,
    ]);
  });

  it('rejects query options under change tracking', async () => {
    for (const option of [
      "$filter=cdm_firstname eq 'A'",
      '$orderby=cdm_firstname',
      '$top=2',
      '$expand=cdm_ManagerWorkerId',
    ]) {
      const { status, body } = await get(`cdm_workers?$select=cdm_firstname&${option}`);
      const name = option.split('=')[0];
      expect(status).toBe(400);
      expect((body as unknown as { error: { message: string } }).error.message).toBe(
        `The "${name}" query parameter isn't supported when Change Tracking is enabled.`,
      );
    }
  });

  it('expires delta tokens with 0x80044352, reversibly', async () => {
    const { deltaLink } = await initialLoad();
    sandbox.controls.expireDeltaTokens();
    const expired = await get(deltaLink, 'odata.track-changes');
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual({
      error: {
        code: '0x80044352',
        message: 'Version stamp associated with the client has expired. Please perform a full sync.',
      },
    });
    sandbox.controls.restoreDeltaTokens();
    expect((await get(deltaLink, 'odata.track-changes')).status).toBe(200);
  });

  it('expires tokens older than the retention period', async () => {
    const stale = `${root}cdm_workers?$select=cdm_firstname&$deltatoken=${encodeURIComponent('1000001!01/02/2020 10:00:00')}`;
    const { status, body } = await get(stale, 'odata.track-changes');
    expect(status).toBe(400);
    expect((body as unknown as { error: { code: string } }).error.code).toBe('0x80044352');
  });

  it('refuses change tracking on a table where it is turned off, reversibly', async () => {
    sandbox.controls.setChangeTracking('cdm_workers', false);
    const definition = await get(
      "EntityDefinitions(LogicalName='cdm_worker')?$select=ChangeTrackingEnabled",
      '',
    );
    expect(definition.body.ChangeTrackingEnabled).toBe(false);
    expect((await get('cdm_workers?$select=cdm_firstname')).status).toBe(400);
    sandbox.controls.setChangeTracking('cdm_workers', true);
    expect((await get('cdm_workers?$select=cdm_firstname')).status).toBe(200);
  });
});
