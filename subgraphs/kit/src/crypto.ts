import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { envString, secret } from './config.js';

/**
 * Field encryption at rest: AES-256-GCM with a fresh 96-bit IV per value, bound to its place by
 * associated data (the caller names the row, owner and field: a ciphertext copied to another row,
 * user or column fails to decrypt), and tagged with the id of the key that made it:
 *
 *   v2:<key id>:<iv>:<tag>:<ciphertext>     (base64 parts)
 *
 * Keys: ADDRESS_ENCRYPTION_KEY (32 bytes, base64) with id ADDRESS_ENCRYPTION_KEY_ID (default k1)
 * encrypts; ADDRESS_ENCRYPTION_OLD_KEYS ("<id>:<base64>,...") only decrypt, while a rotation
 * re-encrypts the rows they made. `v1:` values (before key ids and associated data) are still read,
 * with any configured key, until the migration or a rotation rewrites them.
 */
const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

interface Keyring {
  currentId: string;
  keys: Map<string, Buffer>;
}

const decodeKey = (base64: string, variable: string): Buffer => {
  const raw = Buffer.from(base64, 'base64');
  if (raw.length !== 32) throw new Error(`${variable} must hold 32-byte keys, base64-encoded`);
  return raw;
};

function keyring(): Keyring {
  const currentId = envString('ADDRESS_ENCRYPTION_KEY_ID', 'k1');
  if (!KEY_ID.test(currentId)) throw new Error('ADDRESS_ENCRYPTION_KEY_ID must be 1..32 letters, digits, _ or -');
  const keys = new Map<string, Buffer>([[currentId, decodeKey(secret('ADDRESS_ENCRYPTION_KEY'), 'ADDRESS_ENCRYPTION_KEY')]]);
  for (const entry of envString('ADDRESS_ENCRYPTION_OLD_KEYS', '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    if (colon < 1 || !KEY_ID.test(id)) throw new Error('ADDRESS_ENCRYPTION_OLD_KEYS must be "<key id>:<base64 key>" entries, comma-separated');
    if (id === currentId) throw new Error(`ADDRESS_ENCRYPTION_OLD_KEYS repeats the current key id ${id}`);
    keys.set(id, decodeKey(entry.slice(colon + 1), 'ADDRESS_ENCRYPTION_OLD_KEYS'));
  }
  return { currentId, keys };
}

/** Checks the key configuration (ids, sizes) at start; throws naming the variable. */
export const checkEncryptionKeys = (): void => void keyring();

/** The id of the key new values are encrypted with. */
export const currentKeyId = (): string => keyring().currentId;

/** Encrypts `plain` under the current key, bound to `context` (e.g. "address:<id>:<user>:name"). */
export function encryptField(plain: string, context: string): string {
  const { currentId, keys } = keyring();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.get(currentId)!, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, currentId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

const open = (key: Buffer, iv: string, tag: string, body: string, context?: string): string => {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  if (context !== undefined) decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
};

/**
 * Decrypts a value made by encryptField for the same `context`. Throws when the key id is unknown,
 * or the value was altered or belongs to another row, owner or field.
 */
export function decryptField(stored: string, context: string): string {
  const parts = stored.split(':');
  const { keys } = keyring();
  if (parts[0] === LEGACY_VERSION && parts.length === 4) {
    // Made before associated data and key ids: whichever configured key opens it.
    for (const key of keys.values()) {
      try {
        return open(key, parts[1]!, parts[2]!, parts[3]!);
      } catch {
        // not this key
      }
    }
    throw new Error('no configured key decrypts this v1 value');
  }
  if (parts[0] !== VERSION || parts.length !== 5) throw new Error('unknown encrypted field format');
  const key = keys.get(parts[1]!);
  if (!key) throw new Error(`encrypted with key ${parts[1]}, which is not configured (ADDRESS_ENCRYPTION_KEY / ADDRESS_ENCRYPTION_OLD_KEYS)`);
  return open(key, parts[2]!, parts[3]!, parts[4]!, context);
}

/** True when a value is not under the current key (an old key, or the v1 format): a rotation rewrites it. */
export const needsReencryption = (stored: string): boolean => !stored.startsWith(`${VERSION}:${currentKeyId()}:`);
