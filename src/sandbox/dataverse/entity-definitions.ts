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
 * EntityDefinitions as Dataverse answers them ("Query table definitions using the Web API"; the
 * EntityMetadata and *AttributeMetadata types of the Web API reference; docs/microsoft-wire.md):
 * by LogicalName key or MetadataId (404 when absent), as a collection with `$filter` (empty value when
 * absent), `$select`, `$expand=Attributes($select=...)`, `/Attributes`, `/Attributes(LogicalName='x')`,
 * and attribute-type casts (`/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata`) with
 * `$expand=OptionSet` on picklists. Managed properties are `{Value, CanBeChanged,
 * ManagedPropertyLogicalName}` and labels `{LocalizedLabels, UserLocalizedLabel}`, as on the wire.
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
const castPrefix = 'Microsoft.Dynamics.CRM.';
/** English (United States), the label language of a default environment. */
const languageCode = 1033;

type Json = Record<string, unknown>;

function managed(value: unknown, canBeChanged: boolean, logicalName: string): Json {
  return { Value: value, CanBeChanged: canBeChanged, ManagedPropertyLogicalName: logicalName };
}

function label(text: string, metadataId: string): Json {
  const localized = {
    Label: text,
    LanguageCode: languageCode,
    IsManaged: true,
    MetadataId: metadataId,
    HasChanged: null,
  };
  return { LocalizedLabels: text ? [localized] : [], UserLocalizedLabel: text ? localized : null };
}

/** `cdm_jobposition` → `Job Position`: a readable display name without inventing one per table. */
function displayText(logicalName: string): string {
  return logicalName
    .replace(/^cdm_/, '')
    .replace(/id$/, ' id')
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join(' ');
}

function derivedId(table: DataverseTable, index: number): string {
  return `${table.metadataId.slice(0, 24)}${String(index).padStart(12, '0')}`;
}

function entityDefinition(table: DataverseTable): Json {
  const { definition } = table;
  return {
    MetadataId: table.metadataId,
    LogicalName: definition.logicalName,
    SchemaName: definition.logicalName,
    EntitySetName: definition.entitySetName,
    LogicalCollectionName: definition.entitySetName,
    CollectionSchemaName: definition.entitySetName,
    ObjectTypeCode: definition.objectTypeCode,
    PrimaryIdAttribute: definition.primaryIdAttribute,
    PrimaryNameAttribute: definition.primaryNameAttribute,
    DisplayName: label(displayText(definition.logicalName), derivedId(table, 900_001)),
    DisplayCollectionName: label(`${displayText(definition.logicalName)}s`, derivedId(table, 900_002)),
    Description: label('', derivedId(table, 900_003)),
    ChangeTrackingEnabled: table.changeTrackingEnabled,
    CanChangeTrackingBeEnabled: managed(true, true, 'canchangetrackingbeenabled'),
    IsCustomizable: managed(true, true, 'iscustomizable'),
    IsAuditEnabled: managed(false, true, 'canmodifyauditsettings'),
    IsValidForQueue: managed(false, true, 'canmodifyqueuesettings'),
    IsCustomEntity: true,
    IsManaged: true,
    IsActivity: false,
    IsIntersect: false,
    IsLogicalEntity: false,
    IsPrivate: false,
    IsValidForAdvancedFind: true,
    IsValidODataAttribute: true,
    OwnershipType: definition.columns.some((column) => column.kind === 'Owner')
      ? 'UserOwned'
      : 'OrganizationOwned',
    HasActivities: false,
    HasNotes: false,
    TableType: 'Standard',
    IntroducedVersion: '1.0',
  };
}

function attributeDefinition(table: DataverseTable, column: ColumnDefinition): Json {
  const attributeType = attributeTypes[column.kind];
  const index = table.definition.columns.indexOf(column);
  const isKey = column.logicalName === table.definition.primaryIdAttribute;
  const base: Json = {
    '@odata.type': `#${castPrefix}${metadataTypes[attributeType] ?? 'AttributeMetadata'}`,
    MetadataId: derivedId(table, index),
    LogicalName: column.logicalName,
    SchemaName: column.logicalName,
    EntityLogicalName: table.definition.logicalName,
    AttributeOf: null,
    AttributeType: attributeType,
    AttributeTypeName: { Value: `${attributeType}Type` },
    ColumnNumber: index + 1,
    DisplayName: label(displayText(column.logicalName), derivedId(table, 500_000 + index)),
    Description: label('', derivedId(table, 600_000 + index)),
    IsPrimaryId: isKey,
    IsPrimaryName: column.logicalName === table.definition.primaryNameAttribute,
    IsCustomAttribute: column.logicalName.startsWith('cdm_'),
    IsLogical: false,
    IsValidForRead: true,
    IsValidForCreate: !['createdon', 'modifiedon', 'versionnumber'].includes(column.logicalName),
    IsValidForUpdate: !isKey && !['createdon', 'modifiedon', 'versionnumber'].includes(column.logicalName),
    IsValidODataAttribute: true,
    IsFilterable: true,
    IsSearchable: true,
    IsSecured: false,
    IsManaged: true,
    SourceType: 0,
    RequiredLevel: managed(isKey ? 'SystemRequired' : 'None', true, 'canmodifyrequirementlevelsettings'),
    IsCustomizable: managed(true, true, 'iscustomizable'),
    IsAuditEnabled: managed(false, true, 'canmodifyauditsettings'),
    IntroducedVersion: '1.0',
  };
  return { ...base, ...typeSpecific(column) };
}

/** Properties only a given *AttributeMetadata type has (the Web API reference's EntityType pages). */
function typeSpecific(column: ColumnDefinition): Json {
  switch (column.kind) {
    case 'DateTime':
    case 'DateOnly': {
      const dateOnly = column.kind === 'DateOnly';
      // The system columns as Microsoft's table reference pages list createdon: UserLocal, DateAndTime,
      // CanChangeDateTimeBehavior False, ImeMode Inactive. A date-only column is DateOnly (no conversion).
      const system = ['createdon', 'modifiedon'].includes(column.logicalName);
      return {
        Format: dateOnly ? 'DateOnly' : 'DateAndTime',
        DateTimeBehavior: { Value: dateOnly ? 'DateOnly' : 'UserLocal' },
        CanChangeDateTimeBehavior: managed(!system, false, 'canchangedatetimebehavior'),
        ImeMode: system ? 'Inactive' : 'Auto',
        MinSupportedValue: '1753-01-01T00:00:00Z',
        MaxSupportedValue: '9999-12-30T23:59:59Z',
      };
    }
    case 'String':
      return {
        MaxLength: 100,
        DatabaseLength: 200,
        Format: 'Text',
        FormatName: { Value: 'Text' },
        ImeMode: 'Auto',
      };
    case 'Memo':
      return {
        MaxLength: 2000,
        DatabaseLength: 4000,
        Format: 'TextArea',
        FormatName: { Value: 'TextArea' },
        ImeMode: 'Auto',
      };
    case 'Integer':
      return { MinValue: -2147483648, MaxValue: 2147483647, Format: 'None' };
    case 'BigInt':
      // MinValue/MaxValue are Edm.Int64 bounds that a JSON number cannot carry exactly: left out.
      return {};
    case 'Decimal':
      return { MinValue: -100000000000, MaxValue: 100000000000, Precision: 2, ImeMode: 'Auto' };
    case 'Picklist':
    case 'State':
    case 'Status':
      return { DefaultFormValue: -1 };
    case 'Lookup':
    case 'Owner':
      return { Targets: column.target ? [column.target] : [], Format: 'None' };
    default:
      return {};
  }
}

function optionSetDefinition(table: DataverseTable, column: ColumnDefinition): Json {
  const index = table.definition.columns.indexOf(column);
  const options = Object.entries(column.optionSet ?? {}).map(([value, text], position) => ({
    Value: Number(value),
    Color: null,
    IsManaged: true,
    MetadataId: null,
    HasChanged: null,
    Label: label(text, derivedId(table, 700_000 + index * 100 + position)),
    Description: label('', derivedId(table, 800_000 + index * 100 + position)),
  }));
  return {
    MetadataId: derivedId(table, 400_000 + index),
    Name: `${table.definition.logicalName}_${column.logicalName}`,
    OptionSetType: column.kind === 'Picklist' ? 'Picklist' : column.kind,
    IsGlobal: false,
    IsCustomOptionSet: true,
    IsManaged: true,
    Options: options,
  };
}

function selectKeys(value: Json, select: string | undefined, always: string[], typeName: string): Json {
  if (!select) return value;
  const names = select.split(',').map((name) => name.trim());
  const out: Json = {};
  if (value['@odata.type']) out['@odata.type'] = value['@odata.type'];
  for (const name of names) {
    if (!(name in value)) throw dataverseErrors.unknownProperty(name, typeName);
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
  const base = selectKeys(
    entityDefinition(table),
    query.options.get('$select'),
    ['MetadataId'],
    'EntityMetadata',
  );
  const expand = parseExpandAttributes(query.options.get('$expand'));
  if (expand.expanded) {
    base.Attributes = table.definition.columns.map((column) =>
      selectKeys(attributeDefinition(table, column), expand.select, ['MetadataId'], 'AttributeMetadata'),
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

function filterWith<T>(
  items: T[],
  text: string | undefined,
  kinds: Record<string, FilterColumn>,
  view: (item: T) => Json,
  typeName: string,
): T[] {
  if (!text) return items;
  try {
    const predicate = parseFilter<Json>(text, (name) => kinds[name]);
    return items.filter((item) => predicate(view(item)));
  } catch (error) {
    if (error instanceof FilterPropertyError) throw dataverseErrors.unknownProperty(error.property, typeName);
    if (error instanceof FilterSyntaxError || error instanceof FilterTypeError)
      throw dataverseErrors.badQuery(error.message);
    throw error;
  }
}

const entityFilterColumns: Record<string, FilterColumn> = {
  LogicalName: { key: 'LogicalName', kind: 'string' },
  EntitySetName: { key: 'EntitySetName', kind: 'string' },
  SchemaName: { key: 'SchemaName', kind: 'string' },
  ChangeTrackingEnabled: { key: 'ChangeTrackingEnabled', kind: 'boolean' },
  IsCustomEntity: { key: 'IsCustomEntity', kind: 'boolean' },
  IsIntersect: { key: 'IsIntersect', kind: 'boolean' },
  IsPrivate: { key: 'IsPrivate', kind: 'boolean' },
  ObjectTypeCode: { key: 'ObjectTypeCode', kind: 'number' },
  MetadataId: { key: 'MetadataId', kind: 'guid' },
};
const attributeFilterColumns: Record<string, FilterColumn> = {
  LogicalName: { key: 'LogicalName', kind: 'string' },
  SchemaName: { key: 'SchemaName', kind: 'string' },
  // AttributeType is an enum (Microsoft.Dynamics.CRM.AttributeTypeCode'DateTime').
  AttributeType: { key: 'AttributeType', kind: 'enum' },
  IsValidForRead: { key: 'IsValidForRead', kind: 'boolean' },
  IsPrimaryId: { key: 'IsPrimaryId', kind: 'boolean' },
  IsCustomAttribute: { key: 'IsCustomAttribute', kind: 'boolean' },
  IsLogical: { key: 'IsLogical', kind: 'boolean' },
  MetadataId: { key: 'MetadataId', kind: 'guid' },
};

/** `Microsoft.Dynamics.CRM.DateTimeAttributeMetadata` → the attribute types it selects. */
function castFilter(
  segment: string | undefined,
): { typeName: string; matches: (column: ColumnDefinition) => boolean } | undefined {
  if (segment === undefined) return undefined;
  if (!segment.startsWith(castPrefix)) throw dataverseErrors.resourceNotFound(segment);
  const typeName = segment.slice(castPrefix.length);
  const known = new Set(Object.values(metadataTypes));
  if (!known.has(typeName)) throw dataverseErrors.resourceNotFound(segment);
  return { typeName, matches: (column) => metadataTypes[attributeTypes[column.kind]] === typeName };
}

function renderAttribute(
  table: DataverseTable,
  column: ColumnDefinition,
  query: RawQuery,
  typeName: string,
): Json {
  const value = selectKeys(
    attributeDefinition(table, column),
    query.options.get('$select'),
    ['MetadataId'],
    typeName,
  );
  const expand = query.options.get('$expand');
  if (expand) {
    for (const item of splitTopLevel(expand)) {
      const name = item.replace(/\(.*\)$/, '');
      // OptionSet is a navigation property of the enum attribute types only (a cast is needed to expand it).
      if (name !== 'OptionSet' || !column.optionSet || typeName === 'AttributeMetadata')
        throw dataverseErrors.unknownProperty(name, typeName);
      value.OptionSet = optionSetDefinition(table, column);
    }
  }
  return value;
}

/**
 * `resource` is `EntityDefinitions` or `EntityDefinitions(<key>)`; `rest` the segments after it, e.g.
 * `['Attributes', 'Microsoft.Dynamics.CRM.DateTimeAttributeMetadata']` or `["Attributes(LogicalName='x')"]`.
 */
export function handleEntityDefinitions(
  environment: DataverseEnvironment,
  keySegment: string,
  rest: string[],
  query: RawQuery,
): SandboxResponse {
  const present = [...environment.tables.values()].filter((table) => table.present);
  const root = environment.serviceRoot;
  if (keySegment === 'EntityDefinitions') {
    if (rest.length > 0) throw dataverseErrors.resourceNotFound(rest[0] ?? '');
    const matching = filterWith(
      present,
      query.options.get('$filter'),
      entityFilterColumns,
      entityDefinition,
      'EntityMetadata',
    );
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
  const [navigation, ...afterNavigation] = rest;
  if (navigation === undefined) {
    if (environment.entityDefinitionsShape === 'collection') {
      return respond({
        '@odata.context': `${root}$metadata#EntityDefinitions${contextSuffix(query)}`,
        value: [render(table, query)],
      });
    }
    return respond({
      '@odata.context': `${root}$metadata#EntityDefinitions${contextSuffix(query)}/$entity`,
      ...render(table, query),
    });
  }
  const attributesPath = `${root}$metadata#EntityDefinitions('${table.metadataId}')/Attributes`;
  if (navigation === 'Attributes') {
    if (afterNavigation.length > 1) throw dataverseErrors.resourceNotFound(afterNavigation[1] ?? '');
    const cast = castFilter(afterNavigation[0]);
    const typeName = cast?.typeName ?? 'AttributeMetadata';
    const columns = filterWith(
      table.definition.columns.filter((column) => !cast || cast.matches(column)),
      query.options.get('$filter'),
      attributeFilterColumns,
      (column) => attributeDefinition(table, column),
      typeName,
    );
    return respond({
      '@odata.context': `${attributesPath}${cast ? `/${castPrefix}${cast.typeName}` : ''}${contextSuffix(query)}`,
      value: columns.map((column) => renderAttribute(table, column, query, typeName)),
    });
  }
  const single = /^Attributes\((?:LogicalName='([^']*)'|([0-9a-fA-F-]{36}))\)$/.exec(navigation);
  if (!single) throw dataverseErrors.resourceNotFound(navigation);
  if (afterNavigation.length > 1) throw dataverseErrors.resourceNotFound(afterNavigation[1] ?? '');
  const column = table.definition.columns.find((candidate, index) =>
    single[1] !== undefined
      ? candidate.logicalName === single[1]
      : derivedId(table, index) === single[2]?.toLowerCase(),
  );
  if (!column)
    throw dataverseErrors.attributeNotFound(single[1] ?? single[2] ?? '', table.definition.logicalName);
  const cast = castFilter(afterNavigation[0]);
  if (cast && !cast.matches(column))
    throw dataverseErrors.attributeNotFound(column.logicalName, table.definition.logicalName);
  const typeName = cast?.typeName ?? 'AttributeMetadata';
  return respond({
    '@odata.context': `${attributesPath}${cast ? `/${castPrefix}${cast.typeName}` : ''}${contextSuffix(query)}/$entity`,
    ...renderAttribute(table, column, query, typeName),
  });
}
