import { base, en, Faker } from '@faker-js/faker';
import type { Random } from '../random.js';

/**
 * Name pools built once per generation from a seeded Faker instance: per-row Faker calls are too slow for
 * 200,000 workers, picking from pools is not. A share of names carries the characters that break naive
 * CSV and JSON handling (accents, apostrophes, commas, double quotes; newlines only in F&O-only data).
 */
export interface NamePools {
  maleFirstNames: string[];
  femaleFirstNames: string[];
  lastNames: string[];
  jobTitles: string[];
  firstName(random: Random, gender: 'male' | 'female'): string;
  lastName(random: Random): string;
  /** A dependent name, sometimes with awkward characters (including, rarely, a newline). */
  awkwardFirstName(random: Random, gender: 'male' | 'female'): string;
  awkwardLastName(random: Random): string;
}

const awkwardFirstNames = {
  male: [
    'José',
    'François',
    'Søren',
    'Łukasz',
    'Ólafur',
    'Jürgen',
    'Robert "Bob"',
    "D'Andre",
    'Jean-Luc',
    'Zoltán',
  ],
  female: [
    'Zoë',
    'Renée',
    'Chloé',
    'Björk',
    'Inés',
    "Re'Nae",
    'Katherine "Kate"',
    'Anne\nMarie',
    'Siân',
    'Małgorzata',
  ],
};
const awkwardLastNames = [
  "O'Brien",
  "D'Angelo",
  "N'Diaye",
  'Núñez',
  'Müller',
  'Gonçalves',
  'Smith, Jr.',
  'Garcia, III',
  'Van der Berg',
  'Øvergård',
  'Þórsdóttir',
  'Lefèvre',
];

function uniquePool(size: number, produce: () => string): string[] {
  const values = new Set<string>();
  for (let attempt = 0; attempt < size * 5 && values.size < size; attempt++) values.add(produce());
  return [...values];
}

export function createNamePools(seed: number): NamePools {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(seed);
  const maleFirstNames = uniquePool(300, () => faker.person.firstName('male'));
  const femaleFirstNames = uniquePool(300, () => faker.person.firstName('female'));
  const lastNames = uniquePool(800, () => faker.person.lastName());
  const jobTitles = uniquePool(60, () => faker.person.jobTitle());
  const firstName = (random: Random, gender: 'male' | 'female'): string =>
    random.pick(gender === 'male' ? maleFirstNames : femaleFirstNames);
  const lastName = (random: Random): string => random.pick(lastNames);
  return {
    maleFirstNames,
    femaleFirstNames,
    lastNames,
    jobTitles,
    firstName,
    lastName,
    awkwardFirstName: (random, gender) =>
      random.chance(0.08) ? random.pick(awkwardFirstNames[gender]) : firstName(random, gender),
    awkwardLastName: (random) => (random.chance(0.08) ? random.pick(awkwardLastNames) : lastName(random)),
  };
}

/** Dataverse data (workers) avoids newlines; accents and apostrophes are common in real directories. */
export function workerFirstName(pools: NamePools, random: Random, gender: 'male' | 'female'): string {
  const name = pools.awkwardFirstName(random, gender);
  return name.includes('\n') ? name.replace('\n', '-') : name;
}
