import { isoSeconds } from './data/flat-strings.js';
import type { FnoEntitySetName } from './data/types.js';
import { type TableDefinition, wireName } from './dataverse/catalog.js';
import type { DataverseEnvironment, DataverseTable } from './dataverse/environment.js';
import type { DataverseRow } from './dataverse/table-store.js';
import type { AppRegistration } from './entra/directory.js';
import { findFnoEntity } from './fno/catalog.js';
import type { FnoEnvironment, FnoExportOutcome } from './fno/environment.js';
import { createRandom, type Random } from './random.js';
import { createSecretValue } from './tenant.js';

/**
 * Test and demo controls of one tenant (also served under /_sandbox/tenants/{name}/...). Each has an
 * inverse: created rows can be deleted, removed things restored, expired things un-expired.
 */
export interface RecordSelection {
  /** How many rows to touch, chosen deterministically from the table. */
  count?: number;
  /** Or exactly these primary keys. */
  ids?: string[];
}

export interface TenantControls {
  /** Clones existing rows under new ids (new version, createdon = modifiedon = now). Returns the new ids. */
  createRecords(table: string, count: number): string[];
  /** Bumps modifiedon and the row version (so etags and deltas change), applying `changes` if given. */
  updateRecords(table: string, selection: RecordSelection, changes?: Record<string, unknown>): string[];
  deleteRecords(table: string, selection: RecordSelection): string[];
  /** Makes a Dataverse table disappear (404 on its entity set, absent from EntityDefinitions), or come back. */
  removeTable(table: string): void;
  restoreTable(table: string): void;
  setChangeTracking(table: string, enabled: boolean): void;
  /**
   * Plays a tenant whose table lacks a column (logical or wire name): it leaves EntityDefinitions'
   * Attributes, and `$select`ing it fails as for any unknown column. restoreColumn brings it back.
   */
  removeColumn(table: string, column: string): void;
  restoreColumn(table: string, column: string): void;
  expireClientSecret(): void;
  restoreClientSecret(): void;
  /** Adds a new secret (the old one keeps working until it expires); returns the new value. */
  rotateClientSecret(): { clientSecret: string; expiresAt: Date };
  revokeConsent(): void;
  grantConsent(): void;
  removeApplicationUser(): void;
  restoreApplicationUser(): void;
  removeSecurityRole(): void;
  restoreSecurityRole(): void;
  /** Every delta token issued so far fails with 0x80044352 until restoreDeltaTokens(). */
  expireDeltaTokens(): void;
  restoreDeltaTokens(): void;
  setServiceProtectionLimits(limits: {
    requestLimit?: number;
    windowSeconds?: number;
    concurrencyLimit?: number;
    executionTimeLimitMs?: number;
  }): void;
  /**
   * F&O rows (dependents, enrollments, ...): create clones with a fresh key, update with `changes`, delete.
   * They return the rows' keys (key fields joined with commas). Exports already running keep their snapshot.
   */
  createFnoRecords(entitySet: FnoEntitySetName, count: number): string[];
  updateFnoRecords(
    entitySet: FnoEntitySetName,
    selection: { count: number },
    changes: Record<string, unknown>,
  ): string[];
  deleteFnoRecords(entitySet: FnoEntitySetName, selection: { count: number }): string[];
  /** Answer keyed EntityDefinitions requests as a one-item collection (`value: [...]`) or as one entity. */
  setEntityDefinitionsShape(shape: 'entity' | 'collection'): void;
  /** Plays an F&O environment whose entity lacks a field ($metadata, $select), or has it back. */
  removeFnoField(entitySet: FnoEntitySetName, field: string): void;
  restoreFnoField(entitySet: FnoEntitySetName, field: string): void;
  /** How DMF exports end, and how long they stay Executing. */
  setDmfExportBehaviour(behaviour: {
    outcome?: FnoExportOutcome;
    durationMs?: number;
    /** For this long after ExportToPackage the status actions answer "Execution details were not found". */
    notFoundForMs?: number;
    /** ExportToPackage returns ids F&O never creates (status Unknown for good). */
    loseExecutions?: boolean;
  }): void;
}

export function createTenantControls(options: {
  app: AppRegistration;
  dataverse: DataverseEnvironment;
  fno: FnoEnvironment;
  seed: number;
  clientSecretLifetimeDays: number;
  now: () => Date;
}): TenantControls {
  const { app, dataverse, fno } = options;
  const random: Random = createRandom(options.seed ^ 0x1234567);
  const secretExpiries = new Map<string, Date>();
  let rotation = 0;
  let fnoCreated = 0;
  const originalLimits = { ...dataverse.protection.limits };
  // Full definitions of tables whose columns were removed, and the names removed from each.
  const fullDefinitions = new Map<DataverseTable, TableDefinition>();
  const removedColumns = new Map<DataverseTable, Set<string>>();
  const applyRemovedColumns = (table: DataverseTable): void => {
    const full = fullDefinitions.get(table) ?? table.definition;
    fullDefinitions.set(table, full);
    const removed = removedColumns.get(table) ?? new Set();
    table.definition = {
      ...full,
      columns: full.columns.filter((column) => !removed.has(column.logicalName)),
    };
  };
  const columnName = (table: DataverseTable, name: string): string => {
    const full = fullDefinitions.get(table) ?? table.definition;
    const column = full.columns.find(
      (candidate) => candidate.logicalName === name || wireName(candidate) === name,
    );
    if (!column) throw new Error(`No column '${name}' in ${table.definition.logicalName}`);
    if (column.logicalName === full.primaryIdAttribute) throw new Error('The primary key cannot be removed');
    return column.logicalName;
  };

  const tableFor = (name: string): DataverseTable => {
    for (const table of dataverse.tables.values()) {
      if (table.definition.logicalName === name || table.definition.entitySetName === name) return table;
    }
    throw new Error(`Unknown Dataverse table '${name}'`);
  };
  const nextVersion = (): number => {
    dataverse.version.current += 1;
    return dataverse.version.current;
  };
  const select = (table: DataverseTable, selection: RecordSelection): DataverseRow[] => {
    if (selection.ids) {
      return selection.ids.map((id) => {
        const row = table.store.get(id);
        if (!row) throw new Error(`No ${table.definition.logicalName} row with id ${id}`);
        return row;
      });
    }
    const rows = table.store.rows();
    const count = Math.min(selection.count ?? 1, rows.length);
    const chosen = new Set<number>();
    while (chosen.size < count) chosen.add(random.int(0, rows.length - 1));
    return [...chosen].map((index) => rows[index] as DataverseRow);
  };

  return {
    createRecords(name, count) {
      const table = tableFor(name);
      const templates = select(table, { count: Math.min(count, table.store.size) });
      const stamp = isoSeconds(options.now().getTime());
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const template = templates[i % templates.length];
        if (!template) break;
        const id = random.guid();
        const row: DataverseRow = {
          ...template,
          [table.definition.primaryIdAttribute]: id,
          versionnumber: nextVersion(),
          createdon: stamp,
          modifiedon: stamp,
        };
        table.store.put(row);
        ids.push(id);
      }
      return ids;
    },
    updateRecords(name, selection, changes = {}) {
      const table = tableFor(name);
      const stamp = isoSeconds(options.now().getTime());
      return select(table, selection).map((row) => {
        table.store.put({ ...row, ...changes, versionnumber: nextVersion(), modifiedon: stamp });
        return table.store.key(row);
      });
    },
    deleteRecords(name, selection) {
      const table = tableFor(name);
      return select(table, selection).map((row) => {
        const id = table.store.key(row);
        table.store.remove(id, nextVersion());
        return id;
      });
    },
    removeTable: (name) => {
      tableFor(name).present = false;
    },
    restoreTable: (name) => {
      tableFor(name).present = true;
    },
    setEntityDefinitionsShape: (shape) => {
      dataverse.entityDefinitionsShape = shape;
    },
    removeColumn: (name, column) => {
      const table = tableFor(name);
      const removed = removedColumns.get(table) ?? new Set<string>();
      removed.add(columnName(table, column));
      removedColumns.set(table, removed);
      applyRemovedColumns(table);
    },
    restoreColumn: (name, column) => {
      const table = tableFor(name);
      removedColumns.get(table)?.delete(columnName(table, column));
      applyRemovedColumns(table);
    },
    setChangeTracking: (name, enabled) => {
      tableFor(name).changeTrackingEnabled = enabled;
    },
    expireClientSecret() {
      for (const secret of app.secrets) {
        if (!secretExpiries.has(secret.secretId)) secretExpiries.set(secret.secretId, secret.expiresAt);
        secret.expiresAt = new Date(options.now().getTime() - 60_000);
      }
    },
    restoreClientSecret() {
      for (const secret of app.secrets) {
        const original = secretExpiries.get(secret.secretId);
        if (original) secret.expiresAt = original;
      }
      secretExpiries.clear();
    },
    rotateClientSecret() {
      rotation += 1;
      const clientSecret = createSecretValue(options.seed + rotation * 7919);
      const expiresAt = new Date(options.now().getTime() + options.clientSecretLifetimeDays * 86_400_000);
      app.secrets.push({ secretId: random.guid(), value: clientSecret, expiresAt });
      return { clientSecret, expiresAt };
    },
    revokeConsent: () => {
      app.consentGranted = false;
    },
    grantConsent: () => {
      app.consentGranted = true;
    },
    removeApplicationUser: () => setUser((user) => (user.present = false)),
    restoreApplicationUser: () => setUser((user) => (user.present = true)),
    removeSecurityRole: () => setUser((user) => (user.hasRole = false)),
    restoreSecurityRole: () => setUser((user) => (user.hasRole = true)),
    expireDeltaTokens: () => {
      dataverse.deltaTokenFloor = dataverse.version.current + 1;
    },
    restoreDeltaTokens: () => {
      dataverse.deltaTokenFloor = 0;
    },
    setServiceProtectionLimits(limits) {
      const target = dataverse.protection.limits;
      target.requestLimit = limits.requestLimit ?? originalLimits.requestLimit;
      target.windowSeconds = limits.windowSeconds ?? originalLimits.windowSeconds;
      target.concurrencyLimit = limits.concurrencyLimit ?? originalLimits.concurrencyLimit;
      target.executionTimeLimitMs = limits.executionTimeLimitMs ?? originalLimits.executionTimeLimitMs;
    },
    createFnoRecords(entitySet, count) {
      const { rows, keyOf, keyFields } = fnoTable(entitySet);
      const lastKey = keyFields[keyFields.length - 1] as string;
      const keys: string[] = [];
      for (let i = 0; i < count && rows.length > 0; i++) {
        const template = rows[random.int(0, rows.length - 1)] as Record<string, unknown>;
        fnoCreated += 1;
        const fresh =
          typeof template[lastKey] === 'number'
            ? Math.max(...rows.map((row) => Number(row[lastKey]))) + 1
            : `9${String(fnoCreated).padStart(8, '0')}`;
        const row = { ...template, [lastKey]: fresh };
        rows.push(row);
        keys.push(keyOf(row));
      }
      return keys;
    },
    updateFnoRecords(entitySet, selection, changes) {
      const { rows, keyOf } = fnoTable(entitySet);
      return pickIndexes(rows.length, selection.count).map((index) => {
        rows[index] = { ...(rows[index] as Record<string, unknown>), ...changes };
        return keyOf(rows[index] as Record<string, unknown>);
      });
    },
    deleteFnoRecords(entitySet, selection) {
      const { rows, keyOf } = fnoTable(entitySet);
      const indexes = pickIndexes(rows.length, selection.count).sort((a, b) => b - a);
      return indexes.map((index) => keyOf(rows.splice(index, 1)[0] as Record<string, unknown>));
    },
    removeFnoField(entitySet, field) {
      const entity = findFnoEntity(entitySet);
      if (!entity?.fields.some((candidate) => candidate.name === field)) {
        throw new Error(`No field '${field}' in F&O entity set '${entitySet}'`);
      }
      if (entity.keys.includes(field)) throw new Error('A key field cannot be removed');
      const removed = fno.removedFields.get(entitySet) ?? new Set<string>();
      removed.add(field);
      fno.removedFields.set(entitySet, removed);
    },
    restoreFnoField(entitySet, field) {
      fno.removedFields.get(entitySet)?.delete(field);
    },
    setDmfExportBehaviour(behaviour) {
      if (behaviour.outcome) fno.exportOutcome = behaviour.outcome;
      if (behaviour.durationMs !== undefined) fno.exportDurationMs = behaviour.durationMs;
      if (behaviour.notFoundForMs !== undefined) fno.executionNotFoundMs = behaviour.notFoundForMs;
      if (behaviour.loseExecutions !== undefined) fno.loseExecutions = behaviour.loseExecutions;
    },
  };

  function fnoTable(entitySet: FnoEntitySetName): {
    rows: Array<Record<string, unknown>>;
    keyFields: string[];
    keyOf: (row: Record<string, unknown>) => string;
  } {
    const entity = findFnoEntity(entitySet);
    if (!entity) throw new Error(`Unknown F&O entity set '${entitySet}'`);
    return {
      rows: fno.data[entitySet] as unknown as Array<Record<string, unknown>>,
      keyFields: entity.keys,
      keyOf: (row) => entity.keys.map((key) => String(row[key])).join(','),
    };
  }

  function pickIndexes(size: number, count: number): number[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(count, size)) chosen.add(random.int(0, size - 1));
    return [...chosen];
  }

  function setUser(apply: (user: { present: boolean; hasRole: boolean }) => void): void {
    const user = dataverse.applicationUsers.get(app.clientId);
    if (user) apply(user);
  }
}
