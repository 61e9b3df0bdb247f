/**
 * Allocation-lean string builders for the generator. V8 keeps template-literal results as cons strings
 * (a tree of pieces, several times the size of the text); at a million rows that doubles the heap. These
 * helpers write ASCII into a scratch buffer and return one flat string.
 */
const scratch = Buffer.alloc(64);
const hexDigits = Buffer.from('0123456789abcdef');

function writeDigits(offset: number, value: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) {
    scratch[offset + i] = 48 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** `YYYY-MM-DDTHH:mm:ssZ` (Dataverse DateTimeOffset without milliseconds). */
export function isoSeconds(epochMs: number): string {
  const date = new Date(epochMs);
  writeDigits(0, date.getUTCFullYear(), 4);
  scratch[4] = 45;
  writeDigits(5, date.getUTCMonth() + 1, 2);
  scratch[7] = 45;
  writeDigits(8, date.getUTCDate(), 2);
  scratch[10] = 84;
  writeDigits(11, date.getUTCHours(), 2);
  scratch[13] = 58;
  writeDigits(14, date.getUTCMinutes(), 2);
  scratch[16] = 58;
  writeDigits(17, date.getUTCSeconds(), 2);
  scratch[19] = 90;
  return scratch.toString('latin1', 0, 20);
}

/** `YYYY-MM-DD`. */
export function isoDate(epochMs: number): string {
  return isoSeconds(epochMs).slice(0, 10);
}

/** `YYYY-MM-DDT12:00:00Z`: how F&O returns date-only fields. */
export function fnoDate(epochMs: number): string {
  const day = Math.floor(epochMs / 86_400_000) * 86_400_000;
  return isoSeconds(day + 12 * 3_600_000);
}

/** A version-4 GUID from 16 random bytes, lowercase, flat. */
export function formatGuid(bytes: Uint8Array): string {
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) scratch[out++] = 45;
    const byte = bytes[i] as number;
    scratch[out++] = hexDigits[byte >> 4] as number;
    scratch[out++] = hexDigits[byte & 15] as number;
  }
  return scratch.toString('latin1', 0, 36);
}

/** Flattens any composed string (names with accents included). */
export function flat(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
