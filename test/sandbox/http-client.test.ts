import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createHttpPool, createMsalNetworkClient } from '../../src/providers/http-pool.js';
import { loadOrCreateTlsMaterial } from '../../src/sandbox/certs.js';

describe('Dynamics HTTP client', async () => {
  const tls = await loadOrCreateTlsMaterial(mkdtempSync(join(tmpdir(), 'hris-http-client-')));
  const server = createServer({ key: tls.serverKeyPem, cert: tls.serverCertPem }, (incoming, outgoing) => {
    let body = '';
    incoming.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    incoming.on('end', () => {
      outgoing.writeHead(incoming.url === '/bad' ? 400 : 200, {
        'content-type': 'application/json',
        'X-Trace': 'abc',
      });
      outgoing.end(
        JSON.stringify({ method: incoming.method, body, header: incoming.headers['x-test'] ?? null }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('trusts the extra CA only when given', async () => {
    const trusting = createHttpPool({ caCertPem: tls.caCertPem });
    const response = await request(`${base}/`, { dispatcher: trusting });
    expect(response.statusCode).toBe(200);
    await response.body.text();
    const plain = createHttpPool();
    await expect(request(`${base}/`, { dispatcher: plain })).rejects.toThrow(/certificate/i);
    await trusting.close();
    await plain.close();
  });

  it('implements MSAL INetworkModule with parsed bodies and lower-case headers', async () => {
    const agent = createHttpPool({ caCertPem: tls.caCertPem });
    const client = createMsalNetworkClient(agent);
    const posted = await client.sendPostRequestAsync<{ method: string; body: string; header: string }>(
      `${base}/token`,
      {
        headers: { 'x-test': 'yes' },
        body: 'a=1',
      },
    );
    expect(posted.status).toBe(200);
    expect(posted.body).toEqual({ method: 'POST', body: 'a=1', header: 'yes' });
    expect(posted.headers['x-trace']).toBe('abc');
    const failed = await client.sendGetRequestAsync<{ method: string }>(`${base}/bad`);
    expect([failed.status, failed.body.method]).toEqual([400, 'GET']);
    await agent.close();
    server.close();
  });
});
