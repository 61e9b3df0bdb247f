import { Readable } from 'node:stream';
import yazl from 'yazl';
import type { GeneratedOrganisation } from '../data/types.js';
import { type FnoEntityDefinition, findFnoEntity } from './catalog.js';
import type { DmfExecution } from './environment.js';

/**
 * The DMF package zip (docs/microsoft-wire.md, "DMF package API"): Manifest.xml, PackageHeader.xml and one data file per entity.
 * Data files are produced lazily, a few thousand rows at a time, and zipped as a stream, so 100k
 * workers (with ~165k dependents and ~300k enrollments) never sit in memory as one buffer.
 * Headers are the upper-case staging field names, as DMF writes them [seen/infer].
 */
const namespace = 'http://schemas.microsoft.com/dynamics/2015/01/DataManagement';
const rowsPerChunk = 2000;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function dataFileName(entity: FnoEntityDefinition, execution: DmfExecution): string {
  return `${entity.dmfEntityName}.${execution.group.sourceFormat.startsWith('XML') ? 'xml' : 'csv'}`;
}

export function manifestXml(execution: DmfExecution, entities: FnoEntityDefinition[]): string {
  const entries = entities
    .map(
      (entity, index) => `    <DataManagementPackageEntityData>
      <DefaultRefreshType>${execution.group.changeTracking ? 'IncrementalPush' : 'FullPush'}</DefaultRefreshType>
      <EntityName>${escapeXml(entity.dmfEntityName)}</EntityName>
      <ExecutionUnit>1</ExecutionUnit>
      <InputFilePath>${escapeXml(dataFileName(entity, execution))}</InputFilePath>
      <LevelInExecutionUnit>${index + 1}</LevelInExecutionUnit>
      <SourceFormat>${execution.group.sourceFormat}</SourceFormat>
      <TargetEntity>${entity.targetEntity}</TargetEntity>
    </DataManagementPackageEntityData>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<DataManagementPackageManifest xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="${namespace}">
  <DefinitionGroupName>${escapeXml(execution.group.name)}</DefinitionGroupName>
  <Description>${escapeXml(execution.group.name)}</Description>
  <PackageEntityList>
${entries}
  </PackageEntityList>
</DataManagementPackageManifest>
`;
}

export function packageHeaderXml(execution: DmfExecution): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<DataManagementPackageHeader xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="${namespace}">
  <Description>${escapeXml(execution.group.name)}</Description>
  <ManifestType>Microsoft.Dynamics.AX.Framework.Tools.DataManagement.Serialization.DataManagementPackageManifest</ManifestType>
  <PackageType>DefinitionGroup</PackageType>
  <PackageVersion>2</PackageVersion>
</DataManagementPackageHeader>
`;
}

/** RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled. */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function* csvChunks(
  rows: readonly Record<string, unknown>[],
  entity: FnoEntityDefinition,
): Generator<string> {
  const names = entity.fields.map((field) => field.name);
  let chunk = `${names.map((name) => name.toUpperCase()).join(',')}\r\n`;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    let line = '';
    for (let f = 0; f < names.length; f++) line += (f === 0 ? '' : ',') + csvField(row[names[f] as string]);
    chunk += `${line}\r\n`;
    if ((i + 1) % rowsPerChunk === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** CSV-Unicode is UTF-16LE with a byte-order mark; CSV-UTF8 is plain UTF-8. */
function encodedCsv(
  rows: readonly Record<string, unknown>[],
  entity: FnoEntityDefinition,
  unicode: boolean,
): Readable {
  function* buffers(): Generator<Buffer> {
    if (unicode) yield Buffer.from([0xff, 0xfe]);
    for (const chunk of csvChunks(rows, entity)) yield Buffer.from(chunk, unicode ? 'utf16le' : 'utf8');
  }
  return Readable.from(buffers(), { objectMode: false });
}

/** XML-Element: one element per row, one child element per field (a small project's file, in memory). */
function xmlElementFile(rows: readonly Record<string, unknown>[], entity: FnoEntityDefinition): string {
  const names = entity.fields.map((field) => field.name.toUpperCase());
  const body = rows
    .map(
      (row) =>
        `<${entity.targetEntity}>${entity.fields
          .map(
            (field, index) =>
              `<${names[index]}>${escapeXml(String(row[field.name] ?? ''))}</${names[index]}>`,
          )
          .join('')}</${entity.targetEntity}>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><Document>${body}</Document>`;
}

export function rowsForExport(
  execution: DmfExecution,
  entity: FnoEntityDefinition,
): readonly Record<string, unknown>[] {
  const rows = (execution.snapshot[entity.entitySetName as keyof GeneratedOrganisation['fno']] ??
    []) as unknown as readonly Record<string, unknown>[];
  if (!entity.companySpecific || !execution.legalEntityId) return rows;
  const company = execution.legalEntityId.toLowerCase();
  return rows.filter((row) => row.dataAreaId === company);
}

export function packageStream(execution: DmfExecution): Readable {
  const entities = execution.group.entitySets
    .map((name) => findFnoEntity(name))
    .filter((entity): entity is FnoEntityDefinition => entity !== undefined);
  const zip = new yazl.ZipFile();
  const mtime = new Date(execution.startedAt);
  zip.addBuffer(Buffer.from(manifestXml(execution, entities)), 'Manifest.xml', { mtime });
  zip.addBuffer(Buffer.from(packageHeaderXml(execution)), 'PackageHeader.xml', { mtime });
  for (const entity of entities) {
    const rows = rowsForExport(execution, entity);
    const data =
      execution.group.sourceFormat === 'XML-Element'
        ? Readable.from([Buffer.from(xmlElementFile(rows, entity))])
        : encodedCsv(rows, entity, execution.group.sourceFormat === 'CSV-Unicode');
    // Deflated like F&O's packages, at zlib's fastest level: the sandbox builds the package while
    // the gateway waits for it on the same cores, and F&O's own build time is not the gateway's.
    zip.addReadStream(data, dataFileName(entity, execution), { mtime, compressionLevel: 1 });
  }
  zip.end();
  return zip.outputStream as Readable;
}
