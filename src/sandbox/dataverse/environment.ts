import type { GeneratedOrganisation } from '../data/types.js';
import type { TenantShape } from '../dynamics/options.js';
import { createRandom, seedFromText } from '../random.js';
import { dataverseCatalog, type TableDefinition } from './catalog.js';
import { type DataverseRow, TableStore } from './table-store.js';
import { createServiceProtection, type ServiceProtection, type ThrottleLimits } from './throttle.js';

/** One Dataverse organisation: its tables, version counter, application users and limits. */
export interface DataverseTable {
  definition: TableDefinition;
  store: TableStore;
  changeTrackingEnabled: boolean;
  /** Removed tables answer as if they never existed (404 on the entity set, empty EntityDefinitions). */
  present: boolean;
  metadataId: string;
  privilegeId: string;
}

export interface ApplicationUser {
  systemUserId: string;
  /** Whether the user holds a security role granting organisation-level read on the cdm_ tables. */
  hasRole: boolean;
  present: boolean;
}

export interface DataverseEnvironment {
  orgName: string;
  url: string;
  /** `{url}/api/data/v9.2/`: prefix of @odata.context, nextLink and deltaLink. */
  serviceRoot: string;
  tenantId: string;
  organizationId: string;
  businessUnitId: string;
  ownerName: string;
  tables: Map<string, DataverseTable>;
  /** Row version counter shared by all tables (Dataverse row versions are organisation wide). */
  version: { current: number };
  applicationUsers: Map<string, ApplicationUser>;
  /** Delta tokens below this version fail with 0x80044352 (the "expire delta tokens" control). */
  deltaTokenFloor: number;
  changeTrackingRetentionDays: number;
  protection: ServiceProtection;
  /** How a keyed EntityDefinitions request is answered: one entity (Dataverse) or a one-item collection. */
  entityDefinitionsShape: 'entity' | 'collection';
}

export function createDataverseEnvironment(options: {
  orgName: string;
  url: string;
  tenantId: string;
  applicationId: string;
  organisation: GeneratedOrganisation;
  shape: TenantShape;
  changeTrackingRetentionDays: number;
  limits: ThrottleLimits;
  seed: number;
}): DataverseEnvironment {
  const random = createRandom(seedFromText(`${options.seed}:${options.orgName}:dataverse`));
  const tables = new Map<string, DataverseTable>();
  for (const definition of dataverseCatalog) {
    const virtual = definition.logicalName.startsWith('mshr_');
    tables.set(definition.logicalName, {
      definition,
      // Read on first use: the organisation builds derived tables (the virtual one) only when read.
      store: new TableStore(
        definition.primaryIdAttribute,
        () => options.organisation.dataverse[definition.entitySetName] as unknown as DataverseRow[],
      ),
      // Virtual tables have change tracking off unless Microsoft support enables it (docs).
      changeTrackingEnabled: !virtual,
      present: options.shape === 'fno-only' ? false : virtual ? options.shape === 'virtual-tables' : true,
      metadataId: random.guid(),
      privilegeId: random.guid(),
    });
  }
  return {
    orgName: options.orgName,
    url: options.url,
    serviceRoot: `${options.url}/api/data/v9.2/`,
    tenantId: options.tenantId,
    organizationId: random.guid(),
    businessUnitId: random.guid(),
    ownerName: 'Sandbox Administrator',
    tables,
    version: { current: options.organisation.lastRowVersion },
    applicationUsers: new Map([
      [options.applicationId, { systemUserId: random.guid(), hasRole: true, present: true }],
    ]),
    deltaTokenFloor: 0,
    changeTrackingRetentionDays: options.changeTrackingRetentionDays,
    protection: createServiceProtection(options.limits),
    entityDefinitionsShape: 'entity',
  };
}

export function findTableBySetName(
  environment: DataverseEnvironment,
  entitySetName: string,
): DataverseTable | undefined {
  for (const table of environment.tables.values()) {
    if (table.present && table.definition.entitySetName === entitySetName) return table;
  }
  return undefined;
}
