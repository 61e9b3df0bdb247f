import { jsonResponse, type SandboxResponse } from '../http/types.js';

/** Dataverse error envelope (docs/microsoft-wire.md, "Dataverse errors"): `{"error":{"code":"0x...","message":"..."}}`. */
export class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toResponse(): SandboxResponse {
    return jsonResponse(
      this.status,
      { error: { code: this.code, message: this.message } },
      { 'odata-version': '4.0', ...this.headers },
    );
  }
}

export const dataverseErrors = {
  resourceNotFound: (segment: string) =>
    new DataverseError(404, '0x8006088a', `Resource not found for the segment '${segment}'.`),
  unknownProperty: (property: string, logicalName: string) =>
    new DataverseError(
      400,
      '0x0',
      `Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${logicalName}'.`,
    ),
  /** Syntax and type errors in query options [infer: Dataverse reports OData parser errors with 0x80060888]. */
  badQuery: (message: string) => new DataverseError(400, '0x80060888', message),
  skipNotSupported: () => new DataverseError(400, '0x80060888', 'The query parameter $skip is not supported'),
  notMember: () => new DataverseError(403, '0x80072560', 'The user is not a member of the organization.'),
  privilegeDenied: (
    systemUserId: string,
    privilegeId: string,
    objectTypeCode: number,
    logicalName: string,
    privilege = 'Read',
  ) =>
    new DataverseError(
      403,
      '0x80040220',
      `Principal user (Id=${systemUserId}, type=8, roleCount=0, privilegeCount=0, accessMode=0), is missing prv${privilege}${logicalName} privilege (Id=${privilegeId}) on OTC=${objectTypeCode} for entity '${logicalName}'. context.Caller=${systemUserId}`,
    ),
  /** Reference §3 [doc/infer for the status]. */
  trackChangesOption: (option: string) =>
    new DataverseError(
      400,
      '0x80060888',
      `The "${option}" query parameter isn't supported when Change Tracking is enabled.`,
    ),
  versionExpired: () =>
    new DataverseError(
      400,
      '0x80044352',
      'Version stamp associated with the client has expired. Please perform a full sync.',
    ),
  /** [infer] wording for a table without change tracking. */
  changeTrackingDisabled: (logicalName: string) =>
    new DataverseError(400, '0x80044351', `Change tracking is not enabled for entity '${logicalName}'.`),
  invalidToken: (text: string) =>
    new DataverseError(400, '0x80060888', `The paging or delta token '${text}' is invalid.`),
  recordNotFound: (logicalName: string, id: string) =>
    new DataverseError(404, '0x80040217', `${logicalName} With Id = ${id} Does Not Exist`),
  /** [infer] code: the one Dataverse uses for a missing row or definition. */
  attributeNotFound: (attribute: string, logicalName: string) =>
    new DataverseError(
      404,
      '0x80040217',
      `Could not find attribute '${attribute}' on entity '${logicalName}'.`,
    ),
  entityDefinitionNotFound: (logicalName: string) =>
    new DataverseError(404, '0x80040217', `Could not find entity with name '${logicalName}'.`),
  throttledRequests: (limit: number, windowSeconds: number, retryAfter: number) =>
    new DataverseError(
      429,
      '0x80072322',
      `Number of requests exceeded the limit of ${limit} over time window of ${windowSeconds} seconds.`,
      { 'retry-after': String(retryAfter) },
    ),
  /** Wording and code as Microsoft documents them (docs/microsoft-wire.md). */
  throttledExecutionTime: (limitMs: number, windowSeconds: number, retryAfter: number) =>
    new DataverseError(
      429,
      '0x80072321',
      `Combined execution time of incoming requests exceeded limit of ${limitMs.toLocaleString('en-US')} milliseconds over time window of ${windowSeconds} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.`,
      { 'retry-after': String(retryAfter) },
    ),
  throttledConcurrency: (limit: number, retryAfter: number) =>
    new DataverseError(429, '0x80072326', `Number of concurrent requests exceeded the limit of ${limit}.`, {
      'retry-after': String(retryAfter),
    }),
  methodNotAllowed: () =>
    new DataverseError(405, '0x80060888', 'The HTTP method is not allowed on this resource.'),
};
