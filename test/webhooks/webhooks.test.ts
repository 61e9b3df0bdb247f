import { afterAll, describe, expect, it } from 'vitest';
import { sweepExpiringAccounts } from '../../src/accounts/expiry.js';
import { createAccountWithCredentials } from '../../src/accounts/linked-accounts.js';
import { createPlatform } from '../../src/platforms/platform-service.js';
import { WebhookService } from '../../src/webhooks/webhook-service.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { sandboxCredentials, startFileSandbox } from '../helpers/sandbox.js';
import { type ReceivedRequest, startReceiver, verify } from './receiver.js';

const db = await createTestDatabase();
const sandbox = await startFileSandbox({ workers: 60, seed: 11 });
const { app, services, config } = await createTestApp(
  db,
  {
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_RETRY_DELAYS_SECONDS: '0.3,0.3,0.3',
    SYNC_RETRY_BUDGET_SECONDS: '5',
  },
  false,
  { caCertPem: sandbox.caCertPem },
);
await services.sync.start();
// Delivery as on a worker, turning runs into events 2 records per transaction (so the sync tests
// below also cover a run dispatched in several slices).
const webhooks = new WebhookService({
  db,
  keyring: services.keyring,
  config,
  log: { info() {}, warn() {}, error() {} },
  dispatchSlice: 2,
});
await webhooks.startWorker(2);
afterAll(() => webhooks.stop());
const receiver = await startReceiver();

async function newPlatform(name: string) {
  const { platform, apiKey } = await createPlatform(db.prisma, name);
  const headers = { authorization: `Bearer ${apiKey}` };
  return { platform, apiKey, headers };
}

async function createEndpoint(headers: Record<string, string>, body: Record<string, unknown>) {
  const response = await app.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers, payload: body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; secret: string; url: string; status: string };
}

async function linkAccount(platformId: string, origin: string) {
  return createAccountWithCredentials(db, services.keyring, {
    provider: 'dynamics365',
    platformId,
    endUserOriginId: origin,
    organizationName: 'Contoso',
    credentials: sandboxCredentials(sandbox.defaultTenant),
  });
}

const ofType = (requests: ReceivedRequest[], type: string) => requests.filter((r) => r.json.type === type);

describe('webhook endpoints API', () => {
  it('creates an endpoint with a Standard Webhooks secret, lists it only to its platform', async () => {
    const { headers } = await newPlatform('Owner Co');
    const created = await createEndpoint(headers, {
      url: `${receiver.url}/owner`,
      event_types: ['employee.updated'],
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ status: 'enabled', event_types: ['employee.updated'], payload: 'full' });
    const list = await app.inject({ method: 'GET', url: '/v1/webhook-endpoints', headers });
    expect(list.json().results.map((e: { id: string }) => e.id)).toEqual([created.id]);
    expect(JSON.stringify(list.json())).not.toContain(created.secret);

    const other = await newPlatform('Other Co');
    const foreign = await app.inject({
      method: 'GET',
      url: `/v1/webhook-endpoints/${created.id}`,
      headers: other.headers,
    });
    expect(foreign.statusCode).toBe(404);
    const foreignDelete = await app.inject({
      method: 'DELETE',
      url: `/v1/webhook-endpoints/${created.id}`,
      headers: other.headers,
    });
    expect(foreignDelete.statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: '/v1/webhook-endpoints', headers: other.headers })).json()
        .results,
    ).toEqual([]);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/v1/webhook-endpoints/${created.id}`,
      headers,
      payload: { event_types: null, payload: 'thin', description: 'all of it' },
    });
    expect(patched.json()).toMatchObject({ event_types: null, payload: 'thin', description: 'all of it' });
    const deleted = await app.inject({
      method: 'DELETE',
      url: `/v1/webhook-endpoints/${created.id}`,
      headers,
    });
    expect(deleted.statusCode).toBe(204);
  });

  it('rejects bad input with a 4xx naming the field', async () => {
    const { headers } = await newPlatform('Bad Input Co');
    const cases = [
      { body: { url: 'not a url' }, field: 'url' },
      { body: { url: `${receiver.url}/x`, event_types: ['employee.exploded'] }, field: 'event_types.0' },
      { body: { url: `${receiver.url}/x`, payload: 'medium' }, field: 'payload' },
      { body: { url: `${receiver.url}/x`, colour: 'red' }, field: 'colour' },
    ];
    for (const { body, field } of cases) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers,
        payload: body,
      });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const missingKey = await app.inject({ method: 'GET', url: '/v1/webhook-endpoints' });
    expect(missingKey.statusCode).toBe(401);
    const badDeliveries = await app.inject({
      method: 'GET',
      url: '/v1/webhook-deliveries?status=lost',
      headers,
    });
    expect(badDeliveries.statusCode).toBe(400);
  });

  it('sends a signed webhook.test on request, and lists the delivery with its attempt', async () => {
    const { headers } = await newPlatform('Test Event Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/test-event` });
    const sent = await app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/test`,
      headers,
    });
    expect(sent.statusCode).toBe(202);
    const { event_id: eventId } = sent.json();
    await receiver.waitFor(() => receiver.delivered('/test-event').length === 1);
    const [request] = receiver.delivered('/test-event') as [ReceivedRequest];
    expect(verify(endpoint.secret, request)).toMatchObject({ type: 'webhook.test' });
    expect(request.headers['webhook-id']).toBe(eventId);
    await expect
      .poll(async () => {
        const list = await app.inject({
          method: 'GET',
          url: `/v1/webhook-deliveries?event_id=${eventId}`,
          headers,
        });
        return list.json().results[0]?.status;
      })
      .toBe('delivered');
    const list = await app.inject({
      method: 'GET',
      url: `/v1/webhook-deliveries?event_id=${eventId}`,
      headers,
    });
    expect(list.json().results[0].attempts).toEqual([
      expect.objectContaining({ attempt_number: 1, response_status: 200, error: null }),
    ]);
  });
});

describe('OpenAPI', () => {
  it('documents the events an endpoint receives, with the signature headers', async () => {
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(document.webhooks).sort()).toEqual(['linkedAccount', 'recordChanged', 'sync']);
    const recordChanged = document.webhooks.recordChanged.post;
    expect(recordChanged.parameters.map((p: { name: string }) => p.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    const schema = recordChanged.requestBody.content['application/json'].schema;
    expect(schema.properties.type.enum).toContain('benefit_enrollment.deleted');
    expect(schema.properties.data.required).toEqual(['id', 'remote_id', 'linked_account_id', 'model']);
  });
});

describe('events from syncs', () => {
  const tenant = newPlatform('Sync Events Co');

  it('a first sync sends only sync.completed with counts; later changes one event per record, full and thin', async () => {
    const { platform, headers } = await tenant;
    const full = await createEndpoint(headers, { url: `${receiver.url}/full` });
    const thin = await createEndpoint(headers, {
      url: `${receiver.url}/thin`,
      payload: 'thin',
      event_types: ['employee.created', 'employee.updated', 'employee.deleted', 'sync.completed'],
    });
    const { account, accountToken } = await linkAccount(platform.id, 'sync-events');
    await receiver.waitFor(
      () => ofType(receiver.delivered('/full'), 'linked_account.connected').length === 1,
    );

    const first = await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
    expect(first?.status).toBe('succeeded');
    await receiver.waitFor(() => ofType(receiver.delivered('/full'), 'sync.completed').length === 1);
    const completed = ofType(receiver.delivered('/full'), 'sync.completed')[0] as ReceivedRequest;
    expect(completed.json.data).toMatchObject({
      linked_account_id: account.id,
      first_sync: true,
      counts: { employees: { created: sandbox.truth.workers.length, updated: 0, deleted: 0 } },
    });
    expect(receiver.delivered('/full').filter((r) => r.json.type.startsWith('employee.'))).toEqual([]);

    // An incremental sync: 3 workers renamed, one of them also moved to another position (a second
    // change of the same employee in the same run, made by the position derivation).
    const renamed = sandbox.controls.updateRecords(
      'cdm_workers',
      { count: 3 },
      { cdm_lastname: 'Webhooked' },
    );
    const moved = renamed[0] as string;
    const assignment = sandbox.truth.assignments.find((row) => row._cdm_workerid_value === moved);
    const otherPosition = sandbox.truth.positions.find(
      (position) => position.cdm_jobpositionid !== assignment?._cdm_jobpositionid_value,
    );
    if (!assignment || !otherPosition) throw new Error('the sandbox has no assignment to move');
    sandbox.controls.updateRecords(
      'cdm_positionworkerassignmentmaps',
      { ids: [assignment.cdm_positionworkerassignmentmapid] },
      { _cdm_jobpositionid_value: otherPosition.cdm_jobpositionid },
    );
    const second = await services.sync.runNow(account.id, { kind: 'incremental', trigger: 'test' });
    expect(second?.status).toBe('succeeded');
    await receiver.waitFor(() => ofType(receiver.delivered('/full'), 'sync.completed').length === 2);
    await receiver.waitFor(() => ofType(receiver.delivered('/thin'), 'sync.completed').length === 2);

    const employeeEvents = receiver.delivered('/full').filter((r) => r.json.type === 'employee.updated');
    const remoteIds = employeeEvents.map((r) => (r.json.data as { remote_id: string }).remote_id).sort();
    expect(remoteIds).toEqual([...renamed].sort());
    const runEvents = await db.pool.query(
      `SELECT count(*)::int AS n FROM change_events WHERE sync_run_id = $1 AND model = 'employees'`,
      [second?.runId],
    );
    // More change events than employees: the moved one changed twice, and got one event.
    expect(runEvents.rows[0].n).toBeGreaterThan(renamed.length);

    for (const request of employeeEvents) {
      verify(full.secret, request);
      const data = request.json.data as {
        id: string;
        linked_account_id: string;
        model: string;
        record: Record<string, unknown>;
      };
      expect(data).toMatchObject({ linked_account_id: account.id, model: 'employee' });
      const api = await app.inject({
        method: 'GET',
        url: `/v1/employees/${data.id}`,
        headers: { ...headers, 'x-account-token': accountToken },
      });
      expect(data.record).toEqual(api.json());
      // Field for field and in the API's order.
      expect(Object.keys(data.record)).toEqual(Object.keys(api.json()));
      expect(data.record).not.toHaveProperty('date_of_birth');
      expect(data.record).not.toHaveProperty('remote_data');
    }
    const thinEvents = receiver.delivered('/thin').filter((r) => r.json.type === 'employee.updated');
    expect(thinEvents).toHaveLength(renamed.length);
    for (const request of thinEvents) {
      verify(thin.secret, request);
      expect(Object.keys(request.json.data).sort()).toEqual([
        'id',
        'linked_account_id',
        'model',
        'remote_id',
      ]);
    }
    // The thin endpoint did not subscribe to account events.
    expect(receiver.delivered('/thin').some((r) => r.json.type.startsWith('linked_account.'))).toBe(false);
  });

  it('sends linked_account.status_changed with the fix sentence when a sync finds the secret expired', async () => {
    const { platform, headers } = await newPlatform('Status Co');
    await createEndpoint(headers, {
      url: `${receiver.url}/status`,
      event_types: ['linked_account.status_changed', 'sync.failed'],
    });
    const { account } = await linkAccount(platform.id, 'status');
    sandbox.controls.expireClientSecret();
    try {
      const result = await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' });
      expect(result?.status).toBe('failed');
    } finally {
      sandbox.controls.restoreClientSecret();
    }
    await receiver.waitFor(
      () => ofType(receiver.delivered('/status'), 'linked_account.status_changed').length === 1,
    );
    const [changed] = ofType(receiver.delivered('/status'), 'linked_account.status_changed') as [
      ReceivedRequest,
    ];
    expect(changed.json.data).toMatchObject({
      linked_account_id: account.id,
      status: 'needs_reauth',
      previous_status: 'connected',
    });
    expect(String(changed.json.data.status_reason)).toMatch(/AADSTS7000222/);
    await receiver.waitFor(() => ofType(receiver.delivered('/status'), 'sync.failed').length === 1);
    const [failed] = ofType(receiver.delivered('/status'), 'sync.failed') as [ReceivedRequest];
    expect(failed.json.data).toMatchObject({ linked_account_id: account.id, first_sync: true });
    expect(String(failed.json.data.error)).toMatch(/AADSTS7000222/);
  });

  it('delivers the changes a killed sync committed: its run is marked failed by the next sync, then sent', async () => {
    const { platform, headers } = await newPlatform('Killed Sync Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/killed`, payload: 'thin' });
    const { account } = await linkAccount(platform.id, 'killed');
    expect((await services.sync.runNow(account.id, { kind: 'full', trigger: 'test' }))?.status).toBe(
      'succeeded',
    );
    // What a sync killed after committing one page leaves: its run 'running', the page's changes in the outbox.
    const { rows } = await db.pool.query(
      'SELECT id FROM employees WHERE linked_account_id = $1 ORDER BY id LIMIT 2',
      [account.id],
    );
    const killedRun = '0193a5e2-0000-7000-8000-00000000dead';
    await db.pool.query(
      `INSERT INTO sync_runs (id, linked_account_id, kind, trigger, status) VALUES ($1, $2, 'incremental', 'test', 'running')`,
      [killedRun, account.id],
    );
    await db.pool.query(
      `INSERT INTO change_events (linked_account_id, model, record_id, kind, sync_run_id)
       SELECT $1, 'employees', unnest($2::uuid[]), 'updated', $3`,
      [account.id, rows.map((row) => row.id), killedRun],
    );
    expect((await services.sync.runNow(account.id, { kind: 'incremental', trigger: 'test' }))?.status).toBe(
      'succeeded',
    );
    await receiver.waitFor(() => ofType(receiver.delivered('/killed'), 'sync.failed').length === 1);
    const updated = ofType(receiver.delivered('/killed'), 'employee.updated').filter(
      (r) =>
        (r.json.data as { id: string }).id === rows[0].id ||
        (r.json.data as { id: string }).id === rows[1].id,
    );
    expect(updated).toHaveLength(2);
    for (const request of updated) verify(endpoint.secret, request);
    const [failed] = ofType(receiver.delivered('/killed'), 'sync.failed') as [ReceivedRequest];
    expect(failed.json.data).toMatchObject({ sync_run_id: killedRun, counts: { employees: { updated: 2 } } });
    expect(String(failed.json.data.error)).toMatch(/interrupted/);
  });

  it('sends linked_account.credentials_expiring when the expiry sweep finds a secret near its end', async () => {
    const { platform, headers } = await newPlatform('Expiry Co');
    await createEndpoint(headers, {
      url: `${receiver.url}/expiry`,
      event_types: ['linked_account.credentials_expiring'],
    });
    const { account } = await linkAccount(platform.id, 'expiring');
    const expiresAt = new Date(Date.now() + 10 * 24 * 3600_000);
    await db.pool.query('UPDATE linked_accounts SET credentials_expire_at = $2 WHERE id = $1', [
      account.id,
      expiresAt,
    ]);
    expect((await sweepExpiringAccounts(db.pool)).updated).toContain(account.id);
    await receiver.waitFor(() => receiver.delivered('/expiry').length === 1);
    const [expiring] = receiver.delivered('/expiry') as [ReceivedRequest];
    expect(expiring.json).toMatchObject({
      type: 'linked_account.credentials_expiring',
      data: {
        linked_account_id: account.id,
        status: 'expiring_soon',
        credentials_expire_at: expiresAt.toISOString(),
      },
    });
    expect(String(expiring.json.data.status_reason)).not.toBe('');
  });
});

describe('delivery', () => {
  it('retries a failing delivery with backoff, then delivers; the attempts are listed', async () => {
    const { headers } = await newPlatform('Retry Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/flaky` });
    let calls = 0;
    receiver.setResponder((request) => (request.path === '/flaky' && ++calls <= 2 ? 503 : 200));
    try {
      const sent = await app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${endpoint.id}/test`,
        headers,
      });
      await receiver.waitFor(() => receiver.delivered('/flaky').length === 1);
      const attempts = receiver.requests.filter((r) => r.path === '/flaky');
      expect(attempts.map((r) => r.status)).toEqual([503, 503, 200]);
      expect(new Set(attempts.map((r) => r.headers['webhook-id']))).toEqual(new Set([sent.json().event_id]));
      await expect
        .poll(async () => {
          const list = await app.inject({
            method: 'GET',
            url: `/v1/webhook-deliveries?endpoint_id=${endpoint.id}`,
            headers,
          });
          return list.json().results[0]?.attempts.map((a: { response_status: number }) => a.response_status);
        })
        .toEqual([503, 503, 200]);
    } finally {
      receiver.setResponder(() => 200);
    }
  });

  it('gives up after the last retry; a 410 disables the endpoint with the reason', async () => {
    const { headers } = await newPlatform('Gone Co');
    const failing = await createEndpoint(headers, { url: `${receiver.url}/always-500` });
    const gone = await createEndpoint(headers, { url: `${receiver.url}/gone` });
    receiver.setResponder((request) =>
      request.path === '/always-500' ? 500 : request.path === '/gone' ? 410 : 200,
    );
    try {
      await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${failing.id}/test`, headers });
      await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${gone.id}/test`, headers });
      await expect
        .poll(
          async () => {
            const list = await app.inject({
              method: 'GET',
              url: `/v1/webhook-deliveries?endpoint_id=${failing.id}`,
              headers,
            });
            return list.json().results[0]?.status;
          },
          { timeout: 10_000 },
        )
        .toBe('failed');
      // First attempt + 3 retries, then no more.
      expect(receiver.requests.filter((r) => r.path === '/always-500')).toHaveLength(4);
      await expect
        .poll(async () => {
          const endpoint = await app.inject({
            method: 'GET',
            url: `/v1/webhook-endpoints/${gone.id}`,
            headers,
          });
          return endpoint.json().status;
        })
        .toBe('disabled');
      const list = await app.inject({ method: 'GET', url: '/v1/webhook-endpoints', headers });
      const disabled = list.json().results.find((e: { id: string }) => e.id === gone.id);
      expect(disabled.disabled_reason).toMatch(/410 Gone/);
      const testDisabled = await app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${gone.id}/test`,
        headers,
      });
      expect(testDisabled.statusCode).toBe(409);
    } finally {
      receiver.setResponder(() => 200);
    }
  });

  it('disables an endpoint that has failed for 5 days', async () => {
    const { headers } = await newPlatform('Five Days Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/down` });
    await db.pool.query(
      `UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute' WHERE id = $1`,
      [endpoint.id],
    );
    receiver.setResponder((request) => (request.path === '/down' ? 502 : 200));
    try {
      await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${endpoint.id}/test`, headers });
      await expect
        .poll(async () => {
          const response = await app.inject({
            method: 'GET',
            url: `/v1/webhook-endpoints/${endpoint.id}`,
            headers,
          });
          return response.json().status;
        })
        .toBe('disabled');
      const response = await app.inject({
        method: 'GET',
        url: `/v1/webhook-endpoints/${endpoint.id}`,
        headers,
      });
      expect(response.json().disabled_reason).toMatch(
        /Every delivery failed since .* \(last error: HTTP 502\)/,
      );
    } finally {
      receiver.setResponder(() => 200);
    }
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const { headers } = await newPlatform('Rotate Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/rotate` });
    const rotated = await app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      headers,
    });
    const { secret, previous_secret_expires_at: expiresAt } = rotated.json();
    expect(secret).not.toBe(endpoint.secret);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    await app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${endpoint.id}/test`, headers });
    await receiver.waitFor(() => receiver.delivered('/rotate').length === 1);
    const [request] = receiver.delivered('/rotate') as [ReceivedRequest];
    expect(String(request.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(secret, request)).toBeTruthy();
    expect(verify(endpoint.secret, request)).toBeTruthy();
    expect(() => verify('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', request)).toThrow();
  });

  it('replays a window and redelivers one event, with the same webhook-id', async () => {
    const { headers } = await newPlatform('Replay Co');
    const endpoint = await createEndpoint(headers, { url: `${receiver.url}/replay` });
    const since = new Date(Date.now() - 1000).toISOString();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) {
      const sent = await app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${endpoint.id}/test`,
        headers,
      });
      ids.push(sent.json().event_id);
    }
    await receiver.waitFor(() => receiver.delivered('/replay').length === 3);
    // Test events are not replayed (they were asked for one endpoint); create real ones: a linked account.
    const { platform } = await db.pool
      .query('SELECT platform_id AS id FROM webhook_endpoints WHERE id = $1', [endpoint.id])
      .then((result) => ({ platform: result.rows[0] as { id: string } }));
    await linkAccount(platform.id, 'replayed');
    await receiver.waitFor(
      () => ofType(receiver.delivered('/replay'), 'linked_account.connected').length === 1,
    );
    const original = ofType(receiver.delivered('/replay'), 'linked_account.connected')[0] as ReceivedRequest;

    const replay = await app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/replay`,
      headers,
      payload: { since },
    });
    expect(replay.statusCode, replay.body).toBe(202);
    expect(replay.json()).toEqual({ replayed: 1 });
    await receiver.waitFor(
      () => ofType(receiver.delivered('/replay'), 'linked_account.connected').length === 2,
    );
    const again = ofType(receiver.delivered('/replay'), 'linked_account.connected')[1] as ReceivedRequest;
    expect(again.headers['webhook-id']).toBe(original.headers['webhook-id']);
    expect(again.body).toBe(original.body);

    const redeliver = await app.inject({
      method: 'POST',
      url: `/v1/webhook-events/${ids[0]}/redeliver`,
      headers,
      payload: { endpoint_id: endpoint.id },
    });
    expect(redeliver.statusCode, redeliver.body).toBe(202);
    await receiver.waitFor(
      () => receiver.delivered('/replay').filter((r) => r.headers['webhook-id'] === ids[0]).length === 2,
    );

    const badWindow = await app.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${endpoint.id}/replay`,
      headers,
      payload: { since, until: '2000-01-01T00:00:00Z' },
    });
    expect(badWindow.statusCode).toBe(400);
    expect(badWindow.json().error.details[0].field).toBe('until');
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/webhook-events/0193a5e2-ffff-7abc-8def-0123456789ab/redeliver',
      headers,
      payload: {},
    });
    expect(unknown.statusCode).toBe(404);
  });
});
