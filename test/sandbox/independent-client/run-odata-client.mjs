// Runs the npm package @odata/client (a generic OData v4 client, not written for Dataverse), unmodified,
// against a Dataverse environment URL with a token from MSAL Node's production configuration. Started by
// test/sandbox/independent-odata-client.test.ts in its own process so NODE_EXTRA_CA_CERTS applies.
// Input: one JSON argument. Output: one JSON object on stdout with what the client saw.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Guid, OData, transformation } from '@odata/client';

const input = JSON.parse(process.argv[2]);
const { authority, knownAuthority, clientId, clientSecret, environmentUrl } = input;

const msal = new ConfidentialClientApplication({
  auth: { clientId, authority, clientSecret, knownAuthorities: [knownAuthority] },
});
const { accessToken } = await msal.acquireTokenByClientCredential({ scopes: [`${environmentUrl}/.default`] });

const serviceEndpoint = `${environmentUrl}/api/data/v9.2/`;
const headers = { Authorization: `Bearer ${accessToken}`, 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' };
const client = OData.New4({ serviceEndpoint, commonHeaders: headers });
const workers = client.getEntitySet('cdm_workers');
const out = {};

// $count: the library asks $top=1&$count=true and reads @odata.count.
out.count = await workers.count();
const [sample] = await workers.query(client.newParam().select(['cdm_workerid', 'cdm_lastname']).top(1));
out.sampleLastName = sample.cdm_lastname;
out.countByLastName = await workers.count(
  client.newFilter().field('cdm_lastname').eqString(sample.cdm_lastname),
);

// $filter with string functions, $orderby on two keys, $select, $top.
const prefix = sample.cdm_lastname.slice(0, 1);
const fragment = sample.cdm_lastname.slice(1, 3);
out.startswith = await workers.query(
  client
    .newParam()
    .filter(`startswith(cdm_lastname,'${prefix}')`)
    .select(['cdm_workerid', 'cdm_lastname', 'cdm_firstname'])
    .orderbyMulti([
      { field: 'cdm_lastname', order: 'asc' },
      { field: 'cdm_firstname', order: 'desc' },
    ]),
);
out.prefix = prefix;
out.contains = await workers.query(
  client.newParam().filter(`contains(cdm_lastname,'${fragment}')`).select(['cdm_workerid', 'cdm_lastname']),
);
out.fragment = fragment;

// One row by key (the library writes a GUID key unquoted when given its Guid value type), and $expand of a lookup.
out.single = await workers.retrieve(
  Guid.from(sample.cdm_workerid),
  client.newParam().select(['cdm_lastname']),
);
const employments = client.getEntitySet('cdm_employments');
out.expanded = await employments.query(
  client
    .newParam()
    .select(['cdm_employmentid', '_cdm_workerid_value'])
    .expand('cdm_WorkerId($select=cdm_workerid,cdm_lastname)')
    .top(3),
);

// $apply: the library's aggregate transformation, and a groupby written as Microsoft's examples write it.
out.aggregate = await workers.query(client.newParam().apply(transformation().aggregate('$count as total')));
out.groupby = await workers.query(
  client.newParam().apply('groupby((cdm_gender),aggregate($count as count))'),
);

// Paging: Prefer odata.maxpagesize on the client's headers, then @odata.nextLink followed as it is.
const pager = OData.New4({ serviceEndpoint, commonHeaders: { ...headers, Prefer: 'odata.maxpagesize=9' } });
let page = await pager.newRequest({
  collection: 'cdm_workers',
  params: pager.newParam().select(['cdm_workerid']),
});
out.pageSizes = [page.value.length];
out.pagedIds = page.value.map((row) => row.cdm_workerid);
while (page['@odata.nextLink']) {
  page = await pager.requestUri(page['@odata.nextLink']);
  out.pageSizes.push(page.value.length);
  out.pagedIds.push(...page.value.map((row) => row.cdm_workerid));
}

// $batch: a query and an update (the library wraps each write in its own change set).
const responses = await client.execBatchRequests([
  client.newBatchRequest({
    collection: 'cdm_workers',
    params: client.newParam().select(['cdm_workerid']).top(2),
  }),
  client.newBatchRequest({
    collection: 'cdm_workers',
    id: Guid.from(sample.cdm_workerid),
    method: 'PATCH',
    entity: { cdm_firstname: 'Batched' },
  }),
]);
out.batch = await Promise.all(
  responses.map(async (response) => ({
    status: response.status,
    body: response.status === 200 ? await response.json() : undefined,
  })),
);
out.afterBatch = await workers.retrieve(
  Guid.from(sample.cdm_workerid),
  client.newParam().select(['cdm_firstname']),
);

// An error as the library surfaces it (it reads error.message of the v4 body).
try {
  await workers.query(client.newParam().filter('no_such_column eq 1'));
  out.error = 'no error';
} catch (error) {
  out.error = { name: error.constructor.name, message: error.message };
}

process.stdout.write(JSON.stringify(out));
