import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';

const db = await createTestDatabase();

/** `npm start -- --role <role>` as a real process on the test database; collects its log lines. */
function startServer(role: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', role], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-role-')),
      PORT: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  }
  return { child, lines };
}

async function waitFor(lines: string[], pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = lines.find((line) => pattern.test(line));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(child: ChildProcess): Promise<number | null> {
  child.kill('SIGTERM');
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('--role', () => {
  it('worker: starts the sync worker without an HTTP listener, and stops cleanly', async () => {
    const { child, lines } = startServer('worker');
    await waitFor(lines, /sync worker ready/);
    expect(lines.some((line) => line.includes('Server listening'))).toBe(false);
    expect(await stop(child)).toBe(0);
  });

  it('api: serves the API', async () => {
    const { child, lines } = startServer('api');
    const listening = await waitFor(lines, /Server listening at/);
    const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening)?.[1];
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(await stop(child)).toBe(0);
  });

  it('refuses an unknown role, naming the setting', async () => {
    const { child, lines } = startServer('everything');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(lines.join('\n')).toMatch(/ROLE/);
  });
});
