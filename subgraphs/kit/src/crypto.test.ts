import { createCipheriv, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptField, encryptField, needsReencryption } from './crypto.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('base64');
const saved = { ...process.env };

const useKeys = (current: string, id: string, old = '') => {
  process.env.ADDRESS_ENCRYPTION_KEY = current;
  process.env.ADDRESS_ENCRYPTION_KEY_ID = id;
  process.env.ADDRESS_ENCRYPTION_OLD_KEYS = old;
};

afterEach(() => {
  for (const name of ['ADDRESS_ENCRYPTION_KEY', 'ADDRESS_ENCRYPTION_KEY_ID', 'ADDRESS_ENCRYPTION_OLD_KEYS']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe('field encryption', () => {
  it('records the key id and binds a value to its context', () => {
    useKeys(KEY_A, 'a1');
    const stored = encryptField('Li Lei', 'ordering.address:adr_1:u1:name');
    expect(stored).toMatch(/^v2:a1:/);
    expect(decryptField(stored, 'ordering.address:adr_1:u1:name')).toBe('Li Lei');
    // Moved to another row, owner or column, it does not decrypt.
    for (const other of ['ordering.address:adr_2:u1:name', 'ordering.address:adr_1:u2:name', 'ordering.address:adr_1:u1:phone']) {
      expect(() => decryptField(stored, other)).toThrow();
    }
  });

  it('reads values of an old key during a rotation, and refuses a key id it does not have', () => {
    useKeys(KEY_A, 'a1');
    const old = encryptField('1 Nanjing Road', 'ctx');
    useKeys(KEY_B, 'b2', `a1:${KEY_A}`);
    expect(decryptField(old, 'ctx')).toBe('1 Nanjing Road');
    expect(needsReencryption(old)).toBe(true);
    expect(needsReencryption(encryptField('x', 'ctx'))).toBe(false);
    useKeys(KEY_B, 'b2');
    expect(() => decryptField(old, 'ctx')).toThrow(/key a1, which is not configured/);
  });

  it('still reads the v1 format (no key id, no associated data) with a configured key', () => {
    useKeys(KEY_B, 'b2', `a1:${KEY_A}`);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(KEY_A, 'base64'), iv);
    const body = Buffer.concat([cipher.update('+86 138 0000 0000', 'utf8'), cipher.final()]);
    const legacy = ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
    expect(decryptField(legacy, 'anything')).toBe('+86 138 0000 0000');
    expect(needsReencryption(legacy)).toBe(true);
  });

  it('refuses a malformed key configuration, naming the variable', () => {
    useKeys(KEY_A, 'a1', 'nonsense');
    expect(() => encryptField('x', 'ctx')).toThrow(/ADDRESS_ENCRYPTION_OLD_KEYS/);
    useKeys(Buffer.alloc(16).toString('base64'), 'a1');
    expect(() => encryptField('x', 'ctx')).toThrow(/ADDRESS_ENCRYPTION_KEY/);
  });
});
