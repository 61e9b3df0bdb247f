import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import yauzl from 'yauzl';
import { FnoError, type FnoHttp } from './fno-http.js';
import { DmfManifestError, type ManifestEntity, parseManifest } from './manifest.js';

/**
 * One DMF export ("Data management package REST API"; docs/microsoft-wire.md, "DMF package API"):
 * ExportToPackage for a definition group (data project) → poll GetExecutionSummaryStatus with backoff
 * until it leaves Executing or the time limit passes → GetExportedPackageUrl → download the zip.
 * Right after ExportToPackage F&O may not know the execution yet ("Execution details were not found",
 * or status Unknown): that is waited out, but only for `unknownTimeoutMs`, since an id F&O never
 * creates stays Unknown for good. The zip is streamed to a temporary file rather than
 * kept in memory: a zip's directory is at its end, so entries can only be located once the whole
 * file is there, and a file lets every entity's data file be read as a stream, in any order, by
 * concurrent source streams. Anything but Succeeded fails the export with F&O's own errors.
 */

export interface DmfSettings {
  definitionGroup: string;
  /** Legal entity for company-specific entities ("" = the project's setting). */
  legalEntityId: string;
  packageName: string;
  /** Give up waiting for the export after this long. */
  timeoutMs: number;
  /** How long an execution may stay unknown to F&O (not found, or Unknown) before the export fails. */
  unknownTimeoutMs: number;
  /** First wait between status polls; grows ×1.5 up to maxPollMs. */
  initialPollMs: number;
  maxPollMs: number;
}

export type DmfFailure =
  | 'PartiallySucceeded'
  | 'Failed'
  | 'Canceled'
  | 'timeout'
  | 'unknown-execution'
  | 'no-package'
  | 'package'
  | 'format';

export class DmfExportError extends Error {
  constructor(
    readonly failure: DmfFailure,
    message: string,
    readonly executionId: string | undefined,
    /** GetExecutionErrors' messages, when F&O gave any. */
    readonly executionErrors: string[] = [],
  ) {
    super(executionErrors.length > 0 ? `${message} F&O reported: ${executionErrors.join(' | ')}` : message);
    this.name = 'DmfExportError';
  }
}

const PENDING = new Set(['Executing', 'NotRun', 'Unknown']);
/** A status action's answer while F&O has not created the execution yet (publicly reported wording). */
const EXECUTION_NOT_FOUND = /Execution details were not found/i;

/** The execution's status; `NotFound` while F&O answers that it has no such execution yet. */
async function executionStatus(http: FnoHttp, executionId: string): Promise<string> {
  try {
    return await http.dmfAction('GetExecutionSummaryStatus', { executionId });
  } catch (error) {
    if (error instanceof FnoError && EXECUTION_NOT_FOUND.test(error.message)) return 'NotFound';
    throw error;
  }
}
const MAX_ERRORS_SHOWN = 10;

/** GetExecutionErrors' value is a JSON string holding [{RecordId, Field, ErrorMessage}]. */
async function executionErrors(http: FnoHttp, executionId: string): Promise<string[]> {
  try {
    const value = await http.dmfAction('GetExecutionErrors', { executionId });
    const parsed: unknown = JSON.parse(value || '[]');
    if (!Array.isArray(parsed)) return [value];
    return parsed.slice(0, MAX_ERRORS_SHOWN).map((item: unknown) => {
      const error = item as { RecordId?: unknown; Field?: unknown; ErrorMessage?: unknown };
      const where = [
        error.RecordId && `record ${String(error.RecordId)}`,
        error.Field && `field ${String(error.Field)}`,
      ]
        .filter(Boolean)
        .join(', ');
      return `${String(error.ErrorMessage ?? 'unknown error')}${where ? ` (${where})` : ''}`;
    });
  } catch (error) {
    return [`GetExecutionErrors failed: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/** Runs the export and waits for it; returns the execution id and the package URL. */
export async function runExport(
  http: FnoHttp,
  settings: DmfSettings,
): Promise<{ executionId: string; url: string }> {
  const executionId = await http.dmfAction('ExportToPackage', {
    definitionGroupId: settings.definitionGroup,
    packageName: settings.packageName,
    executionId: '',
    reExecute: false,
    legalEntityId: settings.legalEntityId,
  });
  const deadline = Date.now() + settings.timeoutMs;
  let wait = settings.initialPollMs;
  let status = 'Executing';
  /** Since when F&O has not known the execution (not found or Unknown), without a break. */
  let unknownSince: number | undefined;
  for (;;) {
    status = await executionStatus(http, executionId);
    if (status !== 'NotFound' && !PENDING.has(status)) break;
    if (status === 'NotFound' || status === 'Unknown') {
      unknownSince ??= Date.now();
      if (Date.now() + wait - unknownSince > settings.unknownTimeoutMs) {
        throw new DmfExportError(
          'unknown-execution',
          `F&O still does not know DMF execution ${executionId} of data project '${settings.definitionGroup}' ${Math.round((Date.now() - unknownSince) / 1000)} s after ExportToPackage returned it (status ${status === 'NotFound' ? '"execution details were not found"' : 'Unknown'}): the export job was not created; nothing was changed.`,
          executionId,
        );
      }
    } else {
      unknownSince = undefined;
    }
    if (Date.now() + wait > deadline) {
      throw new DmfExportError(
        'timeout',
        `DMF export of data project '${settings.definitionGroup}' (execution ${executionId}) was still ${status} after ${Math.round(settings.timeoutMs / 1000)} s; nothing was changed.`,
        executionId,
      );
    }
    await sleep(wait);
    wait = Math.min(settings.maxPollMs, Math.round(wait * 1.5));
  }
  if (status !== 'Succeeded') {
    const failure: DmfFailure =
      status === 'PartiallySucceeded' || status === 'Failed' || status === 'Canceled' ? status : 'Failed';
    throw new DmfExportError(
      failure,
      `DMF export of data project '${settings.definitionGroup}' (execution ${executionId}) ended ${status}: an incomplete snapshot is not applied, nothing was changed.`,
      executionId,
      await executionErrors(http, executionId),
    );
  }
  const url = await http.dmfAction('GetExportedPackageUrl', { executionId });
  if (!url) {
    throw new DmfExportError(
      'no-package',
      `DMF export ${executionId} succeeded but F&O gave no package URL.`,
      executionId,
    );
  }
  return { executionId, url };
}

const DOWNLOAD_ATTEMPTS = 3;

/**
 * The package URL stays valid for a while (a SAS on blob storage), so a connection lost mid-download
 * is retried from the start; a refusal (403 expired SAS, 404) is not.
 */
async function downloadWithRetries(http: FnoHttp, url: string, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await http.download(url, path);
      return;
    } catch (error) {
      const refused = error instanceof FnoError && error.status < 500;
      if (refused || attempt >= DOWNLOAD_ATTEMPTS) throw error;
      await sleep(500 * attempt);
    }
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) =>
      error ? reject(error) : resolve(zip),
    );
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
}

/** A downloaded package: its manifest, and each entity's data file as a byte stream. */
export class DmfPackage {
  private constructor(
    readonly executionId: string,
    readonly manifest: ManifestEntity[],
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    private readonly directory: string | undefined,
  ) {}

  static async download(http: FnoHttp, settings: DmfSettings): Promise<DmfPackage> {
    const { executionId, url } = await runExport(http, settings);
    const directory = await mkdtemp(join(tmpdir(), 'hris-dmf-'));
    try {
      const path = join(directory, 'package.zip');
      await downloadWithRetries(http, url, path);
      return await DmfPackage.open(path, executionId, directory);
    } catch (error) {
      await rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** Reads a package's directory and manifest; `directory` is removed by dispose() (if given). */
  static async open(path: string, executionId: string, directory?: string): Promise<DmfPackage> {
    const zip = await openZip(path).catch((error: unknown) => {
      throw new DmfExportError(
        'package',
        `The DMF package of ${executionId} is not a readable zip: ${String(error)}`,
        executionId,
      );
    });
    try {
      const entries = new Map((await readEntries(zip)).map((entry) => [entry.fileName.toLowerCase(), entry]));
      const manifestEntry = entries.get('manifest.xml');
      if (!manifestEntry) {
        throw new DmfExportError(
          'package',
          `The DMF package of ${executionId} has no Manifest.xml.`,
          executionId,
        );
      }
      let manifest: ManifestEntity[];
      try {
        manifest = parseManifest(await readText(await zip.openReadStreamPromise(manifestEntry)));
      } catch (error) {
        if (!(error instanceof DmfManifestError)) throw error;
        throw new DmfExportError(
          'package',
          `The DMF package of ${executionId} has a malformed manifest: ${error.message}`,
          executionId,
        );
      }
      return new DmfPackage(executionId, manifest, zip, entries, directory);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  /**
   * The data file of `entityName` (as the manifest names it) as a byte stream, whether the export is a
   * delta (change tracking: `IncrementalPush`), and its file name. Only CSV data files are read: the
   * manifest's SourceFormat says what the file is, and any other format is refused by name.
   */
  async openEntity(
    entityName: string,
  ): Promise<{ stream: Readable; sourceFormat: string; fileName: string; incremental: boolean }> {
    const listed = this.manifest.find(
      (entity) => entity.entityName.toLowerCase() === entityName.toLowerCase(),
    );
    if (!listed) {
      throw new DmfExportError(
        'package',
        `The DMF package of ${this.executionId} does not list the entity '${entityName}': add it to the data project.`,
        this.executionId,
      );
    }
    if (listed.sourceFormat && !/^csv/i.test(listed.sourceFormat)) {
      throw new DmfExportError(
        'format',
        `The DMF package of ${this.executionId} holds '${entityName}' as ${listed.sourceFormat}; the gateway reads CSV data files only (CSV-Unicode or CSV UTF-8): set the data project's source data format to CSV.`,
        this.executionId,
      );
    }
    const fileName = listed.inputFilePath.replaceAll('\\', '/');
    const entry =
      this.entries.get(fileName.toLowerCase()) ??
      this.entries.get((fileName.split('/').pop() ?? fileName).toLowerCase());
    if (!entry) {
      throw new DmfExportError(
        'package',
        `The DMF package of ${this.executionId} lists '${entityName}' but holds no file '${listed.inputFilePath}'.`,
        this.executionId,
      );
    }
    return {
      stream: await this.zip.openReadStreamPromise(entry),
      sourceFormat: listed.sourceFormat,
      fileName,
      incremental: /^incremental/i.test(listed.refreshType),
    };
  }

  async dispose(): Promise<void> {
    this.zip.close();
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * One export shared by the streams of a sync plan (each entity of the definition group feeds its
 * own stream): started by the first stream that needs it, released when the last is done.
 */
export class SharedDmfExport {
  private pending: Promise<DmfPackage> | undefined;
  private users: number;

  constructor(
    private readonly http: FnoHttp,
    readonly settings: DmfSettings,
    users: number,
  ) {
    this.users = users;
  }

  package(): Promise<DmfPackage> {
    this.pending ??= DmfPackage.download(this.http, this.settings);
    return this.pending;
  }

  /**
   * Starts the export now, so it runs while other sources sync (real exports take minutes). Its
   * failure is seen by the streams awaiting package(), not here.
   */
  start(): void {
    this.package().catch(() => undefined);
  }

  /** A stream is done with the package (successfully or not). */
  async release(): Promise<void> {
    this.users -= 1;
    if (this.users <= 0) await this.dispose();
  }

  async dispose(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const downloaded = await pending.catch(() => undefined);
    await downloaded?.dispose();
  }
}
