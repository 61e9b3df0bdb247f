import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createHttpPool } from '../../src/providers/http-pool.js';
import type { BambooFacts } from '../../src/sandbox/bamboohr/simulator.js';

describe('sandbox CLI with --provider bamboohr', () => {
  it('prints the BambooHR company domain, API key and API root, and serves BambooHR until stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hris-sandbox-bamboohr-cli-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/sandbox/cli.ts', '--provider', 'bamboohr', '--workers', '20'].concat([
        '--port',
        '0',
        '--json',
        '--data-dir',
        dataDir,
      ]),
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
      });
      const facts = JSON.parse(firstLine) as BambooFacts;
      expect(facts).toMatchObject({
        companyDomain: 'acme',
        employees: 20,
        caCertPath: join(dataDir, 'ca.crt'),
      });
      expect(facts.apiKey).toMatch(/^[0-9a-f]{40}$/);
      const agent = createHttpPool({ caCertPem: readFileSync(facts.caCertPath, 'utf8') });
      const response = await request(`${facts.apiBaseUrl}/${facts.companyDomain}/v1/employees/directory`, {
        dispatcher: agent,
        headers: {
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${facts.apiKey}:anything`).toString('base64')}`,
        },
      });
      expect(response.statusCode).toBe(200);
      const directory = (await response.body.json()) as { employees: unknown[] };
      expect(directory.employees.length).toBeGreaterThan(0);
      await agent.close();
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
