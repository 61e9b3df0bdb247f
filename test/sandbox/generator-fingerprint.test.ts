import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateOrganisation } from '../../src/sandbox/data/generator.js';
import type { GeneratedOrganisation } from '../../src/sandbox/data/types.js';

/**
 * The generated organisation of a seed is a contract: the unified results tests compare synced records
 * with it, and integrators keep fixtures of a sandbox seed. Changes to how the generator stores rows
 * (for memory or speed) must not change one byte of them; these fingerprints were taken from the
 * generator before its memory work (docs/PERFORMANCE.md, "Dynamics 365 sandbox"). If a change to the
 * data is intended, update them in the same commit and say so.
 */
const fingerprints: Record<number, string> = {
  1: '252392f0f6a9f4b1519b070c48ad4feef1ad7a28c79601d93cc5847718645ba0',
  42: 'e0bedaa9d3356d13ca44069c07e842c9324f98c74ec4fe0046a94c741820ebb2',
};

function fingerprint(organisation: GeneratedOrganisation): string {
  const { seed, workerCount, asOf, dataverse, fno } = organisation;
  return createHash('sha256')
    .update(JSON.stringify({ seed, workerCount, asOf, dataverse, fno }))
    .digest('hex');
}

describe('generated organisation fingerprint', () => {
  for (const [seed, expected] of Object.entries(fingerprints)) {
    it(`is unchanged for seed ${seed} at 2,000 workers (every table, row, column and column order)`, () => {
      expect(fingerprint(generateOrganisation({ workers: 2000, seed: Number(seed) }))).toBe(expected);
    });
  }

  it('is the same whichever table is read first (derived tables are built on first read)', () => {
    const organisation = generateOrganisation({ workers: 2000, seed: 42 });
    for (const side of [organisation.fno, organisation.dataverse]) {
      const tables = side as unknown as Record<string, unknown[]>;
      for (const name of Object.keys(tables).reverse()) expect(tables[name]?.length).toBeGreaterThan(0);
    }
    expect(fingerprint(organisation)).toBe(fingerprints[42]);
  });
});
