import type pg from 'pg';

/**
 * Runs `work` on one connection inside BEGIN … COMMIT; any error rolls everything back. A process
 * killed inside `work` leaves nothing either: PostgreSQL aborts the open transaction when the
 * connection drops.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
