import { describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/transaction.js';
import type { LinkRule, MappedRecord } from '../../src/providers/types.js';
import { compileLink } from '../../src/sync/links.js';
import { recordId } from '../../src/unified/record-id.js';
import { createTestDatabase } from '../helpers/database.js';
import { createTestTenant, insertRecords } from '../helpers/fixtures.js';

// The links an initial load of link rows inserts with each page (src/sync/links.ts, insertLinks):
// by COPY while they are new, through INSERT ... ON CONFLICT once a page names a link already there;
// either way the enrollments already stored that gained a link are returned (and touched).
const db = await createTestDatabase();

const rule: LinkRule = {
  model: 'benefit_enrollments',
  linked: 'dependents',
  appliesTo: { remoteDataKey: 'BenefitId' },
  source: 'dmf:covered',
  linkedKey: 'dependent_remote_id',
};

const linkRow = (remoteId: string, enrollment: string, dependent: string): MappedRecord => ({
  remoteId,
  refId: enrollment,
  fields: {},
  remoteData: { dependent_remote_id: dependent },
  remoteCreatedAt: null,
  remoteModifiedAt: null,
});

describe('links inserted with their link rows', () => {
  it('adds each named link once, new or not, and returns the stored enrollments that gained one', async () => {
    const { account } = await createTestTenant(db, `Links ${Math.random()}`);
    const id = account.id;
    const enrollment = (remoteId: string) => recordId(id, 'benefit_enrollments', remoteId);
    const dependent = (remoteId: string) => recordId(id, 'dependents', remoteId);
    const long = new Date('2026-01-01T00:00:00Z');
    await insertRecords(db, id, 'benefit_enrollments', [
      { remote_id: 'e1', remote_data: { BenefitId: 'b' }, modified_at: long },
    ]);
    const link = compileLink(rule);
    const insert = (rows: MappedRecord[]) =>
      inTransaction(db.pool, (client) => link.insertLinks(client, id, rows));
    const links = async () =>
      (
        await db.pool.query<{ e: string; d: string }>(
          `SELECT benefit_enrollment_id AS e, dependent_id AS d FROM benefit_enrollment_dependents
           WHERE linked_account_id = $1 ORDER BY 1, 2`,
          [id],
        )
      ).rows;
    const modifiedAt = async () =>
      (
        await db.pool.query<{ m: Date }>('SELECT modified_at AS m FROM benefit_enrollments WHERE id = $1', [
          enrollment('e1'),
        ])
      ).rows[0]?.m;

    // New links (one named twice on the page): COPY; e1 is stored and gained a link.
    expect(
      await insert([linkRow('r1', 'e1', 'd1'), linkRow('r2', 'e1', 'd1'), linkRow('r3', 'e2', 'd2')]),
    ).toEqual([enrollment('e1')]);
    expect(await modifiedAt()).not.toEqual(long);
    const expected = [
      { e: enrollment('e1'), d: dependent('d1') },
      { e: enrollment('e2'), d: dependent('d2') },
    ].sort((a, b) => a.e.localeCompare(b.e) || a.d.localeCompare(b.d));
    expect(await links()).toEqual(expected);

    // A page naming a link already there as well as a new one: both end up present, no error.
    await db.pool.query('UPDATE benefit_enrollments SET modified_at = $2 WHERE id = $1', [
      enrollment('e1'),
      long,
    ]);
    expect(await insert([linkRow('r3', 'e2', 'd2'), linkRow('r4', 'e1', 'd3')])).toEqual([enrollment('e1')]);
    expect(await links()).toHaveLength(3);

    // Only links already there: nothing gained, nothing touched.
    await db.pool.query('UPDATE benefit_enrollments SET modified_at = $2 WHERE id = $1', [
      enrollment('e1'),
      long,
    ]);
    expect(await insert([linkRow('r1', 'e1', 'd1')])).toEqual([]);
    expect(await modifiedAt()).toEqual(long);
    expect(await links()).toHaveLength(3);
  });
});
