import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** The parts of a request the sandbox handlers need; the body is read once before routing. */
export interface SandboxRequest {
  method: string;
  url: URL;
  /** Decoded path segments, e.g. ['contoso', 'api', 'data', 'v9.2', 'cdm_workers']. */
  segments: string[];
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  /** A complete body; faults such as truncation operate on it. */
  body?: string | Buffer;
  /** A streamed body (package zips). */
  stream?: Readable;
  /** Called once the response has been sent (or the connection dropped): frees a concurrency slot. */
  onSent?: () => void;
}

/**
 * Which part of the sandbox served a request, so faults can target one family of routes: one of a
 * simulator's routeFamilies (its definition, src/sandbox/simulator.ts), "controls" (never faulted)
 * or "other".
 */
export type RouteFamily = string;

export const jsonContentType = 'application/json; charset=utf-8';
export const odataJsonContentType = 'application/json; odata.metadata=minimal; odata.streaming=true';

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): SandboxResponse {
  return { status, headers: { 'content-type': jsonContentType, ...headers }, body: JSON.stringify(value) };
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
