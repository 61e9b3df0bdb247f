import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DATAVERSE_TABLES } from '../../src/providers/dynamics/dataverse/catalog.js';
import { mapWorker } from '../../src/providers/dynamics/dataverse/mappers.js';
import { FNO_ENTITIES } from '../../src/providers/dynamics/fno/catalog.js';
import { mapFnoWorker, mapPersonalContact } from '../../src/providers/dynamics/fno/mappers.js';
import { OPTION_SETS, WORKER_GENDER, WORKER_TYPE } from '../../src/providers/dynamics/option-sets.js';
import { isSourceId, PUBLISHED_SOURCES } from '../../src/providers/dynamics/published-sources.js';
import { generateOrganisation as generateSandbox } from '../../src/sandbox/data/generator.js';
import { workerGender } from '../../src/sandbox/data/option-sets.js';
import { dataverseCatalog, wireName } from '../../src/sandbox/dataverse/catalog.js';
import { fnoCatalog } from '../../src/sandbox/fno/catalog.js';
import { generateOrganisation as generateSeed } from '../../src/seed/generate-organisation.js';
import { MODEL_NAMES } from '../../src/unified/models.js';

/**
 * Every Microsoft name the adapter and the sandbox use carries the publication it comes from, and
 * docs/microsoft-wire.md lists each publication and each name no publication confirms; the seed,
 * the sandbox and the mappers read one option-set table.
 */
const doc = readFileSync(new URL('../../docs/microsoft-wire.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('## Tables, entities and option sets'));
const noContext = { ref: () => null };
const guid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('published names', () => {
  it('lists every publication in docs/microsoft-wire.md, with its address', () => {
    expect(section.length).toBeGreaterThan(1000);
    for (const [id, source] of Object.entries(PUBLISHED_SOURCES)) {
      expect(section, id).toContain(`\`${id}\``);
      if (source.url.startsWith('https://')) {
        const address = source.url.replace(/^https:\/\/learn\.microsoft\.com/, '');
        const inDoc =
          section.includes(source.url) ||
          section.includes(address) ||
          ('repository' in source && section.includes(source.repository.split(': ')[1] ?? '@'));
        expect(inDoc, `${id}: ${source.url}`).toBe(true);
      }
    }
  });

  it('cites a publication beside every Dataverse table and column the adapter reads', () => {
    for (const table of DATAVERSE_TABLES) {
      expect(isSourceId(table.source), table.logicalName).toBe(true);
      expect(table.source).not.toMatch(/^(discovered|unpublished)$/);
      expect(table.columns.map((column) => column.name)).toContain(table.key);
      for (const column of table.columns) {
        expect(isSourceId(column.source), `${table.logicalName}.${column.name}`).toBe(true);
        expect(column.source, `${table.logicalName}.${column.name}`).not.toBe('unpublished');
        expect(column.cost.length, `${table.logicalName}.${column.name} cost`).toBeGreaterThan(5);
        if (column.source === 'discovered') {
          // Listed in the docs' table of discovered columns, with what a tenant without it loses.
          expect(section, `${table.logicalName}.${column.name}`).toContain(
            `| ${table.logicalName}.${column.name} |`,
          );
        }
      }
    }
  });

  it('serves in the sandbox exactly the citations the adapter uses, and cites every other column', () => {
    for (const table of DATAVERSE_TABLES) {
      const served = dataverseCatalog.find((candidate) => candidate.logicalName === table.logicalName);
      expect(served, table.logicalName).toBeDefined();
      for (const column of table.columns) {
        const match = served?.columns.find((candidate) => wireName(candidate) === column.name);
        expect(match, `${table.logicalName}.${column.name} in the sandbox`).toBeDefined();
        expect(match?.source).toBe(column.source);
      }
    }
    for (const table of dataverseCatalog) {
      for (const column of table.columns) {
        expect(isSourceId(column.source), `${table.logicalName}.${column.logicalName}`).toBe(true);
        expect(column.source).not.toBe('unpublished');
      }
    }
    // No column a publication lacks and the adapter does not discover (the ones earlier versions invented).
    const invented = [
      'cdm_category',
      'cdm_planid',
      'cdm_optionid',
      'cdm_coveragestartdate',
      'cdm_coverageenddate',
    ];
    for (const table of dataverseCatalog) {
      for (const name of invented) expect(table.columns.map((c) => c.logicalName)).not.toContain(name);
    }
  });

  it('cites a publication beside every F&O entity and field, none of them unpublished', () => {
    for (const entity of FNO_ENTITIES) {
      expect(isSourceId(entity.source), entity.id).toBe(true);
      expect(entity.source, entity.id).not.toMatch(/^(discovered|unpublished)$/);
      expect(section, entity.id).toContain(`\`${entity.source}\``);
      for (const field of entity.fields) {
        const source = entity.fieldSources[field];
        expect(source && isSourceId(source), `${entity.id}.${field}`).toBe(true);
        expect(source, `${entity.id}.${field}`).not.toBe('unpublished');
        // Every field the adapter reads is named in the docs' list of the entity's fields.
        expect(section, `${entity.id}.${field}`).toContain(field);
      }
    }
    for (const entity of fnoCatalog) {
      expect(isSourceId(entity.source), entity.entitySetName).toBe(true);
      expect(entity.source, entity.entitySetName).not.toMatch(/^(discovered|unpublished)$/);
    }
  });

  it('serves in the sandbox every F&O entity the adapter reads, from the same publication and with its fields', () => {
    // Every model has an F&O entity (docs/fno-fallback.md).
    expect(new Set(FNO_ENTITIES.map((entity) => entity.target))).toEqual(
      new Set([...MODEL_NAMES, 'auxiliary']),
    );
    for (const entity of FNO_ENTITIES) {
      const served = fnoCatalog.find((candidate) => candidate.dmfEntityName === entity.dmfEntityName);
      expect(served, entity.id).toBeDefined();
      expect(served?.source, entity.id).toBe(entity.source);
      const names = served?.fields.map((field) => field.name) ?? [];
      for (const field of entity.fields) {
        if (entity.fieldSources[field] !== 'discovered')
          expect(names, `${entity.id}.${field}`).toContain(field);
      }
      // The sandbox's entity is the one the adapter recognises in $metadata.
      for (const property of entity.signature) expect(names, `${entity.id} signature`).toContain(property);
    }
  });

  it('cites every option set and code, and lists the unpublished codes as open', () => {
    for (const set of OPTION_SETS) {
      expect(isSourceId(set.source), set.name).toBe(true);
      expect(set.source).not.toMatch(/^(discovered|unpublished)$/);
      expect(new Set(set.values.map((value) => value.code)).size).toBe(set.values.length);
      for (const value of set.values) {
        if (value.source === undefined) continue;
        expect(isSourceId(value.source), `${set.name} ${value.code}`).toBe(true);
        if (value.source === 'unpublished') {
          const open = section.slice(section.indexOf('`unpublished` (open'));
          const row = open.split('\n').find((line) => line.startsWith(`| ${set.name} |`));
          expect(row, `${set.name} in the unpublished table`).toBeDefined();
          expect(row, `${set.name} ${value.code}`).toContain(String(value.code));
        }
      }
    }
    // Worker type and status codes come from the dual-write mapping reference.
    expect(WORKER_TYPE.source).toBe('dual-write-mapping-reference');
    expect(
      WORKER_TYPE.values.filter((value) => value.source === undefined).map((value) => value.code),
    ).toEqual([754400000, 754400001]);
  });

  it('has the seed, the sandbox and the mappers agree on every gender code', () => {
    // The seed's stored raw code maps, through the Dataverse mapper, to the gender the seed stored.
    const seen = new Map<string, string>();
    for (const chunk of generateSeed({ linkedAccountId: guid(1), employees: 3000, seed: 11 })) {
      for (const employee of chunk.employees ?? []) {
        seen.set(String(employee.gender_raw), String(employee.gender));
      }
    }
    expect(seen.size).toBeGreaterThanOrEqual(3);
    for (const [raw, gender] of seen) {
      const mapped = mapWorker({ cdm_workerid: guid(2), cdm_gender: Number(raw) }, noContext);
      expect('fields' in mapped && mapped.fields.gender, `seed raw ${raw}`).toBe(gender);
    }

    // The sandbox labels its codes from the same table, and its Dataverse and F&O rows of one
    // person map to the same gender.
    expect(workerGender).toEqual(
      Object.fromEntries(WORKER_GENDER.values.map((value) => [value.code, value.label])),
    );
    const organisation = generateSandbox({ workers: 400, seed: 5 });
    const codes = new Set<number>();
    organisation.dataverse.cdm_workers.forEach((worker, index) => {
      codes.add(worker.cdm_gender);
      const fromDataverse = mapWorker(worker as unknown as Record<string, unknown>, noContext);
      const fromFno = mapFnoWorker(organisation.fno.Workers[index] as unknown as Record<string, unknown>);
      expect(fromFno && 'fields' in fromFno && fromFno.fields.gender).toBe(
        'fields' in fromDataverse && fromDataverse.fields.gender,
      );
    });
    expect(codes.size).toBeGreaterThanOrEqual(3);
    for (const contact of organisation.fno.WorkerPersonalContactPersons.slice(0, 200)) {
      const mapped = mapPersonalContact(contact as unknown as Record<string, unknown>);
      if (mapped && 'fields' in mapped) expect(mapped.fields.gender).not.toBe('OTHER');
    }
  });
});
