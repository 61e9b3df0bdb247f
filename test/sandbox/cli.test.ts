import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createHttpPool } from '../../src/providers/http-pool.js';
import type { SandboxFacts } from '../../src/sandbox/dynamics/simulator.js';
import { getJson } from './helpers.js';

describe('sandbox CLI', () => {
  it('prints the connect facts as JSON and serves them until stopped', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hris-sandbox-cli-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/sandbox/cli.ts',
        '--workers',
        '20',
        '--port',
        '0',
        '--json',
        '--data-dir',
        dataDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
      });
      const facts = JSON.parse(firstLine) as SandboxFacts;
      expect(facts).toMatchObject({ workers: 20, seed: 42, caCertPath: join(dataDir, 'ca.crt') });
      expect(readFileSync(facts.certificatePath, 'utf8')).toContain('BEGIN CERTIFICATE');
      expect(readFileSync(facts.privateKeyPath, 'utf8')).toContain('BEGIN PRIVATE KEY');
      const agent = createHttpPool({ caCertPem: readFileSync(facts.caCertPath, 'utf8') });
      const discovery = await getJson(agent, `${facts.authority}/v2.0/.well-known/openid-configuration`);
      expect(discovery.body.token_endpoint).toBe(`${facts.authority}/oauth2/v2.0/token`);
      await agent.close();
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
