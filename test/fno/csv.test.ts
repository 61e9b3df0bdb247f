import { describe, expect, it } from 'vitest';
import { CsvParser, CsvSyntaxError, csvRows } from '../../src/providers/dynamics/fno/csv.js';

async function collect(chunks: Uint8Array[]): Promise<string[][]> {
  async function* source() {
    for (const chunk of chunks) yield chunk;
  }
  const rows: string[][] = [];
  for await (const batch of csvRows(source())) rows.push(...batch);
  return rows;
}

/** Every way of cutting `bytes` into chunks of `size` bytes. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

const tricky =
  'NAME,CITY,NOTE\r\n' +
  '"Zoë ""Zo"" Łukasiewicz-Ångström",Montréal,"line one\r\nline two"\r\n' +
  '"O\'Brien, Siobhán",Straße,\r\n' +
  ',,"ends with quote """\r\n' +
  'plain,"",😀 emoji\n' +
  'last,row,no newline';
const expected = [
  ['NAME', 'CITY', 'NOTE'],
  ['Zoë "Zo" Łukasiewicz-Ångström', 'Montréal', 'line one\r\nline two'],
  ["O'Brien, Siobhán", 'Straße', ''],
  ['', '', 'ends with quote "'],
  ['plain', '', '😀 emoji'],
  ['last', 'row', 'no newline'],
];

describe('streaming CSV reader', () => {
  it('reads CSV-Unicode (UTF-16LE with BOM) with accents, commas, quotes and line breaks in fields', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tricky, 'utf16le')]);
    expect(await collect([bytes])).toEqual(expected);
  });

  it('reads UTF-8 with and without a BOM', async () => {
    expect(await collect([Buffer.from(tricky, 'utf8')])).toEqual(expected);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(tricky, 'utf8')]);
    expect(await collect([withBom])).toEqual(expected);
  });

  it('gives the same rows whatever the chunk boundaries (split characters, BOM, quote pairs, CRLF)', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tricky, 'utf16le')]);
    const utf8 = Buffer.from(tricky, 'utf8');
    for (const size of [1, 2, 3, 5, 7, 13, 64]) {
      expect(await collect(chunked(utf16, size)), `utf-16 chunks of ${size}`).toEqual(expected);
      expect(await collect(chunked(utf8, size)), `utf-8 chunks of ${size}`).toEqual(expected);
    }
  });

  it('rejects a file that ends inside a quoted field and a stray quote', () => {
    const open = new CsvParser();
    open.push('a,"unterminated\r\n');
    expect(() => open.end()).toThrow(CsvSyntaxError);
    expect(() => new CsvParser().push('a,b"c,d\r\n')).toThrow(CsvSyntaxError);
  });

  it('skips empty lines but keeps rows of empty fields', async () => {
    expect(await collect([Buffer.from('a,b\r\n\r\n,\r\n""\r\n')])).toEqual([['a', 'b'], ['', ''], ['']]);
  });
});
