import { TextDecoder } from 'node:util';

/**
 * A streaming RFC 4180 CSV reader for DMF data files (docs/microsoft-wire.md, "DMF package API"): CSV-Unicode is UTF-16LE with a
 * byte-order mark, CSV UTF-8 may or may not carry one. Fields may hold commas, doubled quotes and line
 * breaks inside quotes. Chunks may split a character, a quote pair or a CRLF anywhere: the decoder
 * keeps partial characters (TextDecoder `stream: true`) and the parser keeps its state between chunks,
 * so memory is one chunk plus the row being built, whatever the file size.
 */

export type CsvEncoding = 'utf-16le' | 'utf-8';

/** The encoding named by a byte-order mark, and the mark's length (UTF-8 without BOM otherwise). */
export function sniffEncoding(head: Uint8Array): { encoding: CsvEncoding; bomLength: number } {
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  return { encoding: 'utf-8', bomLength: 0 };
}

export class CsvSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

/** Incremental parser over decoded text: feed text, take complete rows. */
export class CsvParser {
  private field = '';
  private row: string[] = [];
  private inQuotes = false;
  /** A quote seen inside quotes: either the first of a doubled quote or the closing one. */
  private quotePending = false;
  /** The previous chunk ended on CR outside quotes: a following LF belongs to it. */
  private afterCr = false;
  private rowHasContent = false;

  /** Parses `text`, returning the rows it completed. */
  push(text: string): string[][] {
    const rows: string[][] = [];
    let start = 0;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const char = text.charCodeAt(i);
      if (this.afterCr) {
        this.afterCr = false;
        if (char === 10) {
          start = i + 1;
          continue;
        }
      }
      if (this.inQuotes) {
        if (this.quotePending) {
          this.quotePending = false;
          if (char === 34) {
            // A doubled quote: one literal quote.
            this.field += '"';
            start = i + 1;
            continue;
          }
          this.inQuotes = false;
          // fall through: this character follows the closing quote
        } else {
          if (char === 34) {
            this.field += text.slice(start, i);
            this.quotePending = true;
            start = i + 1;
          }
          continue;
        }
      }
      if (char === 44) {
        this.field += text.slice(start, i);
        this.row.push(this.field);
        this.field = '';
        this.rowHasContent = true;
        start = i + 1;
      } else if (char === 13 || char === 10) {
        this.field += text.slice(start, i);
        this.endRow(rows);
        this.afterCr = char === 13;
        start = i + 1;
      } else if (char === 34) {
        if (this.field.length > 0 || i > start) {
          throw new CsvSyntaxError(`a quote inside an unquoted field (row ${this.rowDescription()})`);
        }
        this.inQuotes = true;
        this.rowHasContent = true;
        start = i + 1;
      }
    }
    this.field += text.slice(start);
    return rows;
  }

  /** Completes the last row (a file without a final line break); throws on an unclosed quote. */
  end(): string[][] {
    if (this.inQuotes && !this.quotePending) {
      throw new CsvSyntaxError(`the file ends inside a quoted field (row ${this.rowDescription()})`);
    }
    this.inQuotes = false;
    this.quotePending = false;
    const rows: string[][] = [];
    this.endRow(rows);
    return rows;
  }

  private endRow(rows: string[][]): void {
    if (this.rowHasContent || this.field.length > 0) {
      this.row.push(this.field);
      rows.push(this.row);
    }
    this.row = [];
    this.field = '';
    this.rowHasContent = false;
  }

  private rowDescription(): string {
    return `starting ${JSON.stringify([...this.row, this.field].join(',').slice(0, 60))}`;
  }
}

/**
 * Rows of a CSV byte stream, in batches (one batch per input chunk, empty batches skipped). The
 * encoding comes from the byte-order mark unless given.
 */
export async function* csvRows(
  source: AsyncIterable<Uint8Array>,
  encoding?: CsvEncoding,
): AsyncGenerator<string[][]> {
  const parser = new CsvParser();
  let decoder: TextDecoder | undefined;
  let head: Uint8Array = new Uint8Array(0);
  for await (const chunk of source) {
    let bytes: Uint8Array = chunk;
    if (!decoder) {
      // The byte-order mark may itself be split across chunks: wait for three bytes.
      head = concat(head, bytes);
      if (head.length < 3) continue;
      const sniffed = sniffEncoding(head);
      decoder = new TextDecoder(encoding ?? sniffed.encoding, { fatal: true });
      bytes = head.subarray(encoding && encoding !== sniffed.encoding ? 0 : sniffed.bomLength);
    }
    const rows = parser.push(decoder.decode(bytes, { stream: true }));
    if (rows.length > 0) yield rows;
  }
  if (!decoder) {
    const sniffed = sniffEncoding(head);
    decoder = new TextDecoder(encoding ?? sniffed.encoding, { fatal: true });
    head = head.subarray(sniffed.bomLength);
    const rows = parser.push(decoder.decode(head, { stream: true }));
    if (rows.length > 0) yield rows;
  }
  const tail = parser.push(decoder.decode());
  const last = [...tail, ...parser.end()];
  if (last.length > 0) yield last;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
