import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { diagnose } from '../../src/providers/dynamics/diagnose.js';
import { DmfExportError, DmfPackage } from '../../src/providers/dynamics/fno/dmf.js';
import { FnoError } from '../../src/providers/dynamics/fno/fno-http.js';
import { parseManifest } from '../../src/providers/dynamics/fno/manifest.js';
import { findEntitySet, parseFnoMetadata } from '../../src/providers/dynamics/fno/metadata.js';

const directory = mkdtempSync(join(tmpdir(), 'hris-dmf-test-'));

async function zipFile(name: string, files: Record<string, string | Buffer>): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const [path, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), path);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const path = join(directory, name);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

const manifest = (entities: string[]) => `<?xml version="1.0" encoding="utf-8"?>
<DataManagementPackageManifest xmlns="http://schemas.microsoft.com/dynamics/2015/01/DataManagement">
  <DefinitionGroupName>HR export</DefinitionGroupName>
  <PackageEntityList>
${entities
  .map(
    (entity) => `    <DataManagementPackageEntityData>
      <EntityName>${entity.replaceAll('&', '&amp;')}</EntityName>
      <InputFilePath>${entity.replaceAll('&', '&amp;')}.csv</InputFilePath>
      <SourceFormat>CSV-Unicode</SourceFormat>
      <DefaultRefreshType>IncrementalPush</DefaultRefreshType>
    </DataManagementPackageEntityData>`,
  )
  .join('\n')}
  </PackageEntityList>
</DataManagementPackageManifest>`;

describe('DMF package reader', () => {
  it('opens an entity file listed in the manifest (case-insensitive names)', async () => {
    const path = await zipFile('ok.zip', {
      'Manifest.xml': manifest(['Worker personal contact person']),
      'worker personal contact person.csv': Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from('A,B\r\n', 'utf16le'),
      ]),
    });
    const dmf = await DmfPackage.open(path, 'exec-1');
    const { stream } = await dmf.openEntity('Worker personal contact person');
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).subarray(2).toString('utf16le')).toBe('A,B\r\n');
    await dmf.dispose();
  });

  it('fails with a reason when the zip lacks the entity file, the manifest or a well-formed manifest', async () => {
    const missingFile = await DmfPackage.open(
      await zipFile('missing.zip', { 'Manifest.xml': manifest(['Worker enrolled benefit']) }),
      'exec-2',
    );
    await expect(missingFile.openEntity('Worker enrolled benefit')).rejects.toThrow(
      /holds no file 'Worker enrolled benefit.csv'/,
    );
    await expect(missingFile.openEntity('Covered beneficiary relationship')).rejects.toThrow(
      /does not list the entity/,
    );
    await missingFile.dispose();
    await expect(
      DmfPackage.open(await zipFile('nomanifest.zip', { 'a.csv': 'x' }), 'exec-3'),
    ).rejects.toThrow(/has no Manifest.xml/);
    const malformed = DmfPackage.open(
      await zipFile('bad.zip', { 'Manifest.xml': '<html>nope</html>' }),
      'exec-4',
    );
    await expect(malformed).rejects.toBeInstanceOf(DmfExportError);
    await expect(malformed).rejects.toThrow(/malformed manifest/);
    writeFileSync(join(directory, 'notzip.zip'), 'not a zip');
    await expect(DmfPackage.open(join(directory, 'notzip.zip'), 'exec-5')).rejects.toThrow(
      /not a readable zip/,
    );
  });

  it('parses manifest entries and rejects entries without a file', () => {
    expect(parseManifest(manifest(['A & B']))).toEqual([
      {
        entityName: 'A & B',
        inputFilePath: 'A & B.csv',
        sourceFormat: 'CSV-Unicode',
        refreshType: 'IncrementalPush',
      },
    ]);
    expect(() =>
      parseManifest(
        '<DataManagementPackageManifest><PackageEntityList><DataManagementPackageEntityData><EntityName>X</EntityName></DataManagementPackageEntityData></PackageEntityList></DataManagementPackageManifest>',
      ),
    ).toThrow(/without EntityName or InputFilePath/);
  });
});

describe('F&O $metadata', () => {
  it('finds entity sets by their type properties, preferring the usual name', () => {
    const xml = `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="Microsoft.Dynamics.DataEntities">
      <EntityType Name="HcmPersonalContact"><Property Name="WorkerPersonnelNumber" Type="Edm.String" /><Property Name="ContactPersonPartyNumber" Type="Edm.String"/><Property Name="IsDependent" Type="Microsoft.Dynamics.DataEntities.NoYes" /></EntityType>
      <EntityContainer Name="Resources"><EntitySet Name="PersonalContacts" EntityType="Microsoft.Dynamics.DataEntities.HcmPersonalContact" /></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`;
    const sets = parseFnoMetadata(xml);
    expect(
      findEntitySet(sets, 'WorkerPersonalContactPersons', ['WorkerPersonnelNumber', 'IsDependent'])?.name,
    ).toBe('PersonalContacts');
    expect(findEntitySet(sets, 'Workers', ['PersonnelNumber'])).toBeUndefined();
    expect(() => parseFnoMetadata('<html/>')).toThrow(/not an OData CSDL/);
  });
});

describe('F&O diagnosis', () => {
  const url = 'https://contoso.operations.dynamics.com/data/$metadata';
  it('words F&O failures with where to fix them', () => {
    expect(diagnose(new FnoError(401, undefined, 'HTTP 401', url))).toMatchObject({
      status: 'error_permissions',
      reason: expect.stringMatching(/Microsoft Entra applications/),
    });
    expect(diagnose(new FnoError(403, undefined, 'Forbidden', url)).reason).toMatch(/security roles/);
    expect(diagnose(new FnoError(400, undefined, "Data project 'HR' was not found.", url)).reason).toMatch(
      /no such DMF data project/,
    );
    expect(diagnose(new DmfExportError('timeout', 'still Executing', 'x')).reason).toMatch(/time limit/);
    expect(diagnose(new DmfExportError('Failed', 'ended Failed', 'x', ['boom'])).reason).toMatch(
      /nothing was deleted/,
    );
  });
});
