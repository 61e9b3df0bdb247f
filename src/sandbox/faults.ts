import { z } from 'zod';
import type { RouteFamily } from './http/types.js';
import { createRandom, type Random } from './random.js';

/**
 * Fault injection per route: a rule matches requests by family, method and path substring, and fires
 * either on every match with a probability or on the next `count` matches. Removing a rule undoes it.
 */
export const faultRuleSchema = z.object({
  route: z.enum(['entra', 'dataverse', 'fno', 'dmf', 'package', 'bamboohr', 'other']).optional(),
  method: z.string().toUpperCase().optional(),
  pathContains: z.string().optional(),
  /**
   * throttle: 429 with Retry-After (Dataverse body of docs/microsoft-wire.md, "Service protection limits";
   * on the bamboohr route BambooHR's empty body, docs/bamboohr.md); server-error: 500 or 503;
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
export type FaultRuleInput = z.input<typeof faultRuleSchema>;
export type FaultRule = z.output<typeof faultRuleSchema>;

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

export function createFaultInjector(seed: number): FaultInjector {
  const rules = new Map<string, ActiveFaultRule>();
  const random: Random = createRandom(seed ^ 0x5f3759df);
  let nextId = 1;
  return {
    add(input) {
      const rule: ActiveFaultRule = { ...faultRuleSchema.parse(input), id: `fault-${nextId++}`, fired: 0 };
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
