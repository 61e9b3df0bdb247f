/**
 * SHA-1 (FIPS 180-4) of short inputs, for UUID v5 record ids (record-id.ts). node:crypto's
 * createHash costs about 6 µs a call on our machines, most of it object and call overhead rather
 * than hashing; an initial load derives two ids per row (docs/PERFORMANCE.md, "F&O DMF fallback"),
 * and this plain loop over a reused buffer is ~3× faster for inputs of a few dozen bytes. Not for
 * secrets: SHA-1 serves here only as UUID v5 prescribes it (RFC 9562 §5.5), and
 * test/unified/record-id.test.ts checks it against node:crypto.
 */

const schedule = new Int32Array(80);

/** SHA-1 of `bytes[0..length)`, whose buffer has room for the padding (length + 72 bytes), into `out[0..5)`. */
export function sha1Into(bytes: Uint8Array, length: number, out: Int32Array): void {
  const blocks = Math.ceil((length + 9) / 64);
  const padded = blocks * 64;
  bytes[length] = 0x80;
  bytes.fill(0, length + 1, padded - 4);
  const bits = length * 8;
  bytes[padded - 4] = bits >>> 24;
  bytes[padded - 3] = (bits >>> 16) & 0xff;
  bytes[padded - 2] = (bits >>> 8) & 0xff;
  bytes[padded - 1] = bits & 0xff;
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  const w = schedule;
  for (let block = 0; block < padded; block += 64) {
    for (let i = 0; i < 16; i++) {
      const j = block + i * 4;
      w[i] =
        ((bytes[j] as number) << 24) |
        ((bytes[j + 1] as number) << 16) |
        ((bytes[j + 2] as number) << 8) |
        (bytes[j + 3] as number);
    }
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] as number) ^ (w[i - 8] as number) ^ (w[i - 14] as number) ^ (w[i - 16] as number);
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] as number)) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  out[0] = h0;
  out[1] = h1;
  out[2] = h2;
  out[3] = h3;
  out[4] = h4;
}
