import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { migrate } from './migrate.js';

/**
 * One connection pool per process, shared by Prisma (typed CRUD: platforms, keys, accounts) and by
 * the hot read and bulk-write paths that run plain SQL on the same pool.
 */
export interface Database {
  url: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  /** Where the data lives, for the start-up log. */
  description: string;
  close(): Promise<void>;
}

// Column types returned as API-ready values: dates stay 'YYYY-MM-DD' (no time zone shift through a
// JS Date), bigint and numeric become numbers (amounts here are far below 2^53).
const PG_DATE = 1082;
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === PG_DATE) return (value: string) => value;
    if (oid === PG_INT8 || oid === PG_NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(url: string, max: number): pg.Pool {
  // UTC sessions: timestamps PostgreSQL renders as JSON (the API's records) carry +00:00 whatever
  // the server's own TimeZone setting.
  const pool = new pg.Pool({ connectionString: url, max, types: typeParsers, options: '-c TimeZone=UTC' });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export function connectDatabase(url: string, poolSize: number, description = url): Database {
  const pool = createPool(url, poolSize);
  const prisma = new PrismaClient({ adapter: new PrismaPg(createPool(url, 2)) });
  return {
    url,
    pool,
    prisma,
    description,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** Redacts the password of a connection URL for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

/**
 * DATABASE_URL set: use that server. Unset: start (or join) the embedded PostgreSQL under DATA_DIR.
 * Pending migrations are applied either way, under an advisory lock.
 */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'EMBEDDED_POSTGRES_PORT' | 'DB_POOL_SIZE'>,
  log: (message: string) => void,
): Promise<Database> {
  if (config.DATABASE_URL) {
    await migrate(config.DATABASE_URL);
    return connectDatabase(config.DATABASE_URL, config.DB_POOL_SIZE, redactUrl(config.DATABASE_URL));
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: config.DATA_DIR,
    port: config.EMBEDDED_POSTGRES_PORT,
    log,
  });
  try {
    await migrate(embedded.url);
  } catch (error) {
    await embedded.release();
    throw error;
  }
  const database = connectDatabase(
    embedded.url,
    config.DB_POOL_SIZE,
    `embedded PostgreSQL on 127.0.0.1:${embedded.port}, data in ${embedded.dataDir}`,
  );
  return {
    ...database,
    async close() {
      await database.close();
      await embedded.release();
    },
  };
}
