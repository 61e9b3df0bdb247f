import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Starts the child that joins the server; resolves with its first line and a way to release it. */
async function joinFromAnotherProcess(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/db/fixtures/embedded-child.ts'], {
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  return {
    first,
    async release() {
      child.stdin!.end();
      const released = (await lines.next()).value as string;
      await new Promise((resolve) => child.once('exit', resolve));
      return released;
    },
  };
}

describe('embedded PostgreSQL under DATA_DIR', () => {
  it('is shared by processes, stopped by the last one out, and keeps its data across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hris-embedded-'));
    const first = await startEmbeddedPostgres({ dataDir });
    expect(first.startedHere).toBe(true);
    await query(first.url, 'CREATE TABLE kept (value text); INSERT INTO kept VALUES ($$survives$$)');

    // A second process (the CLI beside a running gateway) finds the running server instead of starting one.
    const other = await joinFromAnotherProcess(dataDir);
    expect(other.first).toBe(`port ${first.port} false`);

    // The first process leaves; the other still uses the server, so it keeps running.
    await first.release();
    expect((await query(first.url, 'SELECT value FROM kept'))[0]).toEqual({ value: 'survives' });

    // The last one out stops it.
    expect(await other.release()).toBe('released');
    expect(existsSync(join(first.dataDir, 'postmaster.pid'))).toBe(false);
    await expect(query(first.url, 'SELECT 1')).rejects.toThrow();

    // Started again, the data is still there.
    const again = await startEmbeddedPostgres({ dataDir });
    expect(again.startedHere).toBe(true);
    expect((await query(again.url, 'SELECT value FROM kept'))[0]).toEqual({ value: 'survives' });
    await again.release();
  });
});
