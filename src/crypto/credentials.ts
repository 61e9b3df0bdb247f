import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Provider credentials at rest: AES-256-GCM, one random 96-bit IV per value, authenticated.
 * Blob layout: version (1 byte) | key id (4 bytes) | IV (12) | tag (16) | ciphertext.
 *
 * ENCRYPTION_KEY holds one or more base64 keys of 32 bytes, comma-separated: the first encrypts,
 * all decrypt (the key id in each blob picks one). Rotating = put the new key first, run
 * `hris credentials reencrypt`, then drop the old key.
 */
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Keyring {
  encrypt(plaintext: string): Buffer;
  decrypt(blob: Uint8Array): string;
  /** True when the blob was encrypted with a key other than the current one. */
  needsReencryption(blob: Uint8Array): boolean;
}

function keyId(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, 4);
}

export function parseKeys(value: string): Buffer[] {
  const keys = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => Buffer.from(part, 'base64'));
  if (keys.length === 0 || keys.some((key) => key.length !== 32)) {
    throw new Error('ENCRYPTION_KEY must be one or more comma-separated base64 keys of 32 bytes each');
  }
  return keys;
}

export function createKeyring(keys: Buffer[]): Keyring {
  const [current] = keys;
  if (!current) throw new Error('no encryption key');
  const currentId = keyId(current);
  const byId = new Map(keys.map((key) => [keyId(key).toString('hex'), key]));
  return {
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), currentId, iv, cipher.getAuthTag(), ciphertext]);
    },
    decrypt(blob) {
      const buffer = Buffer.from(blob);
      if (buffer[0] !== VERSION) throw new Error('unknown credentials format');
      const key = byId.get(buffer.subarray(1, 5).toString('hex'));
      if (!key) throw new Error('credentials were encrypted with a key not in ENCRYPTION_KEY');
      const iv = buffer.subarray(5, 5 + IV_BYTES);
      const tag = buffer.subarray(5 + IV_BYTES, 5 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(buffer.subarray(5 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
    needsReencryption(blob) {
      return !Buffer.from(blob).subarray(1, 5).equals(currentId);
    },
  };
}

/**
 * The keyring from ENCRYPTION_KEY, or in development a key generated once into DATA_DIR (with a
 * warning: losing that file loses every stored credential).
 */
export async function loadKeyring(
  config: { ENCRYPTION_KEY?: string | undefined; NODE_ENV: string; DATA_DIR: string },
  warn: (message: string) => void,
): Promise<Keyring> {
  if (config.ENCRYPTION_KEY) return createKeyring(parseKeys(config.ENCRYPTION_KEY));
  if (config.NODE_ENV === 'production')
    throw new Error('ENCRYPTION_KEY is required when NODE_ENV=production');
  const file = join(config.DATA_DIR, 'encryption.key');
  if (!existsSync(file)) {
    await mkdir(config.DATA_DIR, { recursive: true });
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }).catch((error) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
    warn(`ENCRYPTION_KEY not set: generated a development key in ${file}. Set ENCRYPTION_KEY in production.`);
  }
  return createKeyring(parseKeys(await readFile(file, 'utf8')));
}
