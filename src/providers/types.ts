import type { UnifiedFields } from '../unified/fields.js';
import type { ModelName } from '../unified/models.js';

export type { UnifiedFields } from '../unified/fields.js';

/**
 * The provider contract. A provider knows its HR system and nothing of Postgres: it says which
 * sources serve which unified models for an account, streams pages of mapped rows, names its live
 * checks, and states as data how rows of different sources join (references, links, copied values,
 * picks, roll-ups). The sync engine (src/sync) owns storage, checkpoints, retries of whole runs and
 * every statement those rules become.
 */

export type CheckStatus = 'ok' | 'warning' | 'failure' | 'skipped';

export interface CheckResult {
  /** Stable id, e.g. "token", "whoami", "table:cdm_worker". */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, in words. */
  detail: string;
  /** What to do about it, when something needs doing. */
  remediation?: string;
}

/** What a stream fills: a unified model, or "auxiliary" rows kept raw in provider_records. */
export type StreamTarget = ModelName | 'auxiliary';

/**
 * The fields a record of `Target` carries: the unified model's own, typed from its spec
 * (UnifiedFields, src/unified/fields.ts); none for auxiliary rows, which are kept raw.
 */
export type RecordFields<Target extends StreamTarget> = Target extends ModelName
  ? UnifiedFields<Target>
  : Record<string, never>;

/** Type-only mark of the target a record is for; never set at run time (see MappedRecord). */
declare const recordTarget: unique symbol;

/**
 * A row produced by a mapper for `Target`: `MappedRecord<'employees'>` can only carry employees'
 * fields, each with its column's type. The plain `MappedRecord` (any target) is what the sync
 * engine stores.
 */
export interface MappedRecord<Target extends StreamTarget = StreamTarget> {
  /**
   * Never present: it makes records of different targets different types, so a mapper for
   * employees cannot feed dependents even though the two share field names (first_name, gender...).
   */
  readonly [recordTarget]?: Target;
  remoteId: string;
  fields: RecordFields<Target>;
  remoteData: Record<string, unknown>;
  remoteCreatedAt: string | null;
  remoteModifiedAt: string | null;
  /** Auxiliary rows: the remote id of the record they hang from (kept in provider_records.ref_id). */
  refId?: string | null;
  /** Dependents an enrollment covers, as remote ids of dependents (enrollments only). */
  coveredDependentRemoteIds?: string[];
}

export interface InvalidRow {
  /** The row's key at the source (its GUID, or the best identifier available). */
  key: string;
  reason: string;
}

export interface SyncPage {
  records: MappedRecord[];
  deletedRemoteIds: string[];
  invalid: InvalidRow[];
  /**
   * Where to resume after this page is stored. During a full load: the next page's link (null on
   * the last page of a snapshot source). On the last page of a change-tracked load: the delta link.
   */
  nextCursor: string | null;
  /** "full" for pages of a full load, "delta" for pages of changes since the last cursor. */
  phase: 'full' | 'delta';
  /** True on the last page of this stream. */
  last: boolean;
}

export interface StoredCursor {
  phase: 'full' | 'delta';
  cursor: string | null;
}

/** One stream of a sync: a source table feeding a model, or auxiliary rows for derivations. */
export interface SourceStream {
  /** e.g. "dataverse:cdm_workers". Checkpoints and reconciliation are kept per source table. */
  sourceTable: string;
  /** The unified model this stream fills, or "auxiliary" (rows kept raw in provider_records). */
  target: StreamTarget;
  /**
   * Pages from `from` (null = start a full load). Throws CursorExpiredError when the source no
   * longer accepts the cursor; the engine then starts a full load, reconciling deletions.
   */
  pages(from: StoredCursor | null): AsyncGenerator<SyncPage>;
}

export class CursorExpiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorExpiredError';
  }
}

export interface ModelAvailability {
  model: ModelName;
  /** e.g. "dataverse:cdm_workers", or "unavailable". */
  source: string;
  reason: string;
}

/** What a sync run changed, so a derivation can do only the work those changes call for. */
export interface DerivationScope {
  /**
   * Source tables read in full this run (first sync, reconciliation, a snapshot source): derive
   * everything that depends on them, since a full read may change what is stored without counting
   * as a change (remote_data only). Per source, so a snapshot-only F&O source read every sync does
   * not make the Dataverse derivations rewrite the whole account.
   */
  fullSources: ReadonlySet<string>;
  /** Source tables with any created, updated or deleted row in this run. */
  changedSources: ReadonlySet<string>;
  /** Our ids of the records created or updated in this run, per model. */
  changedRecords: ReadonlyMap<ModelName, readonly string[]>;
}

/**
 * A reference a provider states as data: fill `field` (a uuid reference column of `model`, e.g.
 * employee_id) with the id of the `target.model` row whose business key equals the value at
 * `key` in the referencing row's remote_data. The sync layer turns one rule into the whole-account
 * rebuild, the lookup as an initial load inserts and the unresolved-rows report
 * (src/sync/references.ts), so the key cannot drift between them. Names are checked against the
 * unified model specs (src/unified/models.ts) before any SQL is built.
 */
export interface ReferenceRule {
  model: ModelName;
  /** A reference field of `model` (its spec's `references`) pointing at `target.model`. */
  field: string;
  /**
   * The rows the rule applies to: those whose remote_data has this key (e.g. 'BenefitId' for
   * enrollments read from F&O). Other rows came from another source and are left alone.
   */
  appliesTo: { remoteDataKey: string };
  /** The remote_data key of the referencing row holding the business key, e.g. 'PersonnelNumber'. */
  key: string;
  target: {
    model: ModelName;
    /** What the key matches: a text column of the target's model, or remote_data keys of the target row (the first present). */
    by: { column: string } | { remoteData: readonly string[] };
    /** Compare lower-cased (e.g. F&O legal entity ids against company codes). */
    caseInsensitive?: boolean;
  };
  /**
   * How a row whose reference stays unresolved is described, `{key}` standing for its business key,
   * e.g. "worker {key} (personnel number) is not among the synced employees". Without it the
   * rule's unresolved rows are not reported (an empty reference is normal for that source).
   */
  unresolved?: string;
  /**
   * False: resolve only in the rebuild after the streams, not as an initial load inserts. For a
   * target key without an index (a per-row lookup then scans the target table for every row).
   */
  lookupOnInsert?: boolean;
}

/**
 * Values a provider states as data: fill text or enum columns of `model`'s rows from the auxiliary
 * row (provider_records, kept raw by a stream with target "auxiliary") whose remote id is the value
 * at `auxiliary.remoteDataKey` in the row's remote_data, e.g. a position's job_title from the
 * cdm_jobs row its `_cdm_jobid_value` names. The sync layer turns a rule into one whole-account
 * UPDATE (src/sync/auxiliary-values.ts), after checking every name against the unified model specs
 * (src/unified/models.ts) and every value-table entry against the column's enum.
 */
export interface AuxiliaryValueRule {
  model: ModelName;
  /**
   * The rows the rule applies to: those whose remote_data has this key (as ReferenceRule's
   * appliesTo). Absent: every row of the model in the account, so a source of the model that does
   * not name an auxiliary row gets NULL; state it only when one source serves the model.
   */
  appliesTo?: { remoteDataKey: string };
  auxiliary: {
    /** provider_records.source_table of the auxiliary rows, e.g. "dataverse:cdm_jobs". */
    sourceTable: string;
    /** The row's remote_data key holding the auxiliary row's remote_id, e.g. '_cdm_jobid_value'. */
    remoteDataKey: string;
  };
  /**
   * The columns filled, at least one, all in one statement (one new row version per changed row).
   * A row without its auxiliary row gets NULL in every column.
   */
  columns: readonly AuxiliaryValue[];
  /**
   * Source tables whose full read or change in a run (DerivationScope.fullSources, changedSources)
   * requires the rule to run again; otherwise it is skipped. Must include `auxiliary.sourceTable`;
   * add the model's own source (a changed row may name another auxiliary row).
   */
  rerunWhen: readonly string[];
}

/** One column an AuxiliaryValueRule fills from a key of the auxiliary row's data. */
export interface AuxiliaryValue {
  /** A text column of the model, or an enum column when `through` is given. */
  column: string;
  /** The key of the auxiliary row's data (provider_records.data) read, e.g. 'cdm_name'. */
  from: string;
  /** Absent: the text as-is. Given: the value mapped to the column's enum through this table. */
  through?: ValueTable;
}

/** How a source's text becomes an enum value (AuxiliaryValue.through). */
export interface ValueTable {
  /**
   * How the text is normalised before it is looked up: 'alphanumeric-lowercase' lower-cases it
   * and drops everything but a-z and 0-9 ("Flexible spending account" → "flexiblespendingaccount");
   * 'none' looks it up as it is. Every key of `values` must already be in that form (else it could
   * never match).
   */
  normalise: 'alphanumeric-lowercase' | 'none';
  /** Normalised text → a value of the column's enum. */
  values: Readonly<Record<string, string>>;
  /** The enum value for text not in `values` (or absent) when the auxiliary row exists. */
  default: string;
}

/**
 * A field of a row, as a pick or a roll-up names it: a column of the row's table (a model's text
 * column, `remote_id`, or an auxiliary row's `ref_id`), or a key of its raw data (a model row's
 * remote_data, an auxiliary row's provider_records.data).
 */
export type RowField = { column: string } | { key: string };

/**
 * How the candidates for one key are ranked, first wins (after these, a model row modified last
 * and the lowest id, an auxiliary row the lowest remote id): `first` puts rows whose text at `key` equals it first; `latest` ranks by
 * the timestamp at `key`, latest first, rows without one last; neither ranks by the text, A to Z.
 */
export type PickOrder = { key: string; first: string } | { key: string; latest: true } | { key: string };

/**
 * One step of a pick: among the rows whose `match` equals the key reached so far, the first by
 * `order` (deleted model rows never count), whose `yields` becomes the next key. With `window`, only
 * rows valid now count: the timestamps at its keys bound their validity (an empty start is "since
 * ever", an empty end "until further notice"), as assignments and hierarchy lines are dated.
 */
export interface PickStep {
  rows: { model: ModelName } | { sourceTable: string };
  match: RowField;
  yields: RowField;
  window?: { from: string; to: string };
  order?: readonly PickOrder[];
}

/**
 * Fields copied from a row reached by following keys, stated as data: from `start` in the row of
 * `model`, through each step, to the `target` row, whose columns fill the row's (its `id` fills a
 * reference). E.g. an employee's position, department and title from the position of the worker
 * assignment valid now; an employee's manager as the holder of the position theirs reports to.
 * A row that reaches no target gets NULL in every column. The sync layer owns the SQL
 * (src/sync/derived-fields.ts).
 */
export interface PickRule {
  model: ModelName;
  start: RowField;
  through?: readonly PickStep[];
  target: Omit<PickStep, 'rows' | 'yields'> & { rows: { model: ModelName } };
  /** Columns of `model` ← columns of the target row ('id': the target's id, into a reference to it). */
  columns: readonly { column: string; from: string }[];
  /**
   * Source tables whose full read or change in a run (DerivationScope) makes every row of the model
   * derive again; otherwise only the model's rows created or updated in the run are.
   */
  rerunWhen: readonly string[];
}

/**
 * Fields summarised from the rows that reference a row, stated as data: over the live rows of
 * `over.model` whose reference `over.field` names it. 'min' is the least value, 'latest' the value
 * of the row latest by `latestBy` (a column of over.model), 'distinct' the sorted distinct non-empty
 * values as an array (empty, not NULL, when there is none). E.g. an employee's hire date (the
 * earliest employment's start) and company (the latest employment's); the coverage levels a plan's
 * enrollments show.
 */
export interface RollupRule {
  model: ModelName;
  over: { model: ModelName; field: string };
  latestBy?: string;
  columns: readonly { column: string; of: string; aggregate: 'min' | 'latest' | 'distinct' }[];
  /**
   * Source tables whose full read or change in a run makes every row derive again, as any created
   * or updated row of over.model does; otherwise only the model's rows changed in the run are.
   */
  rerunWhen: readonly string[];
}

/**
 * Links stated as data: the dependents an enrollment covers (the unified model's one link table,
 * COVERAGE_TABLE), from auxiliary rows that name both ends by remote id. The sync layer owns the SQL
 * (src/sync/links.ts): the rebuild of the links of the rule's enrollments after the streams, and,
 * in an initial load of the auxiliary rows, the links they name inserted with each of their pages,
 * both ends' ids derived from the remote ids. The engine then stores the enrollments after those
 * rows, so a new enrollment is stored once, links in place, instead of being rewritten by the
 * rebuild (docs/providers.md).
 */
export interface LinkRule {
  model: 'benefit_enrollments';
  linked: 'dependents';
  /** The enrollments the rule applies to: those whose remote_data has this key (as ReferenceRule's). */
  appliesTo: { remoteDataKey: string };
  /**
   * provider_records.source_table of the auxiliary rows naming both ends. Each row's ref_id is the
   * enrollment's remote id.
   */
  source: string;
  /** The auxiliary row's data key holding the covered dependent's remote id. */
  linkedKey: string;
}

export interface SyncPlan {
  models: ModelAvailability[];
  streams: SourceStream[];
  /** References stated as data; the sync layer applies them first, in order. */
  references?: ReferenceRule[];
  /** Values copied from auxiliary rows, stated as data; applied after the references, in order. */
  values?: AuxiliaryValueRule[];
  /** Links stated as data; the sync layer rebuilds them after the references. */
  links?: LinkRule[];
  /**
   * Fields picked along keys and rolled up from referencing rows, stated as data; applied last, all
   * of a model's in one statement, so they read what the other rules filled (employees copy their
   * position's title, which a value rule set; plans' levels read enrollments' resolved plans).
   */
  picks?: PickRule[];
  rollups?: RollupRule[];
}

/**
 * Passthrough (POST /v1/passthrough, docs/passthrough.md): one request the platform composes, sent
 * by the provider with the account's own credentials to the account's own API, answered as-is.
 * The gateway has already checked what is provider-neutral before a provider sees the request: the
 * caller's permissions, the path's shape (relative, no dot segments, no encoded slash, dot or
 * backslash), the headers (no credentials, no hop-by-hop headers) and the body's size. The provider
 * picks its API root and credentials, may refuse more (throw PassthroughError 'refused'), and must
 * keep to the limits it is handed: confined to the root (src/providers/passthrough-http.ts does it),
 * no redirect followed, at most `maxResponseBytes` read, abandoned when `signal` fires.
 */
export type PassthroughMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface PassthroughRequest {
  method: PassthroughMethod;
  /** Relative to the API root the provider chooses, e.g. "cdm_workers(…)"; never absolute. */
  path: string;
  /** Query parameters by name, not yet encoded. */
  query: Readonly<Record<string, string>>;
  /** The caller's headers, lower-case names. Never Authorization: the provider adds its own. */
  headers: Readonly<Record<string, string>>;
  /** The JSON value to send as the body (serialized as JSON), or undefined for none. */
  body: unknown;
  /**
   * Which of the provider's APIs, when it has several (Dynamics: "dataverse", the default, or
   * "fno"). A provider with one API refuses any value it does not know.
   */
  target: string | undefined;
  /** Fires when the gateway's time limit is reached: abandon the request. */
  signal: AbortSignal;
  /** Read at most this many body bytes; a larger answer is PassthroughError 'response_too_large'. */
  maxResponseBytes: number;
}

export interface PassthroughResponse {
  status: number;
  /** The provider's headers, lower-case, without hop-by-hop headers and cookies. */
  headers: Record<string, string>;
  /** The parsed JSON when the provider answered JSON, the text when it answered text, else base64. */
  body: unknown;
  bodyEncoding: 'json' | 'text' | 'base64' | 'empty';
}

export type PassthroughFailure =
  /** The request is not allowed for this provider or account (field names what). */
  | 'refused'
  /** The provider did not answer in time (or `signal` fired). */
  | 'timeout'
  /** The answer's body is larger than `maxResponseBytes`. */
  | 'response_too_large'
  /** No token for the account's credentials, or the provider could not be reached. */
  | 'unreachable';

export class PassthroughError extends Error {
  constructor(
    readonly failure: PassthroughFailure,
    message: string,
    /** The request field at fault, for 'refused' (e.g. "target", "headers.callerobjectid"). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'PassthroughError';
  }
}

/** A provider bound to one linked account's connection. */
export interface ProviderConnection {
  plan(): Promise<SyncPlan>;
  check(): AsyncGenerator<CheckResult>;
  /**
   * Passthrough to the account's provider API; a provider without it is refused (409). The gateway
   * keeps a connection for further calls while the account's credentials are unchanged, and may
   * call close() while one is still in flight: passthrough must not depend on what close() frees.
   */
  passthrough?(request: PassthroughRequest): Promise<PassthroughResponse>;
  close(): Promise<void>;
}
