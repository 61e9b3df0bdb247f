import { z } from 'zod';
import type { TenantControls } from './controls.js';
import type { TenantOptions } from './dynamics/options.js';
import { jsonResponse, type SandboxRequest, type SandboxResponse } from './http/types.js';

/**
 * The Dynamics tenants' controls over HTTP, for the CLI sandbox and non-TypeScript clients
 * (docs/sandbox.md): POST /_sandbox/tenants/{name}/{action...} with a JSON body, GET
 * /_sandbox/tenants, POST /_sandbox/tenants (create). The faults' routes are the sandbox's own
 * (faults.ts).
 * Controls are unauthenticated: the sandbox listens on loopback by default.
 */
interface ControlTarget {
  tenants: Map<
    string,
    { tenantId: string; clientId: string; dataverseUrl: string; fnoUrl: string; controls: TenantControls }
  >;
  createTenant(options: TenantOptions): Promise<{ name: string; tenantId: string }>;
}

const tableSchema = z.object({ table: z.string() });
const selectionSchema = z.object({
  table: z.string(),
  count: z.number().int().min(1).optional(),
  ids: z.array(z.string()).optional(),
  changes: z.record(z.string(), z.unknown()).optional(),
});

const fnoSelectionSchema = z.object({
  entitySet: z.enum([
    'Workers',
    'WorkerPersonalContactPersons',
    'WorkerEnrolledBenefits',
    'CoveredDependentRelationships',
    'Employments',
    'Companies',
    'Departments',
    'PositionsV2',
    'PositionHierarchies',
    'BenefitPlans',
  ]),
  count: z.number().int().min(1).default(1),
  changes: z.record(z.string(), z.unknown()).optional(),
});

type Action = (controls: TenantControls, body: unknown) => unknown;

const actions: Record<string, Action> = {
  'records/create': (controls, body) => {
    const { table, count } = selectionSchema.parse(body);
    return { ids: controls.createRecords(table, count ?? 1) };
  },
  'records/update': (controls, body) => {
    const { table, count, ids, changes } = selectionSchema.parse(body);
    return { ids: controls.updateRecords(table, { count, ids }, changes) };
  },
  'records/delete': (controls, body) => {
    const { table, count, ids } = selectionSchema.parse(body);
    return { ids: controls.deleteRecords(table, { count, ids }) };
  },
  'fno-records/create': (controls, body) => {
    const { entitySet, count } = fnoSelectionSchema.parse(body);
    return { keys: controls.createFnoRecords(entitySet, count) };
  },
  'fno-records/update': (controls, body) => {
    const { entitySet, count, changes } = fnoSelectionSchema.parse(body);
    return { keys: controls.updateFnoRecords(entitySet, { count }, changes ?? {}) };
  },
  'fno-records/delete': (controls, body) => {
    const { entitySet, count } = fnoSelectionSchema.parse(body);
    return { keys: controls.deleteFnoRecords(entitySet, { count }) };
  },
  'tables/remove': (controls, body) => controls.removeTable(tableSchema.parse(body).table),
  'tables/restore': (controls, body) => controls.restoreTable(tableSchema.parse(body).table),
  'columns/remove': (controls, body) => {
    const { table, column } = tableSchema.extend({ column: z.string().min(1) }).parse(body);
    controls.removeColumn(table, column);
  },
  'columns/restore': (controls, body) => {
    const { table, column } = tableSchema.extend({ column: z.string().min(1) }).parse(body);
    controls.restoreColumn(table, column);
  },
  'change-tracking': (controls, body) => {
    const { table, enabled } = tableSchema.extend({ enabled: z.boolean() }).parse(body);
    controls.setChangeTracking(table, enabled);
  },
  'entity-definitions-shape': (controls, body) => {
    const { shape } = z.object({ shape: z.enum(['entity', 'collection']) }).parse(body);
    controls.setEntityDefinitionsShape(shape);
  },
  'client-secret/expire': (controls) => controls.expireClientSecret(),
  'client-secret/restore': (controls) => controls.restoreClientSecret(),
  'client-secret/rotate': (controls) => controls.rotateClientSecret(),
  'consent/revoke': (controls) => controls.revokeConsent(),
  'consent/grant': (controls) => controls.grantConsent(),
  'application-user/remove': (controls) => controls.removeApplicationUser(),
  'application-user/restore': (controls) => controls.restoreApplicationUser(),
  'security-role/remove': (controls) => controls.removeSecurityRole(),
  'security-role/restore': (controls) => controls.restoreSecurityRole(),
  'delta-tokens/expire': (controls) => controls.expireDeltaTokens(),
  'delta-tokens/restore': (controls) => controls.restoreDeltaTokens(),
  'service-protection': (controls, body) =>
    controls.setServiceProtectionLimits(
      z
        .object({
          requestLimit: z.number().int().min(1).optional(),
          windowSeconds: z.number().int().min(1).optional(),
          concurrencyLimit: z.number().int().min(1).optional(),
          executionTimeLimitMs: z.number().int().min(1).optional(),
        })
        .parse(body),
    ),
  'dmf-export': (controls, body) =>
    controls.setDmfExportBehaviour(
      z
        .object({
          outcome: z.enum(['Succeeded', 'PartiallySucceeded', 'Failed']).optional(),
          durationMs: z.number().int().min(0).optional(),
          notFoundForMs: z.number().int().min(0).optional(),
          loseExecutions: z.boolean().optional(),
        })
        .parse(body),
    ),
};

function parseJson(text: string): unknown {
  return text.length === 0 ? {} : (JSON.parse(text) as unknown);
}

export async function handleControlRequest(
  request: SandboxRequest,
  target: ControlTarget,
): Promise<SandboxResponse> {
  const [, area, name, ...rest] = request.segments;
  try {
    if (area === 'tenants' && name === undefined) {
      if (request.method === 'GET') {
        return jsonResponse(200, {
          value: [...target.tenants.entries()].map(([tenantName, tenant]) => ({
            name: tenantName,
            tenantId: tenant.tenantId,
            clientId: tenant.clientId,
            dataverseUrl: tenant.dataverseUrl,
            fnoUrl: tenant.fnoUrl,
          })),
        });
      }
      if (request.method === 'POST') {
        const created = await target.createTenant(parseJson(request.body) as TenantOptions);
        return jsonResponse(201, { name: created.name, tenantId: created.tenantId });
      }
    }
    if (area === 'tenants' && name !== undefined && request.method === 'POST') {
      const tenant = target.tenants.get(name);
      if (!tenant) return jsonResponse(404, { error: `unknown tenant '${name}'` });
      const action = actions[rest.join('/')];
      if (!action) return jsonResponse(404, { error: `unknown control '${rest.join('/')}'` });
      return jsonResponse(200, {
        ok: true,
        result: action(tenant.controls, parseJson(request.body)) ?? null,
      });
    }
    return jsonResponse(404, { error: 'unknown control route' });
  } catch (error) {
    return jsonResponse(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
