import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** What one autocannon run measured. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  requests: number;
}

/**
 * Drives `url` with autocannon in its own process (its CLI, JSON output): in the benchmark's process
 * it would share the event loop with whatever it measures and slow it down.
 */
export async function driveLoad(options: {
  url: string;
  headers: Record<string, string>;
  seconds: number;
  connections: number;
}): Promise<LoadResult> {
  const cli = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));
  const headerArgs = Object.entries(options.headers).flatMap(([name, value]) => ['-H', `${name}=${value}`]);
  const child = spawn(
    process.execPath,
    [cli, '-j', '-c', String(options.connections), '-d', String(options.seconds), ...headerArgs, options.url],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const result = JSON.parse(output) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    non2xx: number;
    errors: number;
  };
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    requests: result.requests.total,
  };
}
