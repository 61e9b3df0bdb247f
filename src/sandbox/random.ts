import { formatGuid } from './data/flat-strings.js';

/**
 * Deterministic pseudo-random numbers for the sandbox. The generator must give the same organisation for
 * the same seed on every machine, so nothing here touches Math.random or the clock.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with the given probability. */
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A version-4 shaped GUID, lowercase, as Dataverse returns them. */
  guid(): string;
}

/** sfc32: small, fast and good enough for test data (not for secrets). */
export function createRandom(seed: number): Random {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  const guidBytes = new Uint8Array(16);
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (probability) => next() < probability,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    guid: () => {
      for (let i = 0; i < 16; i += 4) {
        const word = Math.floor(next() * 4294967296);
        guidBytes[i] = word >>> 24;
        guidBytes[i + 1] = (word >>> 16) & 255;
        guidBytes[i + 2] = (word >>> 8) & 255;
        guidBytes[i + 3] = word & 255;
      }
      guidBytes[6] = 0x40 | ((guidBytes[6] as number) & 0x0f);
      guidBytes[8] = 0x80 | ((guidBytes[8] as number) & 0x3f);
      return formatGuid(guidBytes);
    },
  };
}

/** Derives a stable 32-bit seed from text, so tenant ids and names can be reproduced from the sandbox seed. */
export function seedFromText(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}
