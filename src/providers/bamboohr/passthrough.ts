import type { Dispatcher } from 'undici';
import { sendConfined } from '../passthrough-http.js';
import { PassthroughError, type PassthroughRequest, type PassthroughResponse } from '../types.js';
import { type BambooCredentials, bambooApiBase } from './credentials.js';

/**
 * Passthrough for BambooHR (docs/passthrough.md, docs/bamboohr.md): `path` is relative to the
 * account's API root `https://api.bamboohr.com/api/gateway.php/{companyDomain}/v1/` and goes out
 * with the account's API key (HTTP Basic), as the sync's requests do. One API: target "bamboohr".
 */
export const BAMBOOHR_PASSTHROUGH_TARGETS = ['bamboohr'] as const;

export function bambooPassthrough(
  credentials: BambooCredentials,
  dispatcher: Dispatcher,
  request: PassthroughRequest,
): Promise<PassthroughResponse> {
  if (request.target !== undefined && request.target !== 'bamboohr') {
    throw new PassthroughError(
      'refused',
      `BambooHR has one target, "bamboohr", not "${request.target}".`,
      'target',
    );
  }
  return sendConfined({
    dispatcher,
    root: bambooApiBase(credentials),
    request,
    defaultHeaders: { accept: 'application/json' },
    authorization: `Basic ${Buffer.from(`${credentials.apiKey}:x`).toString('base64')}`,
  });
}
