/**
 * Rows of one Dataverse table kept sorted by primary key, so a page is a binary search plus a slice
 * (paging cookies encode the last key: stateless and stable while other requests change the table),
 * and a row by key is a binary search too (no second index: at a million rows a Map of keys costs
 * tens of megabytes, docs/PERFORMANCE.md "Dynamics 365 sandbox").
 * Rows are immutable: an update replaces the object, so snapshots (a running DMF export, a page being
 * serialised) never see half-applied changes.
 * The rows may be given as a function: the store then reads and sorts them on first use, so a table
 * the tenant never serves (the virtual table outside its shape) is never built.
 */
export type DataverseRow = Record<string, unknown> & { versionnumber: number };

export interface Deletion {
  id: string;
  version: number;
}

export class TableStore {
  private sortedRows: DataverseRow[] | undefined;
  readonly deletions: Deletion[] = [];

  constructor(
    readonly keyColumn: string,
    private readonly source: readonly DataverseRow[] | (() => readonly DataverseRow[]),
  ) {
    if (typeof source !== 'function') this.sortedRows = this.sortRows(source);
  }

  private sortRows(rows: readonly DataverseRow[]): DataverseRow[] {
    return [...rows].sort((a, b) => compareKeys(this.key(a), this.key(b)));
  }

  private get sorted(): DataverseRow[] {
    if (this.sortedRows === undefined) {
      const source = this.source as () => readonly DataverseRow[];
      this.sortedRows = this.sortRows(source());
    }
    return this.sortedRows;
  }

  key(row: DataverseRow): string {
    return row[this.keyColumn] as string;
  }

  get size(): number {
    return this.sorted.length;
  }

  rows(): readonly DataverseRow[] {
    return this.sorted;
  }

  get(key: string): DataverseRow | undefined {
    const wanted = key.toLowerCase();
    const candidate = this.sorted[this.indexAfter(wanted) - 1];
    return candidate && this.key(candidate) === wanted ? candidate : undefined;
  }

  /** Index of the first row whose key sorts after `key` (0 when `key` is undefined). */
  indexAfter(key: string | undefined): number {
    if (key === undefined) return 0;
    const sorted = this.sorted;
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareKeys(this.key(sorted[middle] as DataverseRow), key) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Inserts or replaces the row with the same key. */
  put(row: DataverseRow): void {
    const key = this.key(row);
    const position = this.indexAfter(key);
    const previous = this.sorted[position - 1];
    if (previous && this.key(previous) === key) {
      this.sorted[position - 1] = row;
    } else {
      this.sorted.splice(position, 0, row);
    }
  }

  remove(key: string, version: number): DataverseRow | undefined {
    const position = this.indexAfter(key) - 1;
    const row = this.sorted[position];
    if (!row || this.key(row) !== key) return undefined;
    this.sorted.splice(position, 1);
    this.deletions.push({ id: key, version });
    return row;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
