import { odataJsonContentType, type SandboxResponse } from '../http/types.js';
import {
  type FilterColumn,
  FilterPropertyError,
  FilterSyntaxError,
  FilterTypeError,
  parseFilter,
} from '../odata/filter.js';
import { type RawQuery, splitTopLevel } from '../odata/query-options.js';
import type { ColumnDefinition, ColumnKind } from './catalog.js';
import type { DataverseEnvironment, DataverseTable } from './environment.js';
import { dataverseErrors } from './errors.js';

/**
 * EntityDefinitions (reference §2): by LogicalName key (404 when absent), as a collection with
 * `$filter=LogicalName eq '...'` (empty value when absent), `$select`, and `$expand=Attributes($select=...)`.
 */
const attributeTypes: Record<ColumnKind, string> = {
  Uniqueidentifier: 'Uniqueidentifier',
  String: 'String',
  Memo: 'Memo',
  Integer: 'Integer',
  Decimal: 'Decimal',
  BigInt: 'BigInt',
  DateTime: 'DateTime',
  DateOnly: 'DateTime',
  Picklist: 'Picklist',
  State: 'State',
  Status: 'Status',
  Lookup: 'Lookup',
  Owner: 'Owner',
};
const metadataTypes: Record<string, string> = {
  Uniqueidentifier: 'UniqueIdentifierAttributeMetadata',
  String: 'StringAttributeMetadata',
  Memo: 'MemoAttributeMetadata',
  Integer: 'IntegerAttributeMetadata',
  Decimal: 'DecimalAttributeMetadata',
  BigInt: 'BigIntAttributeMetadata',
  DateTime: 'DateTimeAttributeMetadata',
  Picklist: 'PicklistAttributeMetadata',
  State: 'StateAttributeMetadata',
  Status: 'StatusAttributeMetadata',
  Lookup: 'LookupAttributeMetadata',
  Owner: 'LookupAttributeMetadata',
};

type Json = Record<string, unknown>;

function entityDefinition(table: DataverseTable): Json {
  const { definition } = table;
  return {
    MetadataId: table.metadataId,
    LogicalName: definition.logicalName,
    SchemaName: definition.logicalName,
    EntitySetName: definition.entitySetName,
    LogicalCollectionName: definition.entitySetName,
    ObjectTypeCode: definition.objectTypeCode,
    PrimaryIdAttribute: definition.primaryIdAttribute,
    PrimaryNameAttribute: definition.primaryNameAttribute,
    ChangeTrackingEnabled: table.changeTrackingEnabled,
    IsCustomEntity: true,
    TableType: 'Standard',
  };
}

function attributeDefinition(table: DataverseTable, column: ColumnDefinition): Json {
  const attributeType = attributeTypes[column.kind];
  return {
    '@odata.type': `#Microsoft.Dynamics.CRM.${metadataTypes[attributeType] ?? 'AttributeMetadata'}`,
    LogicalName: column.logicalName,
    SchemaName: column.logicalName,
    AttributeType: attributeType,
    AttributeTypeName: { Value: `${attributeType}Type` },
    EntityLogicalName: table.definition.logicalName,
    IsPrimaryId: column.logicalName === table.definition.primaryIdAttribute,
    IsPrimaryName: column.logicalName === table.definition.primaryNameAttribute,
    ...(column.kind === 'DateOnly' ? { Format: 'DateOnly' } : {}),
    ...(column.target ? { Targets: [column.target] } : {}),
    MetadataId: `${table.metadataId.slice(0, 24)}${String(table.definition.columns.indexOf(column)).padStart(12, '0')}`,
  };
}

function selectKeys(value: Json, select: string | undefined, always: string[]): Json {
  if (!select) return value;
  const names = select.split(',').map((name) => name.trim());
  const out: Json = {};
  if (value['@odata.type']) out['@odata.type'] = value['@odata.type'];
  for (const name of names) {
    if (!(name in value)) throw dataverseErrors.unknownProperty(name, 'EntityMetadata');
    out[name] = value[name];
  }
  for (const name of always) if (!(name in out)) out[name] = value[name];
  return out;
}

function parseExpandAttributes(expand: string | undefined): { expanded: boolean; select?: string } {
  if (!expand) return { expanded: false };
  for (const item of splitTopLevel(expand)) {
    const match = /^Attributes(?:\((.*)\))?$/.exec(item);
    if (!match) throw dataverseErrors.unknownProperty(item, 'EntityMetadata');
    return { expanded: true, select: /\$select=([^;)]*)/.exec(match[1] ?? '')?.[1] };
  }
  return { expanded: false };
}

function render(table: DataverseTable, query: RawQuery): Json {
  const base = selectKeys(entityDefinition(table), query.options.get('$select'), ['MetadataId']);
  const expand = parseExpandAttributes(query.options.get('$expand'));
  if (expand.expanded) {
    base.Attributes = table.definition.columns.map((column) =>
      selectKeys(attributeDefinition(table, column), expand.select, ['MetadataId']),
    );
  }
  return base;
}

function contextSuffix(query: RawQuery): string {
  const select = query.options.get('$select');
  return select ? `(${select})` : '';
}

function respond(body: Json): SandboxResponse {
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0' },
    body: JSON.stringify(body),
  };
}

export function handleEntityDefinitions(
  environment: DataverseEnvironment,
  keySegment: string,
  subSegment: string | undefined,
  query: RawQuery,
): SandboxResponse {
  const present = [...environment.tables.values()].filter((table) => table.present);
  const root = environment.serviceRoot;
  if (keySegment === 'EntityDefinitions') {
    const filterText = query.options.get('$filter');
    let matching = present;
    if (filterText) {
      const kinds: Record<string, FilterColumn> = {
        LogicalName: { key: 'LogicalName', kind: 'string' },
        EntitySetName: { key: 'EntitySetName', kind: 'string' },
        SchemaName: { key: 'SchemaName', kind: 'string' },
        ChangeTrackingEnabled: { key: 'ChangeTrackingEnabled', kind: 'boolean' },
        ObjectTypeCode: { key: 'ObjectTypeCode', kind: 'number' },
        MetadataId: { key: 'MetadataId', kind: 'guid' },
      };
      try {
        const predicate = parseFilter<Json>(filterText, (name) => kinds[name]);
        matching = present.filter((table) => predicate(entityDefinition(table)));
      } catch (error) {
        if (error instanceof FilterPropertyError)
          throw dataverseErrors.unknownProperty(error.property, 'EntityMetadata');
        if (error instanceof FilterSyntaxError || error instanceof FilterTypeError)
          throw dataverseErrors.badQuery(error.message);
        throw error;
      }
    }
    return respond({
      '@odata.context': `${root}$metadata#EntityDefinitions${contextSuffix(query)}`,
      value: matching.map((table) => render(table, query)),
    });
  }
  const keyMatch = /^EntityDefinitions\((?:LogicalName='([^']*)'|([0-9a-fA-F-]{36}))\)$/.exec(keySegment);
  if (!keyMatch) throw dataverseErrors.resourceNotFound(keySegment);
  const table = present.find((candidate) =>
    keyMatch[1] !== undefined
      ? candidate.definition.logicalName === keyMatch[1]
      : candidate.metadataId === keyMatch[2]?.toLowerCase(),
  );
  if (!table) throw dataverseErrors.entityDefinitionNotFound(keyMatch[1] ?? keyMatch[2] ?? '');
  if (subSegment === 'Attributes') {
    const select = query.options.get('$select');
    return respond({
      '@odata.context': `${root}$metadata#EntityDefinitions('${table.metadataId}')/Attributes${contextSuffix(query)}`,
      value: table.definition.columns.map((column) =>
        selectKeys(attributeDefinition(table, column), select, ['MetadataId']),
      ),
    });
  }
  if (subSegment !== undefined) throw dataverseErrors.resourceNotFound(subSegment);
  return respond({
    '@odata.context': `${root}$metadata#EntityDefinitions${contextSuffix(query)}/$entity`,
    ...render(table, query),
  });
}
