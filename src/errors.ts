import { z } from 'zod';

/**
 * The one error shape of the API: { error: { code, message, details } }. Codes are stable and
 * documented; messages are for people; details name the offending field when there is one.
 */
export const ERROR_CODES = {
  bad_request: 400,
  invalid_query_params: 400,
  invalid_path_params: 400,
  invalid_request_body: 400,
  invalid_cursor: 400,
  missing_api_key: 401,
  invalid_api_key: 401,
  missing_account_token: 401,
  forbidden: 403,
  passthrough_not_allowed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  provider_unreachable: 502,
  provider_response_too_large: 502,
  service_unavailable: 503,
  provider_timeout: 504,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  /** The field (query parameter, body property or header) at fault, dotted for nested ones. */
  field?: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Response headers that go with the error (e.g. Retry-After on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CODES[code];
  }
}

export const errorDetailSchema = z.object({
  field: z.string().optional().describe('The query parameter, body property or header at fault.'),
  message: z.string(),
});

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.array(errorDetailSchema),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every error response has this shape.',
    example: {
      error: {
        code: 'invalid_query_params',
        message: 'page_size: Too big: expected number to be <=500',
        details: [{ field: 'page_size', message: 'Too big: expected number to be <=500' }],
      },
    },
  });

export function errorBody(code: ErrorCode, message: string, details: ErrorDetail[] = []) {
  return { error: { code, message, details } };
}
