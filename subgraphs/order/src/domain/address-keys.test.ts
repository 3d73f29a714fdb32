import { createCipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openDatabase, sql, type EntityManager } from '@shop/kit';
import type { MikroORM } from '@mikro-orm/postgresql';
import { entities } from './entities.js';
import { migrations } from '../migrations/index.js';
import { addAddress, findOwnAddress, listAddresses } from './addresses.js';
import { reencryptAddresses } from './address-keys.js';

/** A database of its own: the rotation rewrites every address, and other test files share the run's database. */
const url = new URL(process.env.DATABASE_URL!);
url.pathname = `${url.pathname}_adrkeys`;
const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');
const saved = { key: process.env.ADDRESS_ENCRYPTION_KEY, id: process.env.ADDRESS_ENCRYPTION_KEY_ID, old: process.env.ADDRESS_ENCRYPTION_OLD_KEYS };
let orm: MikroORM;
const em = (): EntityManager => orm.em.fork();

const legacyV1 = (plain: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(KEY_1, 'base64'), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
};

const admin = async (query: string) => {
  const base = new URL(url.toString());
  base.pathname = '/postgres';
  const client = new pg.Client({ connectionString: base.toString() });
  await client.connect();
  await client.query(query).finally(() => client.end());
};

beforeAll(async () => {
  process.env.ADDRESS_ENCRYPTION_KEY = KEY_1;
  process.env.ADDRESS_ENCRYPTION_KEY_ID = 'k1';
  delete process.env.ADDRESS_ENCRYPTION_OLD_KEYS;
  orm = await openDatabase({ schema: 'ordering', entities, migrations, url: url.toString(), poolMax: 2 });
});
afterAll(async () => {
  await orm?.close();
  await admin(`DROP DATABASE IF EXISTS "${url.pathname.slice(1)}" WITH (FORCE)`);
  for (const [name, value] of [
    ['ADDRESS_ENCRYPTION_KEY', saved.key],
    ['ADDRESS_ENCRYPTION_KEY_ID', saved.id],
    ['ADDRESS_ENCRYPTION_OLD_KEYS', saved.old],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const input = (name: string) => ({ name, phone: '+86 138 0000 0000', line1: '1 Nanjing Road', city: 'Shanghai', country: 'CN' });

describe('address encryption at rest', () => {
  it('migrates v1 rows (no key id, no associated data) to v2 bound to their row', async () => {
    await sql(em()).run('INSERT INTO address (id, user_id, name_enc, phone_enc, line1_enc, city, country) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      'adr_legacy1',
      'u-legacy',
      legacyV1('Old Wang'),
      legacyV1('+86 139 0000 0000'),
      legacyV1('2 Old Street'),
      'Beijing',
      'CN',
    ]);
    // What Migration20261202000040_address_aad runs, batch after batch, in its transaction.
    expect(await em().transactional((tx) => reencryptAddresses(sql(tx), 100))).toBe(1);
    const row = await sql(em()).one<{ name_enc: string }>('SELECT name_enc FROM address WHERE id = ?', ['adr_legacy1']);
    expect(row!.name_enc).toMatch(/^v2:k1:/);
    expect(await findOwnAddress(em(), 'u-legacy', 'adr_legacy1')).toMatchObject({ name: 'Old Wang', phone: '+86 139 0000 0000', line1: '2 Old Street' });
  });

  it('refuses a ciphertext moved to another row', async () => {
    const a = await addAddress(em(), 'u-swap', input('Alice'));
    const b = await addAddress(em(), 'u-swap', input('Bob'));
    await sql(em()).run('UPDATE address SET name_enc = (SELECT name_enc FROM address WHERE id = ?) WHERE id = ?', [a.id, b.id]);
    await expect(findOwnAddress(em(), 'u-swap', b.id)).rejects.toThrow();
    expect((await findOwnAddress(em(), 'u-swap', a.id))!.name).toBe('Alice');
    // A rotation stops at it, naming the row, rather than skip it silently.
    await expect(em().transactional((tx) => reencryptAddresses(sql(tx), 100))).resolves.toBe(0);
    process.env.ADDRESS_ENCRYPTION_KEY_ID = 'k1b';
    process.env.ADDRESS_ENCRYPTION_OLD_KEYS = `k1:${KEY_1}`;
    try {
      await expect(em().transactional((tx) => reencryptAddresses(sql(tx), 100))).rejects.toThrow(new RegExp(`address ${b.id} \\(name\\) does not decrypt`));
    } finally {
      process.env.ADDRESS_ENCRYPTION_KEY_ID = 'k1';
      delete process.env.ADDRESS_ENCRYPTION_OLD_KEYS;
    }
    await sql(em()).run('DELETE FROM address WHERE id = ?', [b.id]);
  });

  it('rotates to a new key while old rows stay readable, then needs the old key no more', async () => {
    await addAddress(em(), 'u-rotate', input('Before Rotation'));
    process.env.ADDRESS_ENCRYPTION_KEY = KEY_2;
    process.env.ADDRESS_ENCRYPTION_KEY_ID = 'k2';
    process.env.ADDRESS_ENCRYPTION_OLD_KEYS = `k1:${KEY_1}`;
    await addAddress(em(), 'u-rotate', input('After Rotation'));
    // Both readable during the rotation.
    expect((await listAddresses(em(), 'u-rotate')).map((a) => a.name).sort()).toEqual(['After Rotation', 'Before Rotation']);
    const { rotateAddressKey } = await import('../rotate-address-key.js');
    const before = process.env.DATABASE_URL;
    process.env.DATABASE_URL = url.toString();
    try {
      expect(await rotateAddressKey(2)).toBeGreaterThanOrEqual(1);
    } finally {
      process.env.DATABASE_URL = before;
    }
    const left = await sql(em()).all('SELECT id FROM address WHERE name_enc NOT LIKE ? OR phone_enc NOT LIKE ? OR line1_enc NOT LIKE ?', [
      'v2:k2:%',
      'v2:k2:%',
      'v2:k2:%',
    ]);
    expect(left).toEqual([]);
    delete process.env.ADDRESS_ENCRYPTION_OLD_KEYS;
    expect((await listAddresses(em(), 'u-rotate')).map((a) => a.name).sort()).toEqual(['After Rotation', 'Before Rotation']);
  });
});
