import { describe, expect, it } from 'vitest';
import { copyField } from '../../src/db/copy-rows.js';

// COPY's text format: a wrong escape shifts columns or corrupts a value for every later row.
describe('copyField', () => {
  it('writes NULL as \\N and escapes the separators and backslashes', () => {
    expect(copyField(null, 'text')).toBe('\\N');
    expect(copyField(undefined, 'uuid')).toBe('\\N');
    expect(copyField('a\tb\nc\rd\\e', 'text')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField("O'Brien Nguyễn", 'text')).toBe("O'Brien Nguyễn");
  });

  it('formats booleans, dates, jsonb and enum arrays as PostgreSQL reads them', () => {
    expect(copyField(true, 'boolean')).toBe('t');
    expect(copyField(false, 'boolean')).toBe('f');
    expect(copyField(new Date('2026-06-30T23:30:00Z'), 'date')).toBe('2026-06-30');
    expect(copyField(new Date('2026-06-30T08:00:00Z'), 'timestamptz')).toBe('2026-06-30T08:00:00.000Z');
    expect(copyField({ note: 'tab\there', n: 1 }, 'jsonb')).toBe('{"note":"tab\\\\there","n":1}');
    expect(copyField(['EMPLOYEE_ONLY', 'EMPLOYEE_FAMILY'], 'coverage_level[]')).toBe(
      '{"EMPLOYEE_ONLY","EMPLOYEE_FAMILY"}',
    );
  });
});
