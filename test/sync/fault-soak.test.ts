import { describe, expect, it } from 'vitest';
import { runFaultSoak, summarize } from '../../bench/fault-soak.js';
import { createTestDatabase } from '../helpers/database.js';
import { startFileSandbox } from '../helpers/sandbox.js';

/**
 * The fault soak's short mode (bench/fault-soak.ts; the long mode's figures are in
 * docs/RELIABILITY.md): ten randomized runs on small tenants, each under a random mix of faults (Retry-After 0 to stay short) with
 * the sync process killed at a random moment and resumed, ending equal to the truth every time.
 */
const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 10, seed: 3 });

describe('fault soak (short mode)', () => {
  it('ten randomized runs with faults and kill -9: nothing lost, duplicated or stale', {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = [];
    const reports = await runFaultSoak({
      db,
      sandbox,
      runs: 10,
      minWorkers: 20,
      maxWorkers: 60,
      seed: 20261126,
      maxRetryAfterSeconds: 0,
      pagesPerTable: [2, 4],
      log: (line) => lines.push(line),
    });
    const summary = summarize(reports);
    expect(
      reports.flatMap((report) => report.problems),
      lines.join('\n'),
    ).toEqual([]);
    expect(summary).toMatchObject({
      runs: 10,
      lost: 0,
      duplicated: 0,
      stale: 0,
      deletionsMissed: 0,
      modifiedAtWrong: 0,
      cleanRuns: 10,
    });
    // The soak did what it says: faults fired and syncs were killed in their middle.
    expect(summary.faultsFired).toBeGreaterThan(0);
    expect(summary.killedMidFull).toBeGreaterThan(0);
    expect(summary.killedMidIncremental).toBeGreaterThan(0);
  });
});
