import { z } from 'zod';
import { jsonResponse, type SandboxRequest, type SandboxResponse } from '../http/types.js';
import type { BambooControls } from './controls.js';

/**
 * The BambooHR controls over HTTP (docs/sandbox.md, "BambooHR"): `POST /_sandbox/bamboohr/{action}`
 * with a JSON body. Unauthenticated, like the other controls: the sandbox listens on loopback.
 */
const selection = z.object({
  count: z.number().int().min(1).optional(),
  ids: z.array(z.string()).optional(),
  changes: z.record(z.string(), z.string().nullable()).optional(),
});

const actions: Record<string, (controls: BambooControls, body: unknown) => unknown> = {
  'employees/create': (controls, body) => ({
    ids: controls.createEmployees(z.object({ count: z.number().int().min(1).default(1) }).parse(body).count),
  }),
  'employees/update': (controls, body) => {
    const { count, ids, changes } = selection.parse(body);
    return {
      ids: controls.updateEmployees({ ...(count ? { count } : {}), ...(ids ? { ids } : {}) }, changes),
    };
  },
  'employees/delete': (controls, body) => {
    const { count, ids } = selection.parse(body);
    return { ids: controls.deleteEmployees({ ...(count ? { count } : {}), ...(ids ? { ids } : {}) }) };
  },
  'dependents/delete': (controls, body) => ({
    ids: controls.deleteDependents(z.object({ count: z.number().int().min(1).default(1) }).parse(body).count),
  }),
  'api-key/enable': (controls) => controls.setKeyEnabled(true),
  'api-key/disable': (controls) => controls.setKeyEnabled(false),
  'api-key/rotate': (controls) => ({ apiKey: controls.rotateApiKey() }),
  access: (controls, body) =>
    controls.setAccess(
      z
        .object({ benefitsAdministration: z.boolean().optional(), compensation: z.boolean().optional() })
        .parse(body),
    ),
  'rate-limit': (controls, body) =>
    controls.setRateLimit(
      z
        .object({
          requestLimit: z.number().int().min(1).optional(),
          windowSeconds: z.number().int().min(1).optional(),
          status: z.union([z.literal(429), z.literal(503)]).optional(),
        })
        .parse(body),
    ),
};

export function handleBambooControl(
  request: SandboxRequest,
  controls: BambooControls | undefined,
): SandboxResponse {
  if (!controls)
    return jsonResponse(404, {
      error: 'The sandbox was started without BambooHR (provider bamboohr or all).',
    });
  const action = actions[request.segments.slice(2).join('/')];
  if (request.method !== 'POST' || !action) {
    return jsonResponse(404, { error: 'unknown control', controls: Object.keys(actions) });
  }
  try {
    const result = action(controls, request.body ? JSON.parse(request.body) : {});
    return jsonResponse(200, result ?? { ok: true });
  } catch (error) {
    return jsonResponse(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
