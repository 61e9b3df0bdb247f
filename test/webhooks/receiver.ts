import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll } from 'vitest';

/**
 * A real HTTP webhook receiver on 127.0.0.1. Each request is answered by `respond` (200 unless it
 * says otherwise) and recorded with its headers, body and the status it got.
 */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

export async function startReceiver() {
  const requests: ReceivedRequest[] = [];
  let respond: (request: ReceivedRequest) => number | Promise<number> = () => 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request: ReceivedRequest = {
        path: req.url ?? '/',
        headers: req.headers,
        body,
        status: 0,
        json: JSON.parse(body),
      };
      request.status = await respond(request);
      requests.push(request);
      res.writeHead(request.status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url,
    requests,
    /** Requests to a path that got a 2xx. */
    delivered: (path: string) => requests.filter((r) => r.path === path && r.status >= 200 && r.status < 300),
    setResponder(next: typeof respond) {
      respond = next;
    },
    /** Waits until `predicate` holds over the requests received so far. */
    async waitFor(predicate: (all: ReceivedRequest[]) => boolean, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(requests)) {
        if (Date.now() > deadline) {
          throw new Error(
            `receiver: condition not met; got ${requests.map((r) => `${r.path} ${r.json.type} ${r.status}`).join(', ')}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/** Verifies a request with the Standard Webhooks reference library; throws when the signature is wrong. */
export function verify(secret: string, request: ReceivedRequest): unknown {
  return new Webhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  });
}
