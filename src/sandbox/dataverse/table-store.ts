/**
 * Rows of one Dataverse table kept sorted by primary key, so a page is a binary search plus a slice
 * (paging cookies encode the last key: stateless and stable while other requests change the table).
 * Rows are immutable: an update replaces the object, so snapshots (a running DMF export, a page being
 * serialised) never see half-applied changes.
 */
export type DataverseRow = Record<string, unknown> & { versionnumber: number };

export interface Deletion {
  id: string;
  version: number;
}

export class TableStore {
  private sorted: DataverseRow[];
  private readonly byKey = new Map<string, DataverseRow>();
  readonly deletions: Deletion[] = [];

  constructor(
    readonly keyColumn: string,
    rows: readonly DataverseRow[],
  ) {
    this.sorted = [...rows].sort((a, b) => compareKeys(this.key(a), this.key(b)));
    for (const row of this.sorted) this.byKey.set(this.key(row), row);
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
    return this.byKey.get(key.toLowerCase());
  }

  /** Index of the first row whose key sorts after `key` (0 when `key` is undefined). */
  indexAfter(key: string | undefined): number {
    if (key === undefined) return 0;
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareKeys(this.key(this.sorted[middle] as DataverseRow), key) <= 0) low = middle + 1;
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
    this.byKey.set(key, row);
  }

  remove(key: string, version: number): DataverseRow | undefined {
    const row = this.byKey.get(key);
    if (!row) return undefined;
    const position = this.indexAfter(key) - 1;
    this.sorted.splice(position, 1);
    this.byKey.delete(key);
    this.deletions.push({ id: key, version });
    return row;
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
