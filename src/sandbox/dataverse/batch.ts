import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { SandboxResponse } from '../http/types.js';
import { dataverseErrors } from './errors.js';

/**
 * `POST /api/data/v9.2/$batch` ("Execute batch operations using the Web API", OData 4.0 §11.7;
 * docs/microsoft-wire.md): a multipart/mixed body of application/http parts and change sets. Requests run
 * in order; a change set is atomic (a failure undoes its earlier writes); without
 * `Prefer: odata.continue-on-error` the first failure ends the batch and becomes its status. The response
 * is multipart/mixed with `batchresponse_` and `changesetresponse_` boundaries, Content-ID echoed.
 */

/** One operation inside the batch, handed to the same router as a direct request. */
export interface BatchOperation {
  method: string;
  /** As written in the part: absolute, `/api/data/v9.2/...` or relative to the service root. */
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
  contentId?: string;
}

export interface BatchExecutor {
  /** Runs one operation; `undo` entries collect the writes a change set may have to roll back. */
  run(operation: BatchOperation, undo: Array<() => void>): SandboxResponse;
}

/** Dataverse allows up to 1000 requests in one batch. */
const maxOperations = 1000;

type Part =
  | { kind: 'request'; operation: BatchOperation }
  | { kind: 'changeset'; operations: BatchOperation[] };

export function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /boundary="?([^";]+)"?/i.exec(contentType ?? '');
  return match?.[1]?.trim();
}

function splitParts(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const sections = body.split(delimiter);
  // Before the first delimiter is the preamble; after the closing `--boundary--` the epilogue.
  const parts: string[] = [];
  for (const section of sections.slice(1)) {
    if (section.startsWith('--')) break;
    parts.push(section.replace(/^\r?\n/, ''));
  }
  return parts;
}

function splitHead(text: string): { head: string[]; rest: string } {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text.split(/\r?\n/).filter(Boolean), rest: '' };
  return { head: text.slice(0, match.index).split(/\r?\n/), rest: text.slice(match.index + match[0].length) };
}

function headerMap(lines: string[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseOperation(part: string): BatchOperation {
  const { head: mimeHead, rest } = splitHead(part);
  const mimeHeaders = headerMap(mimeHead);
  const { head, rest: body } = splitHead(rest);
  const [requestLine = '', ...headerLines] = head;
  const match = /^([A-Z]+)\s+(\S+)(?:\s+HTTP\/1\.1)?$/.exec(requestLine.trim());
  if (!match) throw dataverseErrors.badQuery(`Invalid request line in batch part: '${requestLine.trim()}'.`);
  const contentId = mimeHeaders['content-id'];
  return {
    method: match[1] as string,
    target: match[2] as string,
    headers: headerMap(headerLines),
    body: body.replace(/\r?\n$/, ''),
    ...(typeof contentId === 'string' ? { contentId } : {}),
  };
}

export function parseBatch(body: string, contentType: string | undefined): Part[] {
  const boundary = boundaryOf(contentType);
  if (!boundary || !/^multipart\/mixed/i.test(contentType ?? '')) {
    throw dataverseErrors.badQuery(
      "The batch request must have a 'multipart/mixed' Content-Type with a boundary.",
    );
  }
  const parts: Part[] = [];
  let count = 0;
  for (const raw of splitParts(body, boundary)) {
    const { head, rest } = splitHead(raw);
    const partType = String(headerMap(head)['content-type'] ?? '');
    if (/^multipart\/mixed/i.test(partType)) {
      const changesetBoundary = boundaryOf(partType);
      if (!changesetBoundary) throw dataverseErrors.badQuery('A change set must declare its boundary.');
      const operations = splitParts(rest, changesetBoundary).map(parseOperation);
      if (operations.some((operation) => operation.method === 'GET')) {
        throw dataverseErrors.badQuery('GET requests are not allowed within change sets.');
      }
      count += operations.length;
      parts.push({ kind: 'changeset', operations });
    } else {
      count += 1;
      parts.push({ kind: 'request', operation: parseOperation(raw) });
    }
  }
  if (count > maxOperations) {
    throw dataverseErrors.badQuery(
      `The number of requests in a batch exceeds the limit of ${maxOperations}.`,
    );
  }
  return parts;
}

const reasons: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

function serialise(response: SandboxResponse, contentId: string | undefined): string {
  const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (contentId !== undefined) lines.push(`Content-ID: ${contentId}`);
  lines.push('', `HTTP/1.1 ${response.status} ${reasons[response.status] ?? ''}`.trimEnd());
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'content-length') continue;
    lines.push(`${canonicalHeader(name)}: ${value}`);
  }
  const body = response.body === undefined ? '' : response.body.toString();
  lines.push('', body);
  return lines.join('\r\n');
}

function canonicalHeader(name: string): string {
  if (name === 'odata-version') return 'OData-Version';
  if (name === 'odata-entityid') return 'OData-EntityId';
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, char: string) => `${dash}${char.toUpperCase()}`);
}

export function executeBatch(
  parts: Part[],
  executor: BatchExecutor,
  continueOnError: boolean,
): SandboxResponse {
  const boundary = `batchresponse_${randomUUID()}`;
  const chunks: string[] = [];
  let status = 200;
  for (const part of parts) {
    if (part.kind === 'request') {
      const response = executor.run(part.operation, []);
      chunks.push(serialise(response, part.operation.contentId));
      if (response.status >= 400 && !continueOnError) {
        status = response.status;
        break;
      }
      continue;
    }
    const undo: Array<() => void> = [];
    const responses: Array<{ response: SandboxResponse; contentId?: string }> = [];
    let failed: SandboxResponse | undefined;
    for (const operation of part.operations) {
      const response = executor.run(operation, undo);
      if (response.status >= 400) {
        failed = response;
        break;
      }
      responses.push({ response, ...(operation.contentId ? { contentId: operation.contentId } : {}) });
    }
    if (failed) {
      // Atomic: undo in reverse order; the change set answers with its failing request only.
      for (const step of undo.reverse()) step();
      chunks.push(serialise(failed, undefined));
      if (!continueOnError) {
        status = failed.status;
        break;
      }
      continue;
    }
    const changesetBoundary = `changesetresponse_${randomUUID()}`;
    const inner = responses.map(
      ({ response, contentId }) => `--${changesetBoundary}\r\n${serialise(response, contentId)}`,
    );
    chunks.push(
      `Content-Type: multipart/mixed; boundary=${changesetBoundary}\r\n\r\n${inner.join('\r\n')}\r\n--${changesetBoundary}--`,
    );
  }
  const body = `${chunks.map((chunk) => `--${boundary}\r\n${chunk}`).join('\r\n')}\r\n--${boundary}--\r\n`;
  return {
    status,
    headers: { 'content-type': `multipart/mixed; boundary=${boundary}`, 'odata-version': '4.0' },
    body,
  };
}
