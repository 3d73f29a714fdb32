import { readFile } from 'node:fs/promises';
import { logger, rawSql, type EntityManager } from '@shop/kit';

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
    created += await rawSql(em).run(
      `INSERT INTO coupon (code, kind, amount_off, percent_off, cap, min_spend, currency, valid_from, valid_to, per_user_limit)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
      [c.code, c.kind, c.amountOff ?? 0, c.percentOff ?? 0, c.cap ?? 0, c.minSpend ?? 0, c.currency, c.validFrom, c.validTo, c.perUserLimit ?? 0],
    );
  }
  logger.info({ created }, 'demo coupons loaded');
}
