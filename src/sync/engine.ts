import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import {
  CursorExpiredError,
  type ProviderConnection,
  type SourceStream,
  type SyncPage,
} from '../providers/types.js';
import { MODELS, type ModelName } from '../unified/models.js';
import { supervisedPid } from '../util/heap-limit.js';
import { auxiliaryValueDerivations } from './auxiliary-values.js';
import { derivedFieldDerivations } from './derived-fields.js';
import { InitialLoadKeys } from './key-maps.js';
import { type CompiledLink, compileLink } from './links.js';
import { readAhead } from './read-ahead.js';
import { referenceDerivations } from './references.js';
import {
  type Changes,
  type CursorState,
  deleteAuxiliary,
  insertInitialRecords,
  loadCursor,
  markDeleted,
  markSeen,
  noChanges,
  reconcile,
  recordChangeEvents,
  saveCursor,
  startFullLoad,
  upsertAuxiliary,
  upsertRecords,
} from './store.js';
import { runStreamsInOrder } from './stream-order.js';

/**
 * The provider-agnostic sync engine. For each source stream of the provider's plan: resume from
 * the stored cursor (or start a full load), store every page in one transaction together with its
 * change events and the cursor to resume after it (so a crash loses or repeats nothing), reconcile
 * deletions at the end of a full load, then fill the references, links and copied values the
 * provider states as rules (references.ts, links.ts, auxiliary-values.ts) and run its SQL
 * derivations. Pages stream through: memory stays bounded by a few pages per stream (one read
 * ahead, two being stored at most) whatever the tenant's size.
 */

export type SyncKind = 'full' | 'incremental';

export interface ModelStats {
  source: string;
  created: number;
  updated: number;
  deleted: number;
  invalid: number;
  /** The first invalid rows' keys and reasons (all are logged). */
  invalidRows: { key: string; reason: string }[];
  pages: number;
  /** Time spent reading and storing the model's source, and deriving its joined fields. */
  fetchStoreMs: number;
  deriveMs: number;
  /** Stored rows whose references a derivation could not resolve (set only when there are some). */
  unresolved?: number;
  unresolvedRows?: { key: string; reason: string }[];
}

export interface SyncProgress {
  model: ModelName | 'auxiliary';
  sourceTable: string;
  pages: number;
  records: number;
  done: boolean;
}

export interface RunSyncOptions {
  linkedAccountId: string;
  connection: ProviderConnection;
  kind: SyncKind;
  trigger: string;
  /** Use this run id (the row may already exist, created by whoever queued the run). */
  runId?: string;
  /** Streams running at once (each page is stored in its own transaction). */
  streamConcurrency?: number;
  onProgress?: (progress: SyncProgress) => void;
  log?: { info(object: object, message: string): void; warn(object: object, message: string): void };
}

export interface SyncResult {
  runId: string;
  status: 'succeeded' | 'failed';
  stats: Partial<Record<ModelName, ModelStats>>;
  error?: unknown;
  errors: { sourceTable: string; error: unknown }[];
}

const MAX_INVALID_KEPT = 20;

/** Pages of one stream stored at once, where their order does not matter (syncStream). */
const PAGES_IN_FLIGHT = 2;

/**
 * A running sync's liveness: the process renews the run's lease every `renewSeconds` and with every
 * stored page; a run whose lease lapsed is taken for dead (its process was killed or froze) and is
 * failed and resumed elsewhere (sync-service.ts). SYNC_LEASE_SECONDS / SYNC_LEASE_RENEW_SECONDS.
 */
export interface LeaseOptions {
  leaseSeconds: number;
  renewSeconds: number;
}

export const DEFAULT_LEASE: LeaseOptions = { leaseSeconds: 60, renewSeconds: 15 };

/**
 * The run was declared dead (its lease lapsed) and handed to another worker: this process must stop
 * writing. Thrown inside a page's transaction, so nothing of that page is stored.
 */
export class RunLostError extends Error {
  constructor(runId: string) {
    super(`sync run ${runId} lost its lease: another worker took it over`);
    this.name = 'RunLostError';
  }
}

/**
 * The run row's locks (test/sync/lease-locks.test.ts). Each page's transaction holds the row FOR
 * KEY SHARE: the run's streams store pages side by side, and the heartbeat's UPDATE (which changes
 * no key, so takes FOR NO KEY UPDATE) never waits for them. With FOR SHARE it did: pages in flight
 * almost all the time kept a renewal waiting for seconds (10 s over 3 renewals in a 100k load), long
 * enough, on a busier machine, for the run to read as stalled. Whoever takes a run over (fails it
 * to resume it) locks it FOR UPDATE first (`fence`), which waits for the pages in flight of its old
 * holder; after that, their next `hold` finds the run no longer running.
 */
export const LEASE_SQL = {
  hold: `SELECT 1 FROM sync_runs WHERE id = $1 AND status = 'running' FOR KEY SHARE`,
  renew: `UPDATE sync_runs SET lease_expires_at = now() + make_interval(secs => $2)
    WHERE id = $1 AND status = 'running'`,
  /** The running runs of an account ($1), or one run ($2), locked before a takeover writes them. */
  fence: `SELECT id FROM sync_runs
    WHERE status IN ('queued', 'running') AND (linked_account_id = $1 OR id = $2) FOR UPDATE`,
} as const;

/** host:pid of this process, recorded on the runs it holds. */
// The launcher's pid when a worker relaunched itself with its heap limit (util/heap-limit.ts).
export const WORKER_NAME = `${hostname()}:${supervisedPid()}`;

/** One run's working state, shared by its streams. */
interface RunState {
  runId: string;
  /** Set when a lease renewal found the run no longer ours. */
  lost: boolean;
  options: RunSyncOptions;
  stats: Partial<Record<ModelName, ModelStats>>;
  scope: { fullSources: Set<string>; changedSources: Set<string>; changedRecords: Map<ModelName, string[]> };
  /** Per model, the columns its derivations resolve as an initial load inserts (resolveOnInsert). */
  resolveOnInsert: Map<ModelName, Record<string, string>>;
  /** The same references resolved in memory, when they can be (key-maps.ts); set once the plan is known. */
  initialKeys?: InitialLoadKeys;
  /** Per source table of link rows, its link rules: an initial load of it inserts the links with each page. */
  linkSources: Map<string, CompiledLink[]>;
  /** Link-row sources whose load in this run inserted the links of every page (links.ts, prune). */
  linkedInLoad: Set<string>;
  /** Link-row sources with a page stored in this run without inserting its links. */
  unlinkedPages: Set<string>;
}

export class SyncEngine {
  constructor(
    private readonly pool: pg.Pool,
    private readonly lease: LeaseOptions = DEFAULT_LEASE,
  ) {}

  async run(options: RunSyncOptions): Promise<SyncResult> {
    const { linkedAccountId, connection } = options;
    const runId = options.runId ?? randomUUID();
    await this.pool.query(
      `INSERT INTO sync_runs (id, linked_account_id, kind, trigger, status, lease_expires_at, worker)
       VALUES ($1, $2, $3, $4, 'running', now() + make_interval(secs => $5), $6)
       ON CONFLICT (id) DO UPDATE SET status = 'running', started_at = now(),
         lease_expires_at = EXCLUDED.lease_expires_at, worker = EXCLUDED.worker`,
      [runId, linkedAccountId, options.kind, options.trigger, this.lease.leaseSeconds, WORKER_NAME],
    );
    const stats: Partial<Record<ModelName, ModelStats>> = {};
    const errors: SyncResult['errors'] = [];
    const state: RunState = {
      runId,
      lost: false,
      options,
      stats,
      scope: { fullSources: new Set(), changedSources: new Set(), changedRecords: new Map() },
      resolveOnInsert: new Map(),
      linkSources: new Map(),
      linkedInLoad: new Set(),
      unlinkedPages: new Set(),
    };
    // The heartbeat keeps the lease while the run waits on the source (Retry-After, slow pages).
    const heartbeat = setInterval(() => {
      this.renewLease(runId, this.pool)
        .then((held) => {
          if (!held) state.lost = true;
        })
        .catch((error: unknown) => options.log?.warn({ err: error, runId }, 'lease renewal failed'));
    }, this.lease.renewSeconds * 1000);
    heartbeat.unref();
    try {
      const plan = await connection.plan();
      state.initialKeys = new InitialLoadKeys(plan.references ?? [], plan.streams, plan.links ?? []);
      // The provider's rules become SQL here, run in this order: references (references.ts), links
      // (links.ts), copied values (auxiliary-values.ts), then picks and roll-ups
      // (derived-fields.ts), which read what the others filled (employees' company from
      // employments, their title from their position).
      const links = (plan.links ?? []).map(compileLink);
      for (const link of links) {
        state.linkSources.set(link.rule.source, [...(state.linkSources.get(link.rule.source) ?? []), link]);
      }
      const derivations = [
        ...referenceDerivations(plan.references ?? [], state.initialKeys),
        ...links.map((link) => link.derivation(state.linkedInLoad)),
        ...auxiliaryValueDerivations(plan.values ?? []),
        ...derivedFieldDerivations(plan.picks ?? [], plan.rollups ?? []),
      ];
      for (const derivation of derivations) {
        if (!derivation.resolveOnInsert) continue;
        const columns = state.resolveOnInsert.get(derivation.model) ?? {};
        state.resolveOnInsert.set(derivation.model, { ...columns, ...derivation.resolveOnInsert });
      }
      await this.recordSources(linkedAccountId, plan.models);
      for (const model of plan.models) {
        if (model.source !== 'unavailable') stats[model.model] = emptyStats(model.source);
      }
      // Two tables at a time keep both the source and PostgreSQL busy; more only adds pages in flight
      // (memory) without speed on a small machine (docs/PERFORMANCE.md).
      await runStreamsInOrder(
        plan.streams,
        options.streamConcurrency ?? 2,
        await this.linkPrerequisites(linkedAccountId, plan.streams, links),
        async (stream) => {
          try {
            await this.syncStream(state, stream);
          } catch (error) {
            errors.push({ sourceTable: stream.sourceTable, error });
            options.log?.warn({ err: error, sourceTable: stream.sourceTable }, 'sync of a source failed');
          }
        },
      );
      if (state.lost) throw new RunLostError(runId);
      await inTransaction(this.pool, async (client) => {
        await this.holdLease(state, client);
        for (const derivation of derivations) {
          const started = performance.now();
          const changed = await derivation.run(client, linkedAccountId, state.scope);
          const ms = Math.round(performance.now() - started);
          const derivedStats = stats[derivation.model];
          if (derivedStats) derivedStats.deriveMs += ms;
          options.log?.info(
            { model: derivation.model, derivation: derivation.description, ms, changed: changed.length },
            'derivation done',
          );
          const unresolved = await derivation.unresolved?.(client, linkedAccountId);
          if (unresolved && unresolved.count > 0) {
            // Stored but unlinked rows: counted and logged with their keys, never silent.
            options.log?.warn(
              { model: derivation.model, derivation: derivation.description, ...unresolved },
              'rows with unresolved references',
            );
            const modelStats = stats[derivation.model];
            if (modelStats) {
              modelStats.unresolved = (modelStats.unresolved ?? 0) + unresolved.count;
              modelStats.unresolvedRows = [...(modelStats.unresolvedRows ?? []), ...unresolved.first].slice(
                0,
                MAX_INVALID_KEPT,
              );
            }
          }
          if (changed.length === 0) continue;
          await recordChangeEvents(
            client,
            linkedAccountId,
            derivation.model,
            { ...noChanges(), updated: changed },
            runId,
          );
          const modelStats = stats[derivation.model];
          if (modelStats) modelStats.updated += changed.length;
        }
      });
      await this.finishModels(
        linkedAccountId,
        plan.models.map((model) => model.model),
        plan.streams,
        errors,
      );
    } catch (error) {
      errors.push({ sourceTable: '(plan)', error });
    } finally {
      clearInterval(heartbeat);
    }
    const status = errors.length === 0 ? 'succeeded' : 'failed';
    const firstError = errors[0]?.error;
    // Only the lease holder writes the outcome: a run taken over by another worker keeps the
    // "interrupted" verdict it was given.
    await this.pool.query(
      `UPDATE sync_runs SET status = $2, finished_at = now(), stats = $3, error = $4, lease_expires_at = NULL
       WHERE id = $1 AND status = 'running'`,
      [
        runId,
        status,
        JSON.stringify(stats),
        errors.length > 0
          ? errors.map(({ sourceTable, error }) => `${sourceTable}: ${describeError(error)}`).join('\n')
          : null,
      ],
    );
    if (status === 'succeeded') {
      await this.pool.query('UPDATE linked_accounts SET last_synced_at = now() WHERE id = $1', [
        linkedAccountId,
      ]);
    }
    return { runId, status, stats, errors, ...(firstError !== undefined ? { error: firstError } : {}) };
  }

  /**
   * An initial load of link rows inserts the links they name with each page (links.ts); the
   * enrollments they link to that are stored already have changed (their modified_at moved) and get
   * a change event. So that none is stored before its links, the streams of the rule's model wait
   * for such a load to finish (linkPrerequisites).
   */
  private async insertLinks(
    state: RunState,
    client: pg.PoolClient,
    sourceTable: string,
    linkRows: SyncPage['records'],
  ): Promise<void> {
    const { linkedAccountId } = state.options;
    for (const link of state.linkSources.get(sourceTable) ?? []) {
      const updated = await link.insertLinks(client, linkedAccountId, linkRows);
      const { model } = link.rule;
      if (updated.length === 0) continue;
      await recordChangeEvents(client, linkedAccountId, model, { ...noChanges(), updated }, state.runId);
      const changed = state.scope.changedRecords.get(model) ?? [];
      changed.push(...updated);
      state.scope.changedRecords.set(model, changed);
      const stats = state.stats[model];
      if (stats) stats.updated += updated.length;
    }
  }

  /**
   * Streams of a link rule's model wait for the rule's link rows when those make an initial load
   * (their links then go in before any enrollment, see insertLinks); otherwise nobody waits.
   */
  private async linkPrerequisites(
    linkedAccountId: string,
    streams: readonly SourceStream[],
    links: readonly CompiledLink[],
  ): Promise<Map<string, Set<string>>> {
    const prerequisites = new Map<string, Set<string>>();
    for (const link of links) {
      const source = streams.find((stream) => stream.sourceTable === link.rule.source);
      if (!source) continue;
      const cursor = await loadCursor(this.pool, linkedAccountId, source.sourceTable);
      if (cursor && !cursor.initialLoad) continue;
      for (const stream of streams) {
        if (stream.target !== link.rule.model) continue;
        prerequisites.set(
          stream.sourceTable,
          new Set([...(prerequisites.get(stream.sourceTable) ?? []), source.sourceTable]),
        );
      }
    }
    return prerequisites;
  }

  /** Extends the run's lease; false when the run is no longer running (declared dead, taken over). */
  private async renewLease(runId: string, client: pg.Pool | pg.PoolClient): Promise<boolean> {
    const { rowCount } = await client.query(LEASE_SQL.renew, [runId, this.lease.leaseSeconds]);
    return rowCount === 1;
  }

  /**
   * Fencing: a write of this run commits only while the run is still ours (LEASE_SQL.hold, in the
   * page's transaction); after a takeover, every write of the old holder fails here.
   */
  private async holdLease(state: RunState, client: pg.PoolClient): Promise<void> {
    const { rowCount } = state.lost ? { rowCount: 0 } : await client.query(LEASE_SQL.hold, [state.runId]);
    if (rowCount !== 1) {
      state.lost = true;
      throw new RunLostError(state.runId);
    }
  }

  private async recordSources(
    linkedAccountId: string,
    models: { model: string; source: string; reason: string }[],
  ) {
    await this.pool.query(
      `INSERT INTO sync_states (linked_account_id, model, source, source_reason, updated_at)
       SELECT $1, unnest($2::text[]), unnest($3::text[]), unnest($4::text[]), now()
       ON CONFLICT (linked_account_id, model) DO UPDATE
       SET source = EXCLUDED.source, source_reason = EXCLUDED.source_reason, updated_at = now()`,
      [
        linkedAccountId,
        models.map((model) => model.model),
        models.map((model) => model.source),
        models.map((model) => model.reason),
      ],
    );
  }

  private async finishModels(
    linkedAccountId: string,
    models: ModelName[],
    streams: SourceStream[],
    errors: SyncResult['errors'],
  ) {
    const failedTargets = new Map<string, string>();
    for (const { sourceTable, error } of errors) {
      const stream = streams.find((candidate) => candidate.sourceTable === sourceTable);
      if (stream && stream.target !== 'auxiliary') failedTargets.set(stream.target, describeError(error));
    }
    const served = new Set(streams.map((stream) => stream.target));
    for (const model of models) {
      if (!served.has(model)) continue;
      const error = failedTargets.get(model);
      await this.pool.query(
        error
          ? 'UPDATE sync_states SET last_error = $3, last_error_at = now(), updated_at = now() WHERE linked_account_id = $1 AND model = $2'
          : 'UPDATE sync_states SET last_success_at = now(), last_error = NULL, updated_at = now() WHERE linked_account_id = $1 AND model = $2',
        error ? [linkedAccountId, model, error] : [linkedAccountId, model],
      );
    }
  }

  private async syncStream(state: RunState, stream: SourceStream): Promise<void> {
    try {
      await this.syncStreamPages(state, stream);
    } finally {
      // This run writes the stream's models no more: their keys may now be held in memory.
      state.initialKeys?.streamFinished(stream.sourceTable);
    }
  }

  private async syncStreamPages(state: RunState, stream: SourceStream): Promise<void> {
    const started = performance.now();
    const { options } = state;
    const { linkedAccountId } = options;
    let cursor: CursorState | null = await loadCursor(this.pool, linkedAccountId, stream.sourceTable);
    // A full run restarts from scratch unless it is resuming its own interrupted full load.
    if (options.kind === 'full' && cursor?.phase === 'delta') cursor = null;
    const startOver = () =>
      inTransaction(this.pool, (client) =>
        startFullLoad(client, linkedAccountId, stream.sourceTable, stream.target),
      );
    if (!cursor || (cursor.phase === 'full' && cursor.cursor === null)) cursor = await startOver();
    if (cursor.phase === 'full') state.scope.fullSources.add(stream.sourceTable);
    if (cursor.initialLoad && stream.target !== 'auxiliary') {
      state.initialKeys?.prefetch(this.pool, linkedAccountId, stream.target);
    }
    const progress: SyncProgress = {
      model: stream.target,
      sourceTable: stream.sourceTable,
      pages: 0,
      records: 0,
      done: false,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const cursorState: CursorState = cursor;
        const stored = (page: SyncPage) => {
          progress.pages++;
          progress.records += page.records.length + page.deletedRemoteIds.length;
          options.onProgress?.({ ...progress });
        };
        // Pages stored side by side (below), oldest first; each a transaction of its own.
        const inFlight: Promise<void>[] = [];
        for await (const page of readAhead(stream.pages(cursorState.cursor ? cursorState : null))) {
          // An initial load of a snapshot source (pages without a cursor: nothing to resume from,
          // rows known to be new) stores its pages two at a time, as their order does not matter: a
          // single large stream then keeps two PostgreSQL backends busy instead of one. Its last
          // page, which ends the load, waits for all before it; any other page is stored in order.
          const unordered =
            cursorState.initialLoad && page.phase === 'full' && page.nextCursor === null && !page.last;
          if (!unordered) {
            await Promise.all(inFlight.splice(0));
            await this.storePage(state, stream, page, cursorState.initialLoad);
            stored(page);
            continue;
          }
          if (inFlight.length >= PAGES_IN_FLIGHT) await inFlight.shift();
          const storing = this.storePage(state, stream, page, cursorState.initialLoad).then(() =>
            stored(page),
          );
          // Its failure surfaces when it is awaited; until then it must not count as unhandled.
          storing.catch(() => undefined);
          inFlight.push(storing);
        }
        await Promise.all(inFlight.splice(0));
        break;
      } catch (error) {
        if (!(error instanceof CursorExpiredError) || attempt > 0) throw error;
        // The delta token outlived the source's retention: read everything again and reconcile.
        options.log?.warn(
          { sourceTable: stream.sourceTable, reason: error.message },
          'cursor expired; full resync',
        );
        cursor = await startOver();
        // Read in full: derivations must see it (a column gone changes remote_data only).
        state.scope.fullSources.add(stream.sourceTable);
      }
    }
    // After a full load the table's statistics are stale (possibly empty before it): refresh them so
    // the derivations and the next incremental syncs get good plans.
    if (cursor.phase === 'full') {
      await this.pool.query(
        `ANALYZE ${stream.target === 'auxiliary' ? 'provider_records' : MODELS[stream.target].table}`,
      );
    }
    if (
      cursor.initialLoad &&
      state.linkSources.has(stream.sourceTable) &&
      !state.unlinkedPages.has(stream.sourceTable)
    ) {
      state.linkedInLoad.add(stream.sourceTable);
    }
    const modelStats = stream.target === 'auxiliary' ? undefined : state.stats[stream.target];
    if (modelStats) modelStats.fetchStoreMs += Math.round(performance.now() - started);
    progress.done = true;
    options.onProgress?.({ ...progress });
  }

  private async storePage(
    state: RunState,
    stream: SourceStream,
    page: SyncPage,
    initialLoad: boolean,
  ): Promise<void> {
    const { runId, options, stats, scope } = state;
    const { linkedAccountId } = options;
    const target = stream.target;
    const modelStats = target === 'auxiliary' ? undefined : stats[target];
    if (page.invalid.length > 0) {
      options.log?.warn(
        { sourceTable: stream.sourceTable, invalid: page.invalid },
        'invalid source rows skipped',
      );
    }
    let resolvedHere = false;
    await inTransaction(this.pool, async (client) => {
      await this.holdLease(state, client);
      const fullLoadEnds = page.phase === 'full' && page.last;
      // An initial load bulk-inserts and needs no seen-set: nothing stored before it can be stale.
      const bulk = initialLoad && page.phase === 'full';
      const resolveInSql = target === 'auxiliary' ? {} : state.resolveOnInsert.get(target);
      const resolved =
        bulk && target !== 'auxiliary'
          ? await state.initialKeys?.resolve(client, linkedAccountId, target, page.records, resolveInSql)
          : undefined;
      const inserted = bulk
        ? await insertInitialRecords(
            client,
            linkedAccountId,
            target,
            stream.sourceTable,
            page.records,
            resolveInSql,
            resolved,
          )
        : undefined;
      resolvedHere = inserted !== undefined && resolved !== undefined;
      if (page.phase === 'full' && !initialLoad) {
        const remoteIds = page.records.map((record) => record.remoteId);
        await markSeen(client, linkedAccountId, stream.sourceTable, remoteIds);
      }
      if (target === 'auxiliary') {
        const upserted = inserted
          ? page.records.length
          : await upsertAuxiliary(client, linkedAccountId, stream.sourceTable, page.records);
        const removed = await deleteAuxiliary(
          client,
          linkedAccountId,
          stream.sourceTable,
          page.deletedRemoteIds,
        );
        if (upserted + removed > 0) scope.changedSources.add(stream.sourceTable);
        if (inserted) await this.insertLinks(state, client, stream.sourceTable, page.records);
        else state.unlinkedPages.add(stream.sourceTable);
        if (fullLoadEnds && !initialLoad)
          await reconcile(client, linkedAccountId, stream.sourceTable, target);
      } else {
        const changes: Changes =
          inserted ?? (await upsertRecords(client, linkedAccountId, target, page.records));
        changes.deleted.push(...(await markDeleted(client, linkedAccountId, target, page.deletedRemoteIds)));
        if (fullLoadEnds && !initialLoad) {
          changes.deleted.push(...(await reconcile(client, linkedAccountId, stream.sourceTable, target)));
        }
        await recordChangeEvents(client, linkedAccountId, target, changes, runId);
        if (changes.created.length + changes.updated.length + changes.deleted.length > 0) {
          scope.changedSources.add(stream.sourceTable);
          const changed = scope.changedRecords.get(target) ?? [];
          changed.push(...changes.created, ...changes.updated);
          scope.changedRecords.set(target, changed);
        }
        if (modelStats) {
          modelStats.created += changes.created.length;
          modelStats.updated += changes.updated.length;
          modelStats.deleted += changes.deleted.length;
        }
      }
      // Where to resume: after the last page of a full load, the delta link (or, for a source
      // without change tracking, nothing: the next sync reads everything again).
      const next =
        page.last && page.phase === 'full'
          ? { phase: page.nextCursor ? ('delta' as const) : ('full' as const), cursor: page.nextCursor }
          : { phase: page.phase, cursor: page.nextCursor };
      // A delta page without a link to continue from keeps the stored delta link: losing it would
      // turn the next incremental sync into a full reload.
      if (!(page.phase === 'delta' && !page.nextCursor)) {
        await saveCursor(client, linkedAccountId, stream.sourceTable, next, initialLoad && !fullLoadEnds);
      }
    });
    if (target !== 'auxiliary') {
      state.initialKeys?.pageStored(target, resolvedHere, page.records.length, page.deletedRemoteIds.length);
    }
    if (modelStats) {
      modelStats.pages++;
      modelStats.invalid += page.invalid.length;
      for (const row of page.invalid) {
        if (modelStats.invalidRows.length < MAX_INVALID_KEPT) modelStats.invalidRows.push(row);
      }
    }
  }
}

function emptyStats(source: string): ModelStats {
  return {
    source,
    created: 0,
    updated: 0,
    deleted: 0,
    invalid: 0,
    invalidRows: [],
    pages: 0,
    fetchStoreMs: 0,
    deriveMs: 0,
  };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
