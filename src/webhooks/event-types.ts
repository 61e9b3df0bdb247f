import type { ModelName } from '../unified/models.js';

/**
 * The webhook event types. Record events are named after the model in the singular
 * (`employee.updated`), as an event is about one record.
 */
export const MODEL_EVENT_NAMES = {
  employees: 'employee',
  employments: 'employment',
  dependents: 'dependent',
  benefit_plans: 'benefit_plan',
  benefit_enrollments: 'benefit_enrollment',
  companies: 'company',
  departments: 'department',
  job_positions: 'job_position',
} as const satisfies Record<ModelName, string>;

export const RECORD_CHANGE_KINDS = ['created', 'updated', 'deleted'] as const;
export type RecordChangeKind = (typeof RECORD_CHANGE_KINDS)[number];

export const ACCOUNT_EVENT_TYPES = [
  'linked_account.connected',
  'linked_account.status_changed',
  'linked_account.credentials_expiring',
] as const;

export const SYNC_EVENT_TYPES = ['sync.completed', 'sync.failed'] as const;

export const RECORD_EVENT_TYPES = Object.values(MODEL_EVENT_NAMES).flatMap((name) =>
  RECORD_CHANGE_KINDS.map((kind) => `${name}.${kind}` as const),
);

/** Every type an endpoint can subscribe to (webhook.test is always sent when asked for). */
export const EVENT_TYPES = [...ACCOUNT_EVENT_TYPES, ...SYNC_EVENT_TYPES, ...RECORD_EVENT_TYPES] as [
  string,
  ...string[],
];

export const TEST_EVENT_TYPE = 'webhook.test';
