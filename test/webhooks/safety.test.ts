import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLinkedAccount, createPlatform } from '../../src/platforms/platform-service.js';
import { pruneWebhookHistory } from '../../src/webhooks/retention.js';
import { assertSafeUrl, isPublicAddress } from '../../src/webhooks/url-safety.js';
import { WebhookService } from '../../src/webhooks/webhook-service.js';
import { createTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { startReceiver } from './receiver.js';

const db = await createTestDatabase();
// The production default: private URLs refused.
const { app, services, config } = await createTestApp(db);
const receiver = await startReceiver();

describe('webhook URL safety', () => {
  it('classifies private, loopback, link-local and mapped addresses', () => {
    for (const address of [
      '10.1.2.3',
      '127.0.0.1',
      '169.254.169.254',
      '172.20.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(address), address).toBe(true);
    }
  });

  it('refuses http, private addresses and names resolving to them, unless allowed', async () => {
    await expect(assertSafeUrl('http://example.com/hook', false)).rejects.toThrow(/must use https/);
    await expect(assertSafeUrl('https://127.0.0.1/hook', false)).rejects.toThrow(/127\.0\.0\.1, a private/);
    await expect(assertSafeUrl('https://[::1]/hook', false)).rejects.toThrow(/private/);
    await expect(assertSafeUrl('https://localhost/hook', false)).rejects.toThrow(/private/);
    await expect(assertSafeUrl('https://user:pw@8.8.8.8/hook', false)).rejects.toThrow(/credentials/);
    await expect(assertSafeUrl('https://8.8.8.8/hook', false)).resolves.toBeUndefined();
    await expect(assertSafeUrl('http://localhost:9/hook', true)).resolves.toBeUndefined();
    await expect(assertSafeUrl('ftp://localhost/hook', true)).rejects.toThrow(/https/);
  });

  it('the API refuses a private URL with a 400 naming url', async () => {
    const { apiKey } = await createPlatform(db.prisma, 'SSRF Co');
    for (const url of [
      `${receiver.url}/hook`,
      'https://127.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data',
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers: { authorization: `Bearer ${apiKey}` },
        payload: { url },
      });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.details).toEqual([expect.objectContaining({ field: 'url' })]);
    }
  });

  it('checks the address at send time too: a name that now resolves to a private address is not called', async () => {
    const { platform } = await createPlatform(db.prisma, 'Rebinding Co');
    // Saved while it resolved elsewhere (inserted directly: the API would refuse it now).
    const port = new URL(receiver.url).port;
    const { rows } = await db.pool.query(
      `INSERT INTO webhook_endpoints (id, platform_id, url, secret_encrypted)
       VALUES (gen_random_uuid(), $1, $2, $3) RETURNING id`,
      [
        platform.id,
        `http://localhost:${port}/rebound`,
        services.keyring.encrypt('whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0'),
      ],
    );
    const endpointId = rows[0].id as string;
    const webhooks = new WebhookService({
      db,
      keyring: services.keyring,
      config,
      log: { info() {}, warn() {}, error() {} },
    });
    await webhooks.startWorker(1);
    try {
      await createLinkedAccount(db.prisma, {
        platformId: platform.id,
        endUserOriginId: 'rebinding',
        organizationName: 'Rebinding Ltd',
        provider: 'seed',
        status: 'connected',
      });
      await expect
        .poll(
          async () => {
            const result = await db.pool.query(
              'SELECT a.error FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1',
              [endpointId],
            );
            return result.rows[0]?.error;
          },
          { timeout: 10_000 },
        )
        .toMatch(/localhost resolved to (127\.0\.0\.1|::1), a private, loopback or link-local address/);
      expect(receiver.requests.filter((r) => r.path === '/rebound')).toEqual([]);
    } finally {
      await webhooks.stop();
    }
  });
});

describe('secrets in logs', () => {
  it('no log line carries a signing secret or the endpoint URL (it may hold a token)', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logged = await createTestApp(
      db,
      { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_RETRY_DELAYS_SECONDS: '60' },
      { level: 'trace', stream },
    );
    const log = {
      info: (object: object, message: string) => lines.push(JSON.stringify({ ...object, message })),
      warn: (object: object, message: string) => lines.push(JSON.stringify({ ...object, message })),
      error: (object: object, message: string) => lines.push(JSON.stringify({ ...object, message })),
    };
    const webhooks = new WebhookService({ db, keyring: logged.services.keyring, config: logged.config, log });
    await webhooks.startWorker(1);
    receiver.setResponder((request) => (request.path.startsWith('/logged') ? 500 : 200));
    try {
      const { apiKey } = await createPlatform(db.prisma, 'Logs Co');
      const headers = { authorization: `Bearer ${apiKey}` };
      const url = `${receiver.url}/logged?token=receiver-token-4471`;
      const created = await logged.app.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers,
        payload: { url },
      });
      const { id, secret } = created.json();
      const rotated = await logged.app.inject({
        method: 'POST',
        url: `/v1/webhook-endpoints/${id}/rotate-secret`,
        headers,
      });
      await logged.app.inject({ method: 'POST', url: `/v1/webhook-endpoints/${id}/test`, headers });
      await receiver.waitFor((all) => all.some((r) => r.path.startsWith('/logged')));
      await expect.poll(() => lines.some((line) => line.includes('webhook deliveries failed'))).toBe(true);
      const text = lines.join('\n');
      expect(text).toContain(id);
      for (const value of [secret, rotated.json().secret, 'receiver-token-4471']) {
        expect(text).not.toContain(value);
        expect(text).not.toContain(String(value).replace(/^whsec_/, ''));
      }
    } finally {
      receiver.setResponder(() => 200);
      await webhooks.stop();
    }
  });
});

describe('retention', () => {
  it('prunes settled events past the window with their deliveries and attempts, keeps pending ones', async () => {
    const { platform } = await createPlatform(db.prisma, 'Retention Co');
    const { rows: endpoints } = await db.pool.query(
      `INSERT INTO webhook_endpoints (id, platform_id, url, secret_encrypted) VALUES (gen_random_uuid(), $1, 'https://8.8.8.8/x', '\\x00') RETURNING id`,
      [platform.id],
    );
    const endpointId = endpoints[0].id;
    const insertEvent = async (ageDays: number, status: string) => {
      const { rows } = await db.pool.query(
        `WITH ev AS (
           INSERT INTO webhook_events (id, platform_id, type, data, created_at, fanned_out_at)
           VALUES (webhook_uuid_v7(), $1, 'sync.completed', '{}', now() - make_interval(days => $2), now())
           RETURNING id, seq
         ), d AS (
           INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, status, next_attempt_at)
           SELECT webhook_uuid_v7(), $3, ev.id, ev.seq, $4, now() FROM ev RETURNING id
         ), a AS (
           INSERT INTO webhook_delivery_attempts (delivery_id, attempt_number, started_at, duration_ms, response_status)
           SELECT d.id, 1, now(), 5, 200 FROM d
         ) SELECT id FROM ev`,
        [platform.id, ageDays, endpointId, status],
      );
      return rows[0].id as string;
    };
    const oldDelivered = await insertEvent(31, 'delivered');
    const oldFailed = await insertEvent(40, 'failed');
    const oldPending = await insertEvent(31, 'pending');
    const recent = await insertEvent(29, 'delivered');
    expect(await pruneWebhookHistory(db.pool, 30)).toBe(2);
    const { rows } = await db.pool.query('SELECT id FROM webhook_events WHERE platform_id = $1', [
      platform.id,
    ]);
    expect(rows.map((row) => row.id).sort()).toEqual([oldPending, recent].sort());
    const orphans = await db.pool.query(
      'SELECT count(*)::int AS n FROM webhook_deliveries WHERE event_id = ANY($1::uuid[])',
      [[oldDelivered, oldFailed]],
    );
    expect(orphans.rows[0].n).toBe(0);
  });
});
