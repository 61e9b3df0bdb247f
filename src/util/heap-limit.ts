import { spawn } from 'node:child_process';

/**
 * A sync worker caps its own V8 heap (docs/configuration.md, "Memory of sync workers"). V8 grows its
 * heap lazily towards a limit derived from the machine's memory, so an uncapped worker on a large host
 * holds far more than a sync needs; the limit can only be set when the process starts, so a worker
 * started without one starts itself again with `--max-old-space-size` and stays attached to that child:
 * same stdio, signals passed on, the child's exit code or signal as its own, and the child ends at
 * once if this process is killed (even with SIGKILL, through the IPC channel closing).
 */

/**
 * Set in the child's environment to the launcher's pid: the child is the relaunched process and
 * must not relaunch again.
 */
const RELAUNCHED = 'HRIS_HEAP_LIMIT_RELAUNCHED';

/**
 * The pid operators and supervisors know this process by: the launcher's when this is its relaunched
 * child (killing the launcher ends the child), else its own. Names the process in sync runs.
 */
export function supervisedPid(): number {
  const launcher = Number(process.env[RELAUNCHED]);
  return launcher > 0 && launcher === process.ppid ? launcher : process.pid;
}

/** True when the operator already chose a heap limit (a node flag or NODE_OPTIONS). */
export function heapLimitGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) =>
    /^--max[-_]old[-_]space[-_]size(=|$)/.test(flag),
  );
}

/** Whether this process should relaunch itself with a heap limit of `limitMb` (0 = never). */
export function needsHeapLimit(limitMb: number): boolean {
  if (limitMb <= 0 || process.env[RELAUNCHED]) return false;
  return !heapLimitGiven(process.execArgv, process.env.NODE_OPTIONS);
}

/**
 * In the relaunched child: end at once when the parent goes away (its IPC channel closes), as if the
 * signal that killed the parent had reached this process.
 */
export function followParentLifetime(): void {
  if (!process.env[RELAUNCHED] || !process.connected) return;
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  // The channel must not keep an otherwise finished process alive.
  process.channel?.unref();
}

/** Runs this same command again with the heap limit and mirrors the child's end; never returns. */
export async function relaunchWithHeapLimit(limitMb: number): Promise<never> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, `--max-old-space-size=${limitMb}`, ...process.argv.slice(1)],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [RELAUNCHED]: String(process.pid) },
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
}
