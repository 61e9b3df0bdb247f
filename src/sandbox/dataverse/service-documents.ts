import { odataJsonContentType, type SandboxResponse } from '../http/types.js';
import { type ColumnDefinition, type ColumnKind, wireName } from './catalog.js';
import type { DataverseEnvironment } from './environment.js';

/**
 * The OData service documents of the Web API ("Web API service documents", "Web API EntityTypes";
 * docs/microsoft-wire.md): `GET /api/data/v9.2/` lists the entity sets, `GET /api/data/v9.2/$metadata` is
 * the CSDL (namespace Microsoft.Dynamics.CRM, alias mscrm, container System), both limited to the tables
 * this environment serves right now.
 */
const metadataEntitySets = ['EntityDefinitions'];

export function serviceDocument(environment: DataverseEnvironment): SandboxResponse {
  const present = [...environment.tables.values()].filter((table) => table.present);
  const names = [...present.map((table) => table.definition.entitySetName), ...metadataEntitySets].sort();
  return {
    status: 200,
    headers: { 'content-type': odataJsonContentType, 'odata-version': '4.0' },
    body: JSON.stringify({
      '@odata.context': `${environment.serviceRoot}$metadata`,
      value: names.map((name) => ({ name, kind: 'EntitySet', url: name })),
    }),
  };
}

export const edmTypes: Record<ColumnKind, string> = {
  Uniqueidentifier: 'Edm.Guid',
  String: 'Edm.String',
  Memo: 'Edm.String',
  Integer: 'Edm.Int32',
  Decimal: 'Edm.Decimal',
  BigInt: 'Edm.Int64',
  DateTime: 'Edm.DateTimeOffset',
  DateOnly: 'Edm.Date',
  Picklist: 'Edm.Int32',
  State: 'Edm.Int32',
  Status: 'Edm.Int32',
  Lookup: 'Edm.Guid',
  Owner: 'Edm.Guid',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function property(column: ColumnDefinition): string {
  const scale = column.kind === 'Decimal' ? ' Scale="Variable"' : '';
  return `<Property Name="${escapeXml(wireName(column))}" Type="${edmTypes[column.kind]}"${scale} />`;
}

export function metadataDocument(environment: DataverseEnvironment): SandboxResponse {
  const present = [...environment.tables.values()].filter((table) => table.present);
  const logicalNames = new Set(present.map((table) => table.definition.logicalName));
  const types = present.map(({ definition }) => {
    const navigation = definition.columns
      .filter((column) => column.navigationProperty && column.target && logicalNames.has(column.target))
      .map(
        (column) =>
          `<NavigationProperty Name="${escapeXml(column.navigationProperty as string)}" Type="mscrm.${escapeXml(column.target as string)}" Nullable="false" Partner="${escapeXml(definition.logicalName)}_${escapeXml(column.logicalName)}"><ReferentialConstraint Property="${escapeXml(wireName(column))}" ReferencedProperty="${escapeXml(`${column.target}id`)}" /></NavigationProperty>`,
      )
      .join('');
    return `<EntityType Name="${escapeXml(definition.logicalName)}" BaseType="mscrm.crmbaseentity"><Key><PropertyRef Name="${escapeXml(definition.primaryIdAttribute)}" /></Key>${definition.columns.map(property).join('')}${navigation}</EntityType>`;
  });
  const sets = present.map(
    ({ definition }) =>
      `<EntitySet Name="${escapeXml(definition.entitySetName)}" EntityType="Microsoft.Dynamics.CRM.${escapeXml(definition.logicalName)}" />`,
  );
  const body = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    '<edmx:DataServices>',
    '<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    '<EntityType Name="crmbaseentity" Abstract="true" />',
    '<EntityType Name="EntityMetadata"><Key><PropertyRef Name="MetadataId" /></Key><Property Name="MetadataId" Type="Edm.Guid" Nullable="false" /><Property Name="LogicalName" Type="Edm.String" /><Property Name="EntitySetName" Type="Edm.String" /><Property Name="ChangeTrackingEnabled" Type="Edm.Boolean" /></EntityType>',
    ...types,
    '<ComplexType Name="WhoAmIResponse"><Property Name="BusinessUnitId" Type="Edm.Guid" Nullable="false" /><Property Name="UserId" Type="Edm.Guid" Nullable="false" /><Property Name="OrganizationId" Type="Edm.Guid" Nullable="false" /></ComplexType>',
    '<Function Name="WhoAmI"><ReturnType Type="mscrm.WhoAmIResponse" Nullable="false" /></Function>',
    '<EntityContainer Name="System">',
    ...sets,
    '<EntitySet Name="EntityDefinitions" EntityType="Microsoft.Dynamics.CRM.EntityMetadata" />',
    '<FunctionImport Name="WhoAmI" Function="Microsoft.Dynamics.CRM.WhoAmI" IncludeInServiceDocument="false" />',
    '</EntityContainer>',
    '</Schema>',
    '</edmx:DataServices>',
    '</edmx:Edmx>',
  ].join('');
  return {
    status: 200,
    headers: { 'content-type': 'application/xml', 'odata-version': '4.0' },
    body,
  };
}
