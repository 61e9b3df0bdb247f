// Runs the npm package odata (o.js, a small isomorphic OData client on the global fetch), unmodified,
// against a Dataverse environment URL with a token from MSAL Node's production configuration. Started by
// test/sandbox/independent-odata-client.test.ts in its own process so NODE_EXTRA_CA_CERTS applies.
// Input: one JSON argument. Output: one JSON object on stdout with what the client saw.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { o } from 'odata';

const input = JSON.parse(process.argv[2]);
const { authority, knownAuthority, clientId, clientSecret, environmentUrl } = input;

const msal = new ConfidentialClientApplication({
  auth: { clientId, authority, clientSecret, knownAuthorities: [knownAuthority] },
});
const { accessToken } = await msal.acquireTokenByClientCredential({ scopes: [`${environmentUrl}/.default`] });

const common = {
  Authorization: `Bearer ${accessToken}`,
  Accept: 'application/json',
  'OData-MaxVersion': '4.0',
  'OData-Version': '4.0',
};
// o.js sends a batch with the batch headers only, so the token goes there too (its README's configuration).
const config = {
  headers: new Headers({ ...common, 'Content-Type': 'application/json' }),
  batch: {
    boundaryPrefix: 'batch_',
    changsetBoundaryPrefix: 'changset_',
    endpoint: '$batch',
    headers: new Headers({ ...common, 'Content-Type': 'multipart/mixed' }),
    useChangset: false,
    useRelativeURLs: false,
  },
};
// Paging asks for a page size; $top would be ignored beside it ("Page results using OData").
const paged = { ...config, headers: new Headers({ ...common, Prefer: 'odata.maxpagesize=8' }) };
const root = `${environmentUrl}/api/data/v9.2/`;
const out = {};

// Paging: the first page with $count=true, then each @odata.nextLink handed back to o.js, which parses
// its query and writes it again with encodeURIComponent ('=' as %3D, quotes as %27).
const first = await (
  await o(root, paged).get('cdm_workers').fetch({ $select: 'cdm_workerid,cdm_lastname', $count: 'true' })
).json();
out.firstCount = first['@odata.count'];
out.pageSizes = [first.value.length];
out.pagedIds = first.value.map((row) => row.cdm_workerid);
let next = first['@odata.nextLink'];
while (next) {
  const page = await (await o(next, paged).get().fetch()).json();
  out.pageSizes.push(page.value.length);
  out.pagedIds.push(...page.value.map((row) => row.cdm_workerid));
  next = page['@odata.nextLink'];
}

// The /$count segment (plain text, which o.js reads as a JSON number).
out.count = await o(root, config).get('cdm_workers/$count').query();

// $filter with a string function, $orderby on two keys, $expand of a lookup, all encoded by o.js.
const lastName = first.value[0].cdm_lastname;
out.prefix = lastName.slice(0, 2);
out.startswith = await o(root, config)
  .get('cdm_workers')
  .query({
    $filter: `startswith(cdm_lastname,'${out.prefix}')`,
    $select: 'cdm_workerid,cdm_lastname,cdm_firstname',
    $orderby: 'cdm_lastname asc,cdm_firstname desc',
  });
out.expanded = await o(root, config)
  .get('cdm_positionworkerassignmentmaps')
  .query({ $select: '_cdm_workerid_value', $expand: 'cdm_WorkerId($select=cdm_lastname)', $top: '2' });

// An update, then $batch of two GETs (absolute part URLs, parts parsed by splitting on blank lines).
const targetId = first.value[0].cdm_workerid;
const patched = await o(root, config).patch(`cdm_workers(${targetId})`, { cdm_firstname: 'Ojs' }).query();
out.patchStatus = patched.status;
out.batch = await o(root, config)
  .get('cdm_workers')
  .get('cdm_companies')
  .batch({ $select: 'createdon', $top: '2' });
out.afterPatch = await o(root, config).get(`cdm_workers(${targetId})`).query({ $select: 'cdm_firstname' });

// A failing request: o.js throws the Response.
try {
  await o(root, config).get('cdm_workers').query({ $filter: 'no_such_column eq 1' });
  out.error = 'no error';
} catch (response) {
  out.error = { status: response.status, body: await response.json() };
}

process.stdout.write(JSON.stringify(out));
