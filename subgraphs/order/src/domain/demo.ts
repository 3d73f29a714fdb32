import { readFile } from 'node:fs/promises';
import { logger, type EntityManager } from '@shop/kit';
import { db } from '../persistence.js';

interface DemoCoupon {
  code: string;
  kind: 'FIXED' | 'PERCENT' | 'THRESHOLD';
  amountOff?: number;
  percentOff?: number;
  cap?: number;
  minSpend?: number;
  currency: string;
  validFrom: string;
  validTo: string;
  perUserLimit?: number;
}

/** Loads the demo coupons of DEMO_DATA (npm start sets it); running it again changes nothing. */
export async function loadDemoCoupons(em: EntityManager, path: string): Promise<void> {
  const demo = JSON.parse(await readFile(path, 'utf8')) as { coupons?: DemoCoupon[] };
  let created = 0;
  for (const c of demo.coupons ?? []) {
    const res = await db(em)
      .insertInto('coupon')
      .values({
        code: c.code,
        kind: c.kind,
        amount_off: c.amountOff ?? 0,
        percent_off: c.percentOff ?? 0,
        cap: c.cap ?? 0,
        min_spend: c.minSpend ?? 0,
        currency: c.currency,
        valid_from: c.validFrom,
        valid_to: c.validTo,
        per_user_limit: c.perUserLimit ?? 0,
      })
      .onConflict((oc) => oc.column('code').doNothing())
      .executeTakeFirst();
    created += Number(res.numInsertedOrUpdatedRows);
  }
  logger.info({ created }, 'demo coupons loaded');
}
