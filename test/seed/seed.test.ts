import { describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/auth/secrets.js';
import { generateOrganisation } from '../../src/seed/generate-organisation.js';
import { seedLinkedAccount } from '../../src/seed/seed-account.js';
import { createTestDatabase } from '../helpers/database.js';

const db = await createTestDatabase();
const seeded = await seedLinkedAccount(db, { employees: 200, seed: 7 });
const account = seeded.linked_account_id;

async function count(sql: string): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(sql, [account]);
  return rows[0]!.n;
}

describe('seedLinkedAccount', () => {
  it('creates a platform, a sensitive API key and a connected seed account whose secrets are stored hashed', async () => {
    const key = await db.prisma.apiKey.findUnique({ where: { keyHash: hashSecret(seeded.api_key) } });
    expect(key?.platformId).toBe(seeded.platform_id);
    expect(key?.sensitive).toBe(true);
    const linked = await db.prisma.linkedAccount.findUniqueOrThrow({ where: { id: account } });
    expect(linked.accountTokenHash).toBe(hashSecret(seeded.account_token));
    expect(linked.provider).toBe('seed');
    expect(linked.status).toBe('connected');
    expect(linked.organizationName.length).toBeGreaterThan(2);
  });

  it('reports the counts it wrote, in plausible proportions', async () => {
    const { counts } = seeded;
    expect(counts.employees).toBe(200);
    expect(counts.job_positions).toBe(200);
    expect(counts.companies).toBeGreaterThanOrEqual(2);
    expect(counts.companies).toBeLessThanOrEqual(4);
    expect(counts.departments).toBe(5);
    expect(counts.benefit_plans).toBe(9);
    expect(counts.employments).toBeGreaterThanOrEqual(200);
    expect(counts.employments).toBeLessThan(260);
    expect(counts.dependents / 200).toBeGreaterThan(1.1);
    expect(counts.dependents / 200).toBeLessThan(2);
    expect(counts.benefit_enrollments / 200).toBeGreaterThan(2.3);
    expect(counts.benefit_enrollments / 200).toBeLessThan(4);
    for (const [table, expected] of Object.entries(counts)) {
      expect(await count(`SELECT count(*)::int AS n FROM ${table} WHERE linked_account_id = $1`), table).toBe(
        expected,
      );
    }
  });

  it('builds one manager tree: a single root, every manager in the account, no cycles', async () => {
    expect(
      await count(
        'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1 AND manager_id IS NULL',
      ),
    ).toBe(1);
    expect(
      await count(`SELECT count(*)::int AS n FROM employees e WHERE e.linked_account_id = $1 AND e.manager_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM employees m WHERE m.id = e.manager_id AND m.linked_account_id = $1)`),
    ).toBe(0);
    // Every employee reaches the root by walking up: a cycle would never reach it.
    const reached = await count(`WITH RECURSIVE tree AS (
        SELECT id, 0 AS depth FROM employees WHERE linked_account_id = $1 AND manager_id IS NULL
        UNION ALL SELECT e.id, t.depth + 1 FROM employees e JOIN tree t ON e.manager_id = t.id AND t.depth < 500
      ) SELECT count(DISTINCT id)::int AS n FROM tree`);
    expect(reached).toBe(200);
  });

  it('keeps employees, employments and enrollments coherent', async () => {
    // Exactly one current employment each (no end date, or ending at termination).
    expect(
      await count(`SELECT count(*)::int AS n FROM employees e WHERE linked_account_id = $1 AND (
        SELECT count(*) FROM employments m WHERE m.employee_id = e.id AND (m.end_date IS NULL OR m.end_date = e.termination_date)) <> 1`),
    ).toBe(0);
    expect(
      await count(`SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1
        AND (termination_date IS NOT NULL) <> (employment_status = 'INACTIVE')`),
    ).toBe(0);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1 AND employment_status = 'INACTIVE'",
      ),
    ).toBeGreaterThan(0);
    // Every reference points into the same account.
    expect(
      await count(`SELECT count(*)::int AS n FROM employees e WHERE linked_account_id = $1 AND (
        NOT EXISTS (SELECT 1 FROM departments d WHERE d.id = e.department_id AND d.company_id = e.company_id)
        OR NOT EXISTS (SELECT 1 FROM job_positions p WHERE p.id = e.position_id AND p.job_title = e.job_title))`),
    ).toBe(0);
    expect(
      await count(`SELECT count(*)::int AS n FROM benefit_enrollments b WHERE linked_account_id = $1 AND (
        NOT EXISTS (SELECT 1 FROM employees e WHERE e.id = b.employee_id)
        OR NOT EXISTS (SELECT 1 FROM benefit_plans p WHERE p.id = b.benefit_plan_id AND b.coverage_level = ANY (p.coverage_levels_offered) OR b.status = 'WAIVED'))`),
    ).toBe(0);
  });

  it('covers only the enrolled employee’s own dependents, matching the coverage level', async () => {
    expect(
      await count(
        'SELECT count(*)::int AS n FROM benefit_enrollment_dependents WHERE linked_account_id = $1',
      ),
    ).toBeGreaterThan(50);
    expect(
      await count(`SELECT count(*)::int AS n FROM benefit_enrollment_dependents c
        JOIN benefit_enrollments b ON b.id = c.benefit_enrollment_id
        JOIN dependents d ON d.id = c.dependent_id
        WHERE c.linked_account_id = $1 AND (d.employee_id <> b.employee_id
          OR (b.coverage_level = 'EMPLOYEE_SPOUSE' AND d.relationship = 'CHILD')
          OR (b.coverage_level = 'EMPLOYEE_CHILDREN' AND d.relationship <> 'CHILD')
          OR b.coverage_level = 'EMPLOYEE_ONLY')`),
    ).toBe(0);
    // A family enrollment covers someone.
    expect(
      await count(`SELECT count(*)::int AS n FROM benefit_enrollments b WHERE linked_account_id = $1
        AND coverage_level = 'EMPLOYEE_FAMILY' AND NOT EXISTS (SELECT 1 FROM benefit_enrollment_dependents c WHERE c.benefit_enrollment_id = b.id)`),
    ).toBe(0);
  });

  it('fills every enum’s raw sibling and remote_data, with varied dependents', async () => {
    const checks: [string, string][] = [
      ['employees', 'gender'],
      ['employees', 'worker_type'],
      ['employees', 'employment_status'],
      ['employments', 'employment_type'],
      ['employments', 'pay_period'],
      ['employments', 'pay_frequency'],
      ['dependents', 'relationship'],
      ['dependents', 'gender'],
      ['benefit_plans', 'plan_type'],
      ['benefit_enrollments', 'status'],
      ['benefit_enrollments', 'coverage_level'],
    ];
    for (const [table, field] of checks) {
      expect(
        await count(
          `SELECT count(*)::int AS n FROM ${table} WHERE linked_account_id = $1 AND (${field} IS NULL) <> (${field}_raw IS NULL)`,
        ),
        `${table}.${field}`,
      ).toBe(0);
      expect(
        await count(
          `SELECT count(*)::int AS n FROM ${table} WHERE linked_account_id = $1 AND ${field}_raw IS NOT NULL`,
        ),
      ).toBeGreaterThan(0);
    }
    const { rows } = await db.pool.query(
      "SELECT gender_raw FROM employees WHERE linked_account_id = $1 AND gender = 'MALE' LIMIT 1",
      [account],
    );
    expect(rows[0].gender_raw).toBe('754400000');
    expect(
      await count(
        'SELECT count(*)::int AS n FROM employees WHERE linked_account_id = $1 AND remote_data IS NULL',
      ),
    ).toBe(0);
    for (const flag of ['is_student', 'is_disabled', 'is_court_ordered']) {
      expect(
        await count(`SELECT count(*)::int AS n FROM dependents WHERE linked_account_id = $1 AND ${flag}`),
        flag,
      ).toBeGreaterThan(0);
    }
    expect(
      await count(
        'SELECT count(DISTINCT relationship)::int AS n FROM dependents WHERE linked_account_id = $1',
      ),
    ).toBe(3);
    const levels = await db.pool.query(
      "SELECT coverage_levels_offered::text[] AS levels FROM benefit_plans WHERE linked_account_id = $1 AND remote_id = 'MED-PPO'",
      [account],
    );
    expect(levels.rows[0].levels).toEqual([
      'EMPLOYEE_ONLY',
      'EMPLOYEE_SPOUSE',
      'EMPLOYEE_CHILDREN',
      'EMPLOYEE_FAMILY',
    ]);
  });

  it('is deterministic for a seed and adds further accounts to a given platform', async () => {
    const first = [...generateOrganisation({ linkedAccountId: account, employees: 30, seed: 3 })];
    const second = [...generateOrganisation({ linkedAccountId: account, employees: 30, seed: 3 })];
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    const other = [...generateOrganisation({ linkedAccountId: account, employees: 30, seed: 4 })];
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));

    const again = await seedLinkedAccount(db, { employees: 5, seed: 7, platformId: seeded.platform_id });
    expect(again.platform_id).toBe(seeded.platform_id);
    expect(again.linked_account_id).not.toBe(account);
    await expect(
      seedLinkedAccount(db, { employees: 5, platformId: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toThrow(/not found/);
  });
});
