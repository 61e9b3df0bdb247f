/**
 * Just enough of F&O's CSDL (`/data/$metadata`, OData v4 XML) to find entity sets: each EntitySet's
 * name and its entity type's property names. F&O's metadata is tens of MB in real environments; a
 * few regular expressions over the text are enough and avoid an XML dependency.
 */
export interface FnoEntitySetInfo {
  name: string;
  entityType: string;
  properties: Set<string>;
}

export class FnoMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FnoMetadataError';
  }
}

const attribute = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];

export function parseFnoMetadata(xml: string): FnoEntitySetInfo[] {
  if (!/<edmx:Edmx\b/.test(xml)) throw new FnoMetadataError('F&O $metadata is not an OData CSDL document');
  const types = new Map<string, Set<string>>();
  for (const match of xml.matchAll(/<EntityType\b([^>]*)>([\s\S]*?)<\/EntityType>/g)) {
    const name = attribute(match[1] ?? '', 'Name');
    if (!name) continue;
    const properties = new Set<string>();
    for (const property of (match[2] ?? '').matchAll(/<Property\b([^>]*)\/?>/g)) {
      const propertyName = attribute(property[1] ?? '', 'Name');
      if (propertyName) properties.add(propertyName);
    }
    types.set(name, properties);
  }
  const sets: FnoEntitySetInfo[] = [];
  for (const match of xml.matchAll(/<EntitySet\b([^>]*)\/?>/g)) {
    const name = attribute(match[1] ?? '', 'Name');
    const entityType = attribute(match[1] ?? '', 'EntityType');
    if (!name || !entityType) continue;
    const shortType = entityType.slice(entityType.lastIndexOf('.') + 1);
    sets.push({ name, entityType: shortType, properties: types.get(shortType) ?? new Set() });
  }
  return sets;
}

/** The entity set serving an entity: the preferred name if its type fits, else any set whose type does. */
export function findEntitySet(
  sets: readonly FnoEntitySetInfo[],
  preferredName: string,
  signature: readonly string[],
): FnoEntitySetInfo | undefined {
  const fits = (set: FnoEntitySetInfo) => signature.every((property) => set.properties.has(property));
  return sets.find((set) => set.name === preferredName && fits(set)) ?? sets.find(fits);
}
