import type pg from 'pg';
import type PgBoss from 'pg-boss';

/** Any fixed 64-bit key; only processes creating pg-boss queues take it. */
const QUEUE_CREATION_LOCK = 7_261_540_913;

/**
 * Starts pg-boss and creates (or confirms) a queue, one process at a time. createQueue creates the
 * queue's partition table; processes starting together (an API and two workers, say) can deadlock
 * there (PostgreSQL 40P01) and one of them would fail its start. A session advisory lock makes them
 * take turns; the later ones find the schema and the queue there.
 */
export async function startQueueInTurn(
  pool: pg.Pool,
  boss: PgBoss,
  name: string,
  options: PgBoss.Queue,
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [QUEUE_CREATION_LOCK]);
    await boss.start();
    await boss.createQueue(name, options);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [QUEUE_CREATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
