/**
 * The DMF package manifest (docs/microsoft-wire.md, "DMF package API"): `Manifest.xml`, namespace
 * http://schemas.microsoft.com/dynamics/2015/01/DataManagement, listing under
 * `PackageEntityList/DataManagementPackageEntityData` each entity's `EntityName`, `InputFilePath`
 * (the data file in the zip), `SourceFormat` (CSV-Unicode, CSV UTF-8, XML, Excel) and
 * `DefaultRefreshType` (FullPush, or IncrementalPush for an entity with change tracking;
 * docs/microsoft-wire.md, "DMF package API").
 */
export interface ManifestEntity {
  entityName: string;
  inputFilePath: string;
  sourceFormat: string;
  /** "" when the manifest does not say. */
  refreshType: string;
}

export class DmfManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DmfManifestError';
  }
}

function decodeXml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, decimal: string) => String.fromCodePoint(Number(decimal)))
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:\\w+:)?${name}>([\\s\\S]*?)</(?:\\w+:)?${name}>`).exec(xml);
  return match ? decodeXml((match[1] ?? '').trim()) : undefined;
}

export function parseManifest(xml: string): ManifestEntity[] {
  if (!/<(?:\w+:)?DataManagementPackageManifest\b/.test(xml)) {
    throw new DmfManifestError('Manifest.xml is not a DataManagementPackageManifest');
  }
  const list = /<(?:\w+:)?PackageEntityList>([\s\S]*?)<\/(?:\w+:)?PackageEntityList>/.exec(xml);
  if (!list) throw new DmfManifestError('Manifest.xml has no PackageEntityList');
  const entities: ManifestEntity[] = [];
  const items = (list[1] ?? '').matchAll(
    /<(?:\w+:)?DataManagementPackageEntityData>([\s\S]*?)<\/(?:\w+:)?DataManagementPackageEntityData>/g,
  );
  for (const item of items) {
    const body = item[1] ?? '';
    const entityName = element(body, 'EntityName');
    const inputFilePath = element(body, 'InputFilePath');
    if (!entityName || !inputFilePath) {
      throw new DmfManifestError('Manifest.xml lists an entity without EntityName or InputFilePath');
    }
    entities.push({
      entityName,
      inputFilePath,
      sourceFormat: element(body, 'SourceFormat') ?? '',
      refreshType: element(body, 'DefaultRefreshType') ?? '',
    });
  }
  return entities;
}
