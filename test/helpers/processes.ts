import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Real gateway processes for the crash tests: `src/server.ts --role worker` on a test database,
 * with its log lines collected, killable with any signal.
 */
export interface GatewayProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves once the worker logged that it is ready. */
  ready: Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful) unless it already exited. */
  stop(): Promise<void>;
}

export function startWorkerProcess(databaseUrl: string, env: Record<string, string> = {}): GatewayProcess {
  return startGatewayProcess('worker', databaseUrl, env);
}

/** `src/server.ts --role <role>`; ready once it logs that its worker is ready or it listens. */
export function startGatewayProcess(
  role: 'worker' | 'api' | 'all',
  databaseUrl: string,
  env: Record<string, string> = {},
): GatewayProcess & { url: () => string | undefined } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', '--role', role], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'hris-worker-')),
      LOG_LEVEL: 'info',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitedYet = false;
  void exited.then(() => {
    exitedYet = true;
  });
  const ready = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('sync worker ready') || line.includes('Server listening')) resolve();
      });
    }
    child.once('exit', (code) =>
      reject(new Error(`worker exited (${code}) before ready:\n${lines.join('\n')}`)),
    );
  });
  ready.catch(() => undefined);
  const kill = async (signal: NodeJS.Signals) => {
    if (exitedYet) return;
    child.kill(signal);
    await exited;
  };
  const url = () => {
    for (const line of lines) {
      const found = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1];
      if (found && line.includes('Server listening')) return found;
    }
    return undefined;
  };
  return { child, lines, ready, kill, stop: () => kill('SIGTERM'), url };
}

/** Polls `condition` until it holds, or fails after `timeoutMs`. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
