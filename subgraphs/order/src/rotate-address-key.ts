import { checkEncryptionKeys, checkSecrets, currentKeyId, logger, openDatabase, sql } from '@shop/kit';
import { reencryptAddresses } from './domain/address-keys.js';
import { entities } from './domain/entities.js';
import { migrations } from './migrations/index.js';

/**
 * `npm run rotate-address-key`: re-encrypts every address that is not under the current key
 * (ADDRESS_ENCRYPTION_KEY / ADDRESS_ENCRYPTION_KEY_ID), in small transactions, while the order
 * processes keep serving (they read old and new keys alike). Run it after every order process has the
 * new key as current and the old one in ADDRESS_ENCRYPTION_OLD_KEYS; when it reports 0 left, remove
 * the old key. Answers the number of rows rewritten.
 */
export async function rotateAddressKey(batchSize = 200): Promise<number> {
  checkSecrets(['ADDRESS_ENCRYPTION_KEY']);
  checkEncryptionKeys();
  const orm = await openDatabase({ schema: 'ordering', entities, migrations, poolMax: 2 });
  let total = 0;
  try {
    for (;;) {
      const rewritten = await orm.em.fork().transactional((tx) => reencryptAddresses(sql(tx), batchSize));
      if (rewritten === 0) break;
      total += rewritten;
      logger.info({ rewritten: total, keyId: currentKeyId() }, 'addresses re-encrypted so far');
    }
  } finally {
    await orm.close();
  }
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.SERVICE_NAME ??= 'rotate-address-key';
  rotateAddressKey().then(
    (total) => {
      console.log(`${total} addresses re-encrypted under key ${currentKeyId()}; none is left under another key`);
      process.exit(0);
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'address key rotation failed');
      process.exit(1);
    },
  );
}
