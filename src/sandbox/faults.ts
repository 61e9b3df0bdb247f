import { z } from 'zod';
import { jsonResponse, type RouteFamily, type SandboxRequest, type SandboxResponse } from './http/types.js';
import { createRandom, type Random } from './random.js';

/**
 * Fault injection per route: a rule matches requests by family, method and path substring, and fires
 * either on every match with a probability or on the next `count` matches. Removing a rule undoes it.
 */
export const faultRuleSchema = z.object({
  /** A route family of a simulator (its definition's routeFamilies) or "other"; checked by the injector. */
  route: z.string().optional(),
  method: z.string().toUpperCase().optional(),
  pathContains: z.string().optional(),
  /**
   * throttle: 429 with Retry-After, in the wire shape of the simulator serving the route (its
   * definition's faultShape); server-error: 500 or 503, likewise;
   * reset: headers and half the body, then the socket is destroyed; truncate: a complete response whose
   * JSON body is cut in half; slow: the normal response after `delayMs`; answer: `answerStatus` with
   * `answerBody` (JSON) and `answerHeaders` instead of the normal response, to play a documented
   * wire sample (an error envelope with any status and code, an empty `{}` delta page, ...).
   */
  kind: z.enum(['throttle', 'server-error', 'reset', 'truncate', 'slow', 'answer']),
  status: z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)]).optional(),
  retryAfterSeconds: z.number().int().min(0).optional(),
  delayMs: z.number().int().min(0).optional(),
  answerStatus: z.number().int().min(200).max(599).optional(),
  answerBody: z.unknown().optional(),
  answerHeaders: z.record(z.string(), z.string()).optional(),
  probability: z.number().min(0).max(1).optional(),
  count: z.number().int().min(1).optional(),
});
export type FaultRuleInput = Omit<z.input<typeof faultRuleSchema>, 'route'> & { route?: RouteFamily };
export type FaultRule = Omit<z.output<typeof faultRuleSchema>, 'route'> & { route?: RouteFamily };

export interface ActiveFaultRule extends FaultRule {
  id: string;
  /** How many times the rule fired so far. */
  fired: number;
}

export interface FaultInjector {
  add(rule: FaultRuleInput): ActiveFaultRule;
  remove(id: string): boolean;
  clear(): void;
  list(): ActiveFaultRule[];
  /** The rule that fires for this request, if any (consumes one count). */
  pick(family: RouteFamily, method: string, path: string): ActiveFaultRule | undefined;
}

/** `routes`: every route family a rule may name (the simulators' and "other"). */
export function createFaultInjector(seed: number, routes: readonly string[]): FaultInjector {
  const rules = new Map<string, ActiveFaultRule>();
  const random: Random = createRandom(seed ^ 0x5f3759df);
  let nextId = 1;
  return {
    add(input) {
      const parsed = faultRuleSchema
        .refine((rule) => rule.route === undefined || routes.includes(rule.route), {
          path: ['route'],
          message: `route must be one of ${routes.join(', ')}`,
        })
        .parse(input) as FaultRule;
      const rule: ActiveFaultRule = { ...parsed, id: `fault-${nextId++}`, fired: 0 };
      rules.set(rule.id, rule);
      return rule;
    },
    remove: (id) => rules.delete(id),
    clear: () => rules.clear(),
    list: () => [...rules.values()],
    pick(family, method, path) {
      for (const rule of rules.values()) {
        if (rule.route && rule.route !== family) continue;
        if (rule.method && rule.method !== method) continue;
        if (rule.pathContains && !path.includes(rule.pathContains)) continue;
        if (rule.probability !== undefined && random.next() >= rule.probability) continue;
        rule.fired++;
        if (rule.count !== undefined && rule.fired >= rule.count) rules.delete(rule.id);
        return rule;
      }
      return undefined;
    },
  };
}

/**
 * The faults over HTTP (docs/sandbox.md): GET|POST|DELETE /_sandbox/faults[/{id}], for every route
 * of the sandbox whichever simulator serves it. Unauthenticated: the sandbox listens on loopback.
 */
export function handleFaultControl(request: SandboxRequest, faults: FaultInjector): SandboxResponse {
  const id = request.segments[2];
  try {
    if (request.method === 'GET') return jsonResponse(200, { value: faults.list() });
    if (request.method === 'POST') {
      const input = (request.body.length === 0 ? {} : JSON.parse(request.body)) as FaultRuleInput;
      return jsonResponse(201, faults.add(input));
    }
    if (request.method === 'DELETE' && id) {
      return faults.remove(id)
        ? jsonResponse(200, { removed: id })
        : jsonResponse(404, { error: 'unknown fault' });
    }
    if (request.method === 'DELETE') {
      faults.clear();
      return jsonResponse(200, { removed: 'all' });
    }
    return jsonResponse(404, { error: 'unknown control route' });
  } catch (error) {
    return jsonResponse(400, { error: error instanceof Error ? error.message : String(error) });
  }
}
