import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { ActiveFaultRule, FaultInjector } from '../faults.js';
import type { FaultShape } from '../simulator.js';
import { jsonResponse, type RouteFamily, type SandboxRequest, type SandboxResponse } from './types.js';

/** An HTTPS port of the sandbox (its main one, or a simulator's own): node:https, no framework. */

export type Router = (request: SandboxRequest) => Promise<{ family: RouteFamily; response: SandboxResponse }>;

export interface SandboxServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Bodies are small (token forms, DMF actions, control commands); refuse anything large. */
const maxBodyBytes = 1_000_000;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBodyBytes) throw new Error('Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A throttle or server error where no simulator says how its service answers one. */
const plainFaultShape: FaultShape = {
  throttle: (retryAfter) =>
    jsonResponse(
      429,
      { error: { code: 'throttled', message: 'Too many requests.' } },
      { 'retry-after': retryAfter },
    ),
  serverError: (status, message) => jsonResponse(status, { error: { code: 'server_error', message } }),
};

function faultResponse(
  rule: ActiveFaultRule,
  shape: FaultShape,
  family: RouteFamily,
): SandboxResponse | undefined {
  const marked = (response: SandboxResponse): SandboxResponse => ({
    ...response,
    headers: { ...response.headers, 'x-sandbox-fault': rule.id },
  });
  if (rule.kind === 'throttle') return marked(shape.throttle(String(rule.retryAfterSeconds ?? 1)));
  if (rule.kind === 'server-error') {
    const status = rule.status ?? 500;
    const message = status === 503 ? 'Service Unavailable' : 'An unexpected error occurred.';
    return marked(shape.serverError(status, message, family));
  }
  if (rule.kind === 'answer') {
    return jsonResponse(rule.answerStatus ?? 200, rule.answerBody ?? {}, {
      'odata-version': '4.0',
      ...rule.answerHeaders,
      'x-sandbox-fault': rule.id,
    });
  }
  return undefined;
}

async function send(
  response: ServerResponse,
  result: SandboxResponse,
  fault: ActiveFaultRule | undefined,
): Promise<void> {
  if (result.stream) {
    response.writeHead(result.status, result.headers);
    const stream = result.stream;
    if (fault?.kind === 'reset') {
      // Let some bytes through, then cut the connection in the middle of the body.
      let sent = 0;
      stream.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (sent > 1024) {
          stream.destroy();
          response.socket?.destroy();
        }
      });
    }
    stream.pipe(response);
    await new Promise<void>((resolve) => {
      response.on('close', resolve);
    });
    return;
  }
  let body = typeof result.body === 'string' ? Buffer.from(result.body) : (result.body ?? Buffer.alloc(0));
  if (fault?.kind === 'truncate') body = body.subarray(0, Math.floor(body.length / 2));
  const headers = { ...result.headers, 'content-length': String(body.length) };
  if (fault?.kind === 'reset') {
    response.writeHead(result.status, headers);
    response.write(body.subarray(0, Math.floor(body.length / 2)));
    await delay(20);
    response.socket?.destroy();
    return;
  }
  response.writeHead(result.status, headers);
  response.end(body);
}

export async function startHttpsServer(options: {
  host: string;
  port: number;
  key: string;
  cert: string;
  router: Router;
  faults: FaultInjector;
  /** How each route family's service answers an injected throttle or server error (its simulator's). */
  faultShapes?: ReadonlyMap<RouteFamily, FaultShape>;
}): Promise<SandboxServer> {
  const server = createServer(
    { key: options.key, cert: options.cert, keepAlive: true },
    (incoming, outgoing) => {
      void handle(incoming, outgoing);
    },
  );
  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    try {
      const url = new URL(incoming.url ?? '/', 'https://sandbox.invalid');
      // A GET may carry a body (some documented APIs filter a GET with one): read it when announced.
      const announcesBody =
        incoming.headers['content-length'] !== undefined ||
        incoming.headers['transfer-encoding'] !== undefined;
      const body =
        (incoming.method === 'GET' || incoming.method === 'HEAD') && !announcesBody
          ? ''
          : await readBody(incoming);
      const request: SandboxRequest = {
        method: incoming.method ?? 'GET',
        url,
        segments: url.pathname
          .split('/')
          .filter((segment) => segment.length > 0)
          .map((segment) => safeDecode(segment)),
        headers: incoming.headers,
        body,
      };
      const { family, response } = await options.router(request);
      const fault =
        family === 'controls' ? undefined : options.faults.pick(family, request.method, url.pathname);
      if (fault?.kind === 'slow') await delay(fault.delayMs ?? 2000);
      const replaced = fault
        ? faultResponse(fault, options.faultShapes?.get(family) ?? plainFaultShape, family)
        : undefined;
      try {
        await send(outgoing, replaced ?? response, replaced ? undefined : fault);
      } finally {
        response.onSent?.();
      }
    } catch (error) {
      if (outgoing.headersSent) {
        outgoing.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      const result = jsonResponse(500, {
        error: { code: '0x80040216', message: `Sandbox error: ${message}` },
      });
      await send(outgoing, result, undefined);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
