import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { DEMO_USAGE, runDemo } from '../../src/cli/demo.js';
import { PROVIDER_IDS } from '../../src/providers/registry.js';
import { startReceiver } from '../webhooks/receiver.js';

describe('hris demo', () => {
  it('serves a synced sandbox tenant through the API and keeps syncing its changes', async () => {
    let stdout = '';
    let stop: (value?: unknown) => void = () => {};
    const stopSignal = new Promise((resolve) => {
      stop = resolve;
    });
    let exitCode: Promise<number> = Promise.resolve(-1);
    const printed = new Promise<Record<string, string>>((resolve) => {
      const exited = runDemo(['--workers', '60', '--json', '--port', '0'], {
        stdout: (text) => {
          stdout += text;
          if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!));
        },
        stderr: () => {},
        env: { ...process.env, DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-demo-')), LOG_LEVEL: 'silent' },
        stopSignal,
      });
      exitCode = exited;
    });
    const facts = await printed;
    expect(Object.keys(facts).sort()).toEqual([
      'account_token',
      'api_key',
      'base_url',
      'linked_account_id',
      'sandbox_url',
    ]);
    const headers = { authorization: `Bearer ${facts.api_key}`, 'x-account-token': facts.account_token! };
    const list = async () =>
      (await (await request(`${facts.base_url}/v1/employees?page_size=500`, { headers })).body.json()) as {
        results: Array<{ last_name: string }>;
      };
    expect((await list()).results).toHaveLength(60);

    // A webhook endpoint on this machine (the demo allows private URLs) hears about the change below.
    const receiver = await startReceiver();
    const endpoint = await request(`${facts.base_url}/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { authorization: headers.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/demo`, event_types: ['employee.updated'] }),
    });
    expect(endpoint.statusCode).toBe(201);
    await endpoint.body.dump();

    // A change made in the sandbox arrives after the next sync.
    const sandboxAgent = new Agent({ connect: { rejectUnauthorized: false } });
    const changed = await request(`${facts.sandbox_url}/_sandbox/tenants/contoso/records/update`, {
      method: 'POST',
      dispatcher: sandboxAgent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ table: 'cdm_workers', count: 2, changes: { cdm_lastname: 'Demo-Changed' } }),
    });
    expect(changed.statusCode).toBe(200);
    await changed.body.dump();
    await sandboxAgent.close();
    const sync = await request(`${facts.base_url}/v1/sync`, { method: 'POST', headers });
    expect(sync.statusCode).toBe(202);
    await sync.body.dump();
    const deadline = Date.now() + 20_000;
    let renamed = 0;
    while (renamed < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      renamed = (await list()).results.filter((employee) => employee.last_name === 'Demo-Changed').length;
    }
    expect(renamed).toBe(2);
    await receiver.waitFor((all) => all.filter((r) => r.json.type === 'employee.updated').length === 2);
    stop();
    expect(await exitCode).toBe(0);
  });

  it('links any registered provider by id, through its simulator, and names the registry ids otherwise', async () => {
    for (const id of PROVIDER_IDS) expect(DEMO_USAGE).toContain(id);
    const io = { stdout: () => {}, stderr: () => {} };
    await expect(runDemo(['--provider', 'nohris'], io)).rejects.toThrow(
      `--provider must be one of ${PROVIDER_IDS.join(', ')}`,
    );

    let stdout = '';
    let stop: (value?: unknown) => void = () => {};
    const stopSignal = new Promise((resolve) => {
      stop = resolve;
    });
    let exitCode: Promise<number> = Promise.resolve(-1);
    const printed = new Promise<Record<string, string>>((resolve) => {
      exitCode = runDemo(['--provider', 'bamboohr', '--workers', '30', '--json', '--port', '0'], {
        stdout: (text) => {
          stdout += text;
          if (stdout.includes('\n')) resolve(JSON.parse(stdout.split('\n')[0]!));
        },
        stderr: () => {},
        env: { ...process.env, DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-demo-')), LOG_LEVEL: 'silent' },
        stopSignal,
      });
    });
    const facts = await printed;
    const headers = { authorization: `Bearer ${facts.api_key}`, 'x-account-token': facts.account_token! };
    const account = await request(`${facts.base_url}/v1/linked-accounts/${facts.linked_account_id}`, {
      headers,
    });
    expect(((await account.body.json()) as { provider: string }).provider).toBe('bamboohr');
    const employees = await request(`${facts.base_url}/v1/employees?page_size=500`, { headers });
    expect(((await employees.body.json()) as { results: unknown[] }).results).toHaveLength(30);
    stop();
    expect(await exitCode).toBe(0);
  });
});
