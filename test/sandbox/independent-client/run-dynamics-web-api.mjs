// Runs the npm package dynamics-web-api, unmodified, against a Dataverse environment URL, with a token
// from MSAL Node's production configuration. Started by test/sandbox/independent-client.test.ts in its
// own process so NODE_EXTRA_CA_CERTS (how docs/sandbox.md tells clients to trust the sandbox) applies.
// Input: one JSON argument. Output: one JSON object on stdout with what the client saw.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { DynamicsWebApi } from 'dynamics-web-api';

const input = JSON.parse(process.argv[2]);
const { authority, knownAuthority, clientId, clientSecret, environmentUrl, table } = input;

const msal = new ConfidentialClientApplication({
  auth: { clientId, authority, clientSecret, knownAuthorities: [knownAuthority] },
});
const acquireToken = async () => {
  const result = await msal.acquireTokenByClientCredential({ scopes: [`${environmentUrl}/.default`] });
  return result.accessToken;
};

const api = new DynamicsWebApi({
  serverUrl: environmentUrl,
  dataApi: { version: '9.2' },
  onTokenRefresh: acquireToken,
});
const out = {};
const idColumn = table.primaryId;
const nameColumn = table.primaryName;

// Paging with a page size and $count.
const firstPage = await api.retrieveMultiple({
  collection: table.set,
  select: [idColumn, nameColumn],
  maxPageSize: 7,
  count: true,
});
out.firstPage = {
  size: firstPage.value.length,
  count: firstPage.oDataCount,
  hasNextLink: typeof firstPage.oDataNextLink === 'string',
  nextLink: firstPage.oDataNextLink,
};
const all = await api.retrieveAll({ collection: table.set, select: [idColumn], maxPageSize: 7 });
out.allIds = all.value.map((row) => row[idColumn]);

// /$count without a filter, $count=true with one.
out.count = await api.count({ collection: table.set });
const someName = firstPage.value[0][nameColumn];
out.filterName = someName;
out.countFiltered = await api.count({
  collection: table.set,
  filter: `${nameColumn} eq '${someName.replace(/'/g, "''")}'`,
});
const filtered = await api.retrieveMultiple({
  collection: table.set,
  select: [idColumn, nameColumn],
  filter: `${nameColumn} eq '${someName.replace(/'/g, "''")}'`,
});
out.filtered = filtered.value.map((row) => ({ id: row[idColumn], name: row[nameColumn] }));

// FetchXML, all pages through the paging cookie (requested as an annotation, as Microsoft documents).
const fetchAll = await api.fetchAll({
  collection: table.set,
  fetchXml: `<fetch count="11"><entity name="${table.logicalName}"><attribute name="${idColumn}" /><attribute name="${nameColumn}" /><order attribute="${nameColumn}" /></entity></fetch>`,
  includeAnnotations: 'Microsoft.Dynamics.CRM.fetchxmlpagingcookie',
});
out.fetchAllIds = fetchAll.value.map((row) => row[idColumn]);
out.fetchAllNames = fetchAll.value.map((row) => row[nameColumn]);

// Table definitions.
out.entity = await api.retrieveEntity({
  key: `LogicalName='${table.logicalName}'`,
  select: [
    'LogicalName',
    'EntitySetName',
    'PrimaryIdAttribute',
    'ChangeTrackingEnabled',
    'CanChangeTrackingBeEnabled',
    'IsCustomizable',
  ],
});
const entities = await api.retrieveEntities({
  select: ['LogicalName', 'EntitySetName'],
  filter: 'ChangeTrackingEnabled eq true',
});
out.entitySets = entities.value.map((entity) => entity.EntitySetName);
const dateAttributes = await api.retrieveAttributes({
  entityKey: `LogicalName='${table.logicalName}'`,
  castType: 'Microsoft.Dynamics.CRM.DateTimeAttributeMetadata',
  select: ['LogicalName', 'Format', 'DateTimeBehavior'],
});
out.dateAttributes = dateAttributes.value.map((attribute) => ({
  name: attribute.LogicalName,
  format: attribute.Format,
  behavior: attribute.DateTimeBehavior?.Value,
}));

// Change tracking: initial load with a deltaLink, then a write through $batch, then the delta.
const tracked = await api.retrieveAll({
  collection: table.set,
  select: [idColumn, nameColumn],
  trackChanges: true,
  maxPageSize: 9,
});
out.trackedCount = tracked.value.length;
out.hasDeltaLink = typeof tracked.oDataDeltaLink === 'string';

const [targetId, otherId] = out.allIds;
api.startBatch();
api.retrieveMultiple({ collection: table.set, select: [idColumn], top: 2 });
api.update({ collection: table.set, key: targetId, data: { [nameColumn]: 'Written In A Batch' } });
out.batch = (await api.executeBatch()).map((item) =>
  item && typeof item === 'object' && 'value' in item ? item.value.length : item,
);

// A change set that fails part-way is rolled back whole.
api.startBatch();
api.update({ collection: table.set, key: otherId, data: { [nameColumn]: 'Never Kept' } });
api.update({ collection: table.set, key: otherId, data: { no_such_column: 1 } });
try {
  await api.executeBatch();
  out.failedBatch = 'succeeded';
} catch (error) {
  const first = Array.isArray(error) ? error[0] : error;
  // For a batch part the library keeps the body as sent: { error: { code, message } }.
  out.failedBatch = { status: first?.status, code: first?.code ?? first?.error?.code };
}

const delta = await api.retrieveMultiple(
  { collection: table.set, select: [idColumn, nameColumn], trackChanges: true },
  tracked.oDataDeltaLink,
);
out.delta = delta.value.map((row) => ({ id: row[idColumn], name: row[nameColumn] }));
out.nextDeltaLink = typeof delta.oDataDeltaLink === 'string';

// Beyond the basics, on a third row: one property, a lookup by $ref, a Dataverse query function, $apply,
// and a conditional retrieve (304).
const thirdId = out.allIds[2];
await api.updateSingleProperty({
  collection: table.set,
  key: thirdId,
  fieldValuePair: { [nameColumn]: 'Single Property' },
});
await api.associateSingleValued({
  collection: table.set,
  primaryKey: thirdId,
  navigationProperty: table.managerNavigation,
  relatedCollection: table.set,
  relatedKey: targetId,
});
const third = await api.retrieve({
  collection: table.set,
  key: thirdId,
  select: [nameColumn, table.managerLookup],
});
out.singleProperty = third[nameColumn];
out.manager = third[table.managerLookup];
const inFilter = await api.retrieveMultiple({
  collection: table.set,
  select: [idColumn],
  filter: `Microsoft.Dynamics.CRM.In(PropertyName='${idColumn}',PropertyValues=['${targetId}','${thirdId}'])`,
});
out.inFilter = inFilter.value.map((row) => row[idColumn]).sort();
const grouped = await api.retrieveMultiple({ collection: table.set, apply: 'aggregate($count as total)' });
out.aggregateTotal = grouped.value[0]?.total;
const etagged = await api.retrieve({ collection: table.set, key: thirdId, select: [nameColumn] });
const unchanged = await api.retrieve({
  collection: table.set,
  key: thirdId,
  select: [nameColumn],
  ifnonematch: etagged['@odata.etag'],
});
// On 304 the library hands back no row at all.
out.notModified = unchanged ?? 'no row';

process.stdout.write(JSON.stringify(out));
