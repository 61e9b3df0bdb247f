import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers/registry.js';
import { SIMULATORS } from '../../src/sandbox/simulators.js';

/**
 * The seam's guard (docs/providers.md, the recipe): a provider is named only in its own folders
 * (src/providers/<folder>/, src/sandbox/<folder>/), on its lines of the two registries, and in the
 * few places below. A new mention elsewhere is a defect of the seam: fix the code, do not grow this
 * list.
 */
const ALLOWED: readonly { file: string; contains: string; reason: string }[] = [];

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return [path];
  });
}

/**
 * Each registry's entries, from its source: `<id>: <identifier>,` inside the map, and the folder of
 * the module the identifier is imported from (`import { identifier } from './<folder>/...'`).
 */
function registryFolders(registryPath: string): Map<string, string> {
  const source = readFileSync(join(ROOT, registryPath), 'utf8');
  const folders = new Map<string, string>();
  for (const [, id, identifier] of source.matchAll(/^ {2}(\w+): (\w+),$/gm)) {
    const imported = new RegExp(`import \\{ ${identifier} \\} from '\\./([\\w-]+)/`).exec(source);
    if (id && imported?.[1]) folders.set(id, imported[1]);
  }
  return folders;
}

interface Mention {
  file: string;
  line: number;
  text: string;
  needle: string;
}

function mentions(needles: readonly string[]): Mention[] {
  const found: Mention[] = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(ROOT, path).split('\\').join('/');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((text, index) => {
      for (const needle of needles) {
        if (text.toLowerCase().includes(needle.toLowerCase()))
          found.push({ file, line: index + 1, text, needle });
      }
    });
  }
  return found;
}

const providerFolders = registryFolders('src/providers/registry.ts');
const simulatorFolders = registryFolders('src/sandbox/simulators.ts');

describe('the provider seam', () => {
  it('reads every registered provider and simulator from the registries, one simulator per provider', () => {
    expect([...providerFolders.keys()].sort()).toEqual(Object.keys(PROVIDERS).sort());
    expect([...simulatorFolders.keys()].sort()).toEqual(Object.keys(PROVIDERS).sort());
    for (const [id, simulator] of Object.entries(SIMULATORS)) expect(simulator.id).toBe(id);
    for (const [id, definition] of Object.entries(PROVIDERS)) expect(definition.id).toBe(id);
  });

  for (const [id, definition] of Object.entries(PROVIDERS)) {
    it(`names ${id} ("${definition.displayName}") only in its folders, its registry lines and the allow-list`, () => {
      const ownFolders = [
        `src/providers/${providerFolders.get(id)}/`,
        `src/sandbox/${simulatorFolders.get(id)}/`,
      ];
      const ownRegistryLine = (mention: Mention): boolean =>
        (mention.file === 'src/providers/registry.ts' || mention.file === 'src/sandbox/simulators.ts') &&
        (mention.text.startsWith(`  ${id}: `) ||
          mention.text.includes(`'./${providerFolders.get(id)}/`) ||
          mention.text.includes(`'./${simulatorFolders.get(id)}/`));
      const outside = mentions([id, definition.displayName]).filter(
        (mention) =>
          !ownFolders.some((folder) => mention.file.startsWith(folder)) &&
          !ownRegistryLine(mention) &&
          !ALLOWED.some(
            (allowed) => allowed.file === mention.file && mention.text.includes(allowed.contains),
          ),
      );
      expect(
        outside.map(
          (mention) => `${mention.file}:${mention.line} (${mention.needle}): ${mention.text.trim()}`,
        ),
      ).toEqual([]);
    });
  }

  it('keeps every allow-list entry justified and still needed', () => {
    for (const allowed of ALLOWED) {
      expect(allowed.reason.length).toBeGreaterThan(20);
      expect(readFileSync(join(ROOT, allowed.file), 'utf8')).toContain(allowed.contains);
    }
  });

  it('keeps providers away from the database: no provider module imports pg, Prisma or the db layer', () => {
    // Joins are data (docs/providers.md, "What the sync layer owns"): the sync layer writes their SQL.
    // The generated enums are the unified model's value types, not database access.
    const database =
      /from '(pg|@prisma\/[\w-]+|[./]+\/db\/[\w./-]+|[./]+\/generated\/prisma\/(?!enums\.js')[\w./-]+)'/;
    // The registry is the gateway's side of the seam (it reads an account's provider and credentials).
    const offenders = sourceFiles(join(SRC, 'providers'))
      .filter((path) => !path.endsWith(join('providers', 'registry.ts')))
      .filter((path) => database.test(readFileSync(path, 'utf8')))
      .map((path) => relative(ROOT, path));
    expect(offenders).toEqual([]);
  });
});
