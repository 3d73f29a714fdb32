import { DomainError, ErrorCode, envInt } from '@shop/kit';

/**
 * The flash-sale entrance: a token bucket per SKU in this process. Above the rate, placeOrder
 * answers FLASH_SALE_THROTTLED at once instead of queueing work on the database. With N order
 * processes the cluster admits N × rate; the limit is FLASH_SALE_RATE per SKU per second.
 */
export class FlashSaleGate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond = envInt('FLASH_SALE_RATE', 200),
    private readonly burst = envInt('FLASH_SALE_BURST', 200),
  ) {}

  admit(skuIds: readonly string[], now = Date.now()): void {
    for (const skuId of skuIds) {
      const bucket = this.buckets.get(skuId) ?? { tokens: this.burst, at: now };
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
      this.buckets.set(skuId, bucket);
      if (bucket.tokens < 1)
        throw new DomainError(ErrorCode.FLASH_SALE_THROTTLED, 'The flash sale is very busy right now: please try again in a moment', { skuId });
    }
    for (const skuId of skuIds) this.buckets.get(skuId)!.tokens -= 1;
  }
}
