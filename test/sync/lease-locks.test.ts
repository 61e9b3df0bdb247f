import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LEASE_SQL } from '../../src/sync/engine.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant } from '../helpers/fixtures.js';

const db = await createTestDatabase();

/** A statement that must not wait for a lock: fails with lock_not_available (55P03) instead. */
async function withoutWaiting(sql: string, params: unknown[]) {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL lock_timeout = '300ms'");
    const result = await client.query(sql, params);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

describe('run lease locks', () => {
  it('a page in flight never holds up the heartbeat, but holds up a takeover until it commits', async () => {
    const { account } = await createTestTenant(db, `Lease ${Math.random()}`);
    const runId = randomUUID();
    await db.pool.query(
      `INSERT INTO sync_runs (id, linked_account_id, kind, trigger, status, lease_expires_at, worker)
       VALUES ($1, $2, 'full', 'test', 'running', now() + interval '60 seconds', 'test:1')`,
      [runId, account.id],
    );
    // Two pages of the run in flight, each in its own transaction.
    const pages = [await db.pool.connect(), await db.pool.connect()];
    try {
      for (const page of pages) {
        await page.query('BEGIN');
        expect((await page.query(LEASE_SQL.hold, [runId])).rowCount).toBe(1);
      }
      // The heartbeat goes through at once.
      expect((await withoutWaiting(LEASE_SQL.renew, [runId, 60])).rowCount).toBe(1);
      // A takeover waits for the pages: here it gives up after its lock timeout.
      await expect(withoutWaiting(LEASE_SQL.fence, [account.id, null])).rejects.toMatchObject({
        code: '55P03',
      });
      for (const page of pages) await page.query('COMMIT');
      // With no page in flight the takeover proceeds; the old holder's next page then finds the
      // run no longer its own.
      expect((await withoutWaiting(LEASE_SQL.fence, [null, runId])).rowCount).toBe(1);
      await db.pool.query(`UPDATE sync_runs SET status = 'failed' WHERE id = $1`, [runId]);
      const late = pages[0] as (typeof pages)[number];
      await late.query('BEGIN');
      expect((await late.query(LEASE_SQL.hold, [runId])).rowCount).toBe(0);
      await late.query('ROLLBACK');
    } finally {
      for (const page of pages) page.release();
    }
  });
});
