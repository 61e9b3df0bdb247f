import type { Dispatcher } from 'undici';
import { sendConfined } from '../passthrough-http.js';
import { PassthroughError, type PassthroughRequest, type PassthroughResponse } from '../types.js';
import type { DynamicsTokenSource } from './auth.js';
import { diagnose } from './diagnose.js';

/**
 * Passthrough for Dynamics 365 (docs/passthrough.md): `path` is relative to the Dataverse Web API
 * root (`{environment}/api/data/v9.2/`, target "dataverse", the default) or to the Finance &
 * Operations OData root (`{environment}/data/`, target "fno"), and goes out with an Entra ID token
 * whose audience is that environment, as the sync's requests do (docs/microsoft-wire.md, "Web API
 * surface" and "F&O data entities").
 */
export const DYNAMICS_PASSTHROUGH_TARGETS = ['dataverse', 'fno'] as const;

/**
 * Headers with which Dataverse runs a request as another user (docs/microsoft-wire.md,
 * "Impersonation"). Refused: passthrough acts as the application user the employer registered, with
 * exactly the roles the employer gave it, never as one of the employer's people.
 */
const IMPERSONATION_HEADERS = ['callerobjectid', 'mscrmcallerid'];

/** OData protocol headers Microsoft's examples send; the caller's own values replace them. */
const ODATA_HEADERS = {
  accept: 'application/json',
  'odata-maxversion': '4.0',
  'odata-version': '4.0',
};

export interface DynamicsPassthroughContext {
  dataverseUrl: string;
  fnoUrl: string | undefined;
  tokens: DynamicsTokenSource;
  dispatcher: Dispatcher;
}

/** The environment (token audience) and API root a target names, or a refusal naming `target`. */
function apiOf(
  context: DynamicsPassthroughContext,
  target: string | undefined,
): { environment: string; root: string } {
  if (target === undefined || target === 'dataverse') {
    return { environment: context.dataverseUrl, root: `${context.dataverseUrl}/api/data/v9.2/` };
  }
  if (target === 'fno') {
    if (!context.fnoUrl) {
      throw new PassthroughError(
        'refused',
        'This linked account has no Finance & Operations environment: link one (relink with its URL) or use target "dataverse".',
        'target',
      );
    }
    return { environment: context.fnoUrl, root: `${context.fnoUrl}/data/` };
  }
  throw new PassthroughError(
    'refused',
    `Dynamics 365 has the targets ${DYNAMICS_PASSTHROUGH_TARGETS.join(' and ')}, not "${target}".`,
    'target',
  );
}

export async function dynamicsPassthrough(
  context: DynamicsPassthroughContext,
  request: PassthroughRequest,
): Promise<PassthroughResponse> {
  for (const name of IMPERSONATION_HEADERS) {
    if (name in request.headers) {
      throw new PassthroughError(
        'refused',
        `${name} would make Dataverse act as another user; passthrough acts only as the account's application user.`,
        `headers.${name}`,
      );
    }
  }
  const { environment, root } = apiOf(context, request.target);
  let token: string;
  try {
    token = await context.tokens.token(environment);
  } catch (error) {
    if (request.signal.aborted)
      throw new PassthroughError('timeout', 'Entra ID did not issue a token in time.');
    throw new PassthroughError(
      'unreachable',
      `No Entra ID token for ${environment}: ${diagnose(error, environment).reason}`,
    );
  }
  return sendConfined({
    dispatcher: context.dispatcher,
    root,
    request,
    defaultHeaders: ODATA_HEADERS,
    authorization: `Bearer ${token}`,
  });
}
