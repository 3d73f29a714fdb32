import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { secret } from './config.js';

const VERSION = 'v1';

function key(): Buffer {
  const raw = Buffer.from(secret('ADDRESS_ENCRYPTION_KEY'), 'base64');
  if (raw.length !== 32) throw new Error('ADDRESS_ENCRYPTION_KEY must be 32 bytes, base64-encoded');
  return raw;
}

/** AES-256-GCM with a fresh 96-bit IV per value; the output carries its key version. */
export function encryptField(plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

export function decryptField(stored: string): string {
  const [version, iv, tag, body] = stored.split(':');
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('unknown encrypted field format');
  const decipher = createDecipheriv('aes-256-gcm', key(), Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
}
