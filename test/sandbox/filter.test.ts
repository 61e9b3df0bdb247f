import { describe, expect, it } from 'vitest';
import {
  type FilterColumn,
  FilterPropertyError,
  FilterSyntaxError,
  FilterTypeError,
  parseFilter,
} from '../../src/sandbox/odata/filter.js';

const columns: Record<string, FilterColumn> = {
  name: { key: 'name', kind: 'string' },
  age: { key: 'age', kind: 'number' },
  id: { key: 'id', kind: 'guid' },
  born: { key: 'born', kind: 'date' },
  seen: { key: 'seen', kind: 'datetime' },
  Gender: { key: 'Gender', kind: 'enum' },
};
const rows = [
  {
    name: "O'Brien",
    age: 40,
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    born: '1985-01-02',
    seen: '2024-05-01T10:00:00Z',
    Gender: 'Male',
  },
  {
    name: 'Zoë',
    age: 31,
    id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    born: '1994-07-30',
    seen: '2023-01-01T00:00:00Z',
    Gender: 'Female',
  },
  {
    name: null,
    age: 25,
    id: '16fd2706-8baf-433b-82eb-8c7fada847da',
    born: null,
    seen: '2025-02-03T04:05:06Z',
    Gender: 'Female',
  },
];
const run = (text: string) => rows.filter(parseFilter(text, (name) => columns[name])).map((row) => row.age);

describe('$filter parser', () => {
  it('handles comparisons, logic, precedence and parentheses', () => {
    expect(run('age gt 30 and age lt 40')).toEqual([31]);
    expect(run('age eq 25 or age eq 40 and name eq null')).toEqual([25]);
    expect(run('(age eq 25 or age eq 40) and not (name eq null)')).toEqual([40]);
    expect(run('30 lt age')).toEqual([40, 31]);
    expect(run('age ge 31 and age le 40')).toEqual([40, 31]);
  });

  it('handles strings, escapes, case-insensitivity and functions', () => {
    expect(run("name eq 'o''brien'")).toEqual([40]);
    expect(run("contains(name,'oë') or startswith(name,'O''B')")).toEqual([40, 31]);
    expect(run("endswith(name,'EN')")).toEqual([40]);
    expect(run('name ne null')).toEqual([40, 31]);
  });

  it('handles GUID, date, date-time and enum literals', () => {
    expect(run('id eq 7C9E6679-7425-40DE-944B-E07FC1F90AE7')).toEqual([31]);
    expect(run("id eq '16fd2706-8baf-433b-82eb-8c7fada847da'")).toEqual([25]);
    expect(run('born lt 1990-01-01')).toEqual([40]);
    expect(run('seen ge 2024-01-01T00:00:00Z')).toEqual([40, 25]);
    expect(run('seen lt 2023-01-01T01:00:00+01:00')).toEqual([]);
    expect(run("Gender eq Microsoft.Dynamics.DataEntities.Gender'Female'")).toEqual([31, 25]);
  });

  it('reports syntax, property and type errors', () => {
    expect(() => run('age gt')).toThrow(FilterSyntaxError);
    expect(() => run('age gt 1 and')).toThrow(FilterSyntaxError);
    expect(() => run("name eq 'open")).toThrow(FilterSyntaxError);
    expect(() => run('(age eq 1')).toThrow(FilterSyntaxError);
    expect(() => run('height eq 1')).toThrow(FilterPropertyError);
    expect(() => run("age eq 'x'")).toThrow(FilterTypeError);
  });

  it("reads Dataverse's LIKE wildcards in contains/startswith/endswith only when asked, without backtracking", () => {
    const like = (text: string) =>
      rows.filter(parseFilter(text, (name) => columns[name], { likeWildcards: true })).map((row) => row.age);
    expect(like("contains(name,'o_b')")).toEqual([40]);
    expect(like("startswith(name,'[a-p]''%n')")).toEqual([40]);
    expect(like("startswith(name,'[^o]')")).toEqual([31]);
    expect(like("endswith(name,'%ë')")).toEqual([31]);
    expect(like("contains(name,'')")).toEqual([40, 31]);
    expect(run("contains(name,'o_b')")).toEqual([]);
    // A pattern that makes a backtracking matcher explode answers at once.
    const long = { ...rows[0], name: 'a'.repeat(5000) };
    const started = Date.now();
    const predicate = parseFilter<Record<string, unknown>>(
      `contains(name,'${'%a'.repeat(40)}%b')`,
      (name) => columns[name],
      { likeWildcards: true },
    );
    expect(predicate(long)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('compares two columns only when asked', () => {
    const twins = [{ ...rows[0], name: 'x', born: '2000-01-01', seen: '2000-01-01T00:00:00Z' }];
    const compare = (text: string) =>
      twins.filter(parseFilter(text, (name) => columns[name], { columnComparison: true }));
    expect(compare('name eq name')).toHaveLength(1);
    expect(() => compare('name eq age')).toThrow(FilterTypeError);
    expect(() => run('name eq name')).toThrow(FilterTypeError);
  });
});
