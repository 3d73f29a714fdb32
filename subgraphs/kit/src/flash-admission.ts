import type { Redis } from 'ioredis';
import { envInt } from './config.js';
import { DomainError, ErrorCode } from './errors.js';

/**
 * The flash-sale admission shared by every gateway and order process (seed-design §9.2 step 1):
 * one Redis Lua script per click decides, for one SKU and one buyer, before any order row exists:
 *
 * - **sold out**: the units left to promise are the available units PostgreSQL last reported
 *   (written by inventory's mirror, `publishAvailable`) minus the buyers admitted and not yet
 *   reserved (`pending`) minus those reserved since that report (`held`). None left: sold out,
 *   answered without a database read or write;
 * - **one live attempt per buyer**: a buyer key holds `q` (admitted) or the order id (placed,
 *   held); a second click of a queued buyer answers the same admission, one of a buyer with an
 *   order answers that order;
 * - **a bounded queue**: at most `queue` buyers admitted and not yet reserved;
 * - **a rate**: a token bucket per SKU (`rate`/s, `burst`), on Redis's clock, so N replicas admit
 *   what one admits.
 *
 * PostgreSQL's conditional UPDATE still decides every unit: what Redis holds is an optimisation
 * that is rebuilt from PostgreSQL within `FLASH_SALE_SYNC_MS` or expires. A Redis restart loses
 * the state; until inventory publishes the SKU again admission answers `UNKNOWN`, and the order
 * subgraph refuses (briefly) rather than admitting blind.
 */
export interface FlashSaleSettings {
  /** Admissions per SKU per second, for the whole cluster. */
  rate: number;
  burst: number;
  /** Buyers admitted and not yet reserved, per SKU. */
  queue: number;
  /** How long an admission waits for its order to be placed and reserved (ms). */
  ticketTtlMs: number;
}

export const flashSaleSettings = (): FlashSaleSettings => ({
  rate: envInt('FLASH_SALE_RATE', 200),
  burst: envInt('FLASH_SALE_BURST', 200),
  queue: envInt('FLASH_SALE_QUEUE', 300),
  ticketTtlMs: envInt('FLASH_SALE_TICKET_TTL_MS', 30_000),
});

/** How long an order stays counted as held when no stock report saw its reservation (ms); the mirror reports reservations this recent. */
export const FLASH_HELD_BACKSTOP_MS = 60_000;
const HELD_BACKSTOP_MS = FLASH_HELD_BACKSTOP_MS;

export type Admission =
  | { kind: 'ADMITTED'; position: number }
  | { kind: 'SOLD_OUT' }
  | { kind: 'THROTTLED'; reason: 'RATE' | 'QUEUE_FULL'; retryAfterMs: number }
  | { kind: 'ALREADY'; orderId: string }
  | { kind: 'NOT_STARTED'; retryAfterMs: number }
  /** No state for this SKU: not a flash-sale SKU, or Redis lost it and inventory has not published it again. */
  | { kind: 'UNKNOWN' };

export type Claim = { kind: 'CLAIMED' } | { kind: 'NOT_ADMITTED' } | { kind: 'ALREADY'; orderId: string };

/** What Redis holds about one flash SKU: for tests and the benchmark. */
export interface FlashSaleState {
  available: number | null;
  pending: number;
  held: number;
}

// KEYS: 1 state hash (avail, tokens, ts), 2 pending zset (buyer → expiry), 3 held zset (buyer → reserved at), 4 buyer key.
// ARGV: 1 buyer, 2 rate/s, 3 burst, 4 queue, 5 ticket ttl ms.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local avail = redis.call('HGET', KEYS[1], 'avail')
if not avail then return {'UNKNOWN'} end
local starts = tonumber(redis.call('HGET', KEYS[1], 'starts') or 0)
if now < starts then return {'NOT_STARTED', starts - now} end
local buyer = ARGV[1]
local mine = redis.call('GET', KEYS[4])
if mine and mine ~= 'q' then return {'ALREADY', mine} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if mine == 'q' then
  local rank = redis.call('ZRANK', KEYS[2], buyer)
  if rank then return {'ADMITTED', rank + 1} end
end
local pending = redis.call('ZCARD', KEYS[2])
local left = tonumber(avail) - pending - redis.call('ZCARD', KEYS[3])
if left <= 0 then return {'SOLD_OUT'} end
local rate = tonumber(ARGV[2])
if pending >= tonumber(ARGV[4]) then return {'THROTTLED', 'QUEUE_FULL', math.ceil(1000 / rate) + 100} end
local burst = tonumber(ARGV[3])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or burst)
local at = tonumber(redis.call('HGET', KEYS[1], 'ts') or now)
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
  return {'THROTTLED', 'RATE', math.ceil((1 - tokens) * 1000 / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'ts', now)
local ttl = tonumber(ARGV[5])
redis.call('ZADD', KEYS[2], now + ttl, buyer)
redis.call('SET', KEYS[4], 'q', 'PX', ttl)
return {'ADMITTED', pending + 1}
`;

// KEYS: 1 pending, 2 buyer key, 3 claims hash (order id → buyer). ARGV: 1 buyer, 2 order id, 3 ticket ttl ms.
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mine = redis.call('GET', KEYS[2])
if mine == ARGV[2] then return {'CLAIMED'} end
if mine and mine ~= 'q' then return {'ALREADY', mine} end
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if mine ~= 'q' or not expiry or tonumber(expiry) <= now then return {'NOT_ADMITTED'} end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
return {'CLAIMED'}
`;

// A placement that failed after its claim: the buyer is admitted again, as before the claim. KEYS: 1 buyer key, 2 claims. ARGV: 1 order id.
const UNCLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], 'q', 'KEEPTTL') end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`;

// The buyer's order holds its unit in PostgreSQL: counted as held (by order id) until a stock report
// that sees its reservation; a report that saw it already took the buyer out of pending, and it is not
// counted again. KEYS: 1 pending, 2 held, 3 buyer key, 4 claims. ARGV: 1 buyer, 2 order id, 3 how long the
// buyer's attempt stays live (ms).
const HELD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then redis.call('ZADD', KEYS[2], now, ARGV[2]) end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('SET', KEYS[3], ARGV[2], 'PX', tonumber(ARGV[3]))
return 1
`;

// The buyer's order was canceled: its admission ends, and the buyer may try again.
// KEYS: 1 pending, 2 buyer key, 3 claims. ARGV: 1 buyer, 2 order id.
const RELEASED = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[2])
local mine = redis.call('GET', KEYS[2])
if mine == ARGV[2] or mine == 'q' then redis.call('DEL', KEYS[2]) end
return 1
`;

// A preview that failed after its buyer was admitted (the catalog did not answer, say): the unit is
// promised to nobody again. Only an admission not yet bound to an order. KEYS: 1 pending, 2 buyer key. ARGV: 1 buyer.
const GIVE_BACK = `
if redis.call('GET', KEYS[2]) == 'q' then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
`;

// Inventory's report of PostgreSQL's available units, with the orders whose reservations that read saw:
// those are no longer counted as held, nor as pending (a reservation the report saw before the order
// subgraph's HELD: its buyer, from the claims, leaves pending here, and HELD does not count it again).
// A held order no report saw for a minute is dropped (its reservation is long visible or was never made).
// KEYS: 1 state, 2 held, 3 pending, 4 claims. ARGV: 1 available, 2 snapshotAt ms, 3.. order ids.
const PUBLISH = `
redis.call('HSET', KEYS[1], 'avail', ARGV[1])
for i = 3, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  local buyer = redis.call('HGET', KEYS[4], ARGV[i])
  if buyer then
    redis.call('ZREM', KEYS[3], buyer)
    redis.call('HDEL', KEYS[4], ARGV[i])
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[2]) - ${HELD_BACKSTOP_MS})
return 1
`;

type Reply = [string, (string | number)?, (string | number)?];

/** The scripts, by name: keys first, then arguments. */
const SCRIPTS = {
  flashAdmit: { numberOfKeys: 4, lua: ADMIT },
  flashClaim: { numberOfKeys: 3, lua: CLAIM },
  flashUnclaim: { numberOfKeys: 2, lua: UNCLAIM },
  flashHeld: { numberOfKeys: 4, lua: HELD },
  flashReleased: { numberOfKeys: 3, lua: RELEASED },
  flashGiveBack: { numberOfKeys: 2, lua: GIVE_BACK },
  flashPublish: { numberOfKeys: 4, lua: PUBLISH },
} as const;
type Scripts = Record<keyof typeof SCRIPTS, (...keysThenArgs: (string | number)[]) => Promise<unknown>>;

/** The keys of one flash SKU (the connection adds `shop:<run>:`). */
const keys = (skuId: string) => ({
  state: `flash:${skuId}`,
  pending: `flash:${skuId}:pending`,
  held: `flash:${skuId}:held`,
  claims: `flash:${skuId}:claims`,
  buyer: (userId: string) => `flash:${skuId}:buyer:${userId}`,
});
const INDEX = 'flash:skus';

export class FlashAdmission {
  /** The scripts on this connection: ioredis sends each one's SHA1 (EVALSHA), its text only the first time Redis does not know it. */
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: Redis,
    readonly settings: FlashSaleSettings = flashSaleSettings(),
  ) {
    if (settings.rate <= 0 || settings.burst < 1 || settings.queue < 1 || settings.ticketTtlMs < 1000)
      throw new Error('FLASH_SALE_RATE must be > 0, FLASH_SALE_BURST and FLASH_SALE_QUEUE ≥ 1, FLASH_SALE_TICKET_TTL_MS ≥ 1000');
    for (const [name, definition] of Object.entries(SCRIPTS)) if (!(name in redis)) redis.defineCommand(name, definition);
    this.scripts = redis as unknown as Scripts;
  }

  async admit(skuId: string, userId: string): Promise<Admission> {
    const k = keys(skuId);
    const s = this.settings;
    const [kind, a, b] = (await this.scripts.flashAdmit(k.state, k.pending, k.held, k.buyer(userId), userId, s.rate, s.burst, s.queue, s.ticketTtlMs)) as Reply;
    switch (kind) {
      case 'ADMITTED':
        return { kind, position: Number(a) };
      case 'THROTTLED':
        return { kind, reason: a as 'RATE' | 'QUEUE_FULL', retryAfterMs: Number(b) };
      case 'ALREADY':
        return { kind, orderId: String(a) };
      case 'NOT_STARTED':
        return { kind, retryAfterMs: Number(a) };
      case 'SOLD_OUT':
      case 'UNKNOWN':
        return { kind };
      default:
        throw new Error(`unexpected flash-sale admission answer ${kind}`);
    }
  }

  /** Binds an admitted buyer's admission to the order being placed; before the order's transaction. */
  async claim(skuId: string, userId: string, orderId: string): Promise<Claim> {
    const k = keys(skuId);
    const [kind, a] = (await this.scripts.flashClaim(k.pending, k.buyer(userId), k.claims, userId, orderId, this.settings.ticketTtlMs)) as Reply;
    if (kind === 'ALREADY') return { kind, orderId: String(a) };
    return { kind: kind as 'CLAIMED' | 'NOT_ADMITTED' };
  }

  async unclaim(skuId: string, userId: string, orderId: string): Promise<void> {
    const k = keys(skuId);
    await this.scripts.flashUnclaim(k.buyer(userId), k.claims, orderId);
  }

  /** The buyer's order holds its unit (PENDING_PAYMENT or REVIEW), counted until a report sees it; the attempt stays live for `liveMs`. */
  async held(skuId: string, userId: string, orderId: string, liveMs: number): Promise<void> {
    const k = keys(skuId);
    await this.scripts.flashHeld(k.pending, k.held, k.buyer(userId), k.claims, userId, orderId, Math.max(1000, Math.round(liveMs)));
  }

  /** The buyer's order was canceled: the admission ends, the buyer may click again. */
  async released(skuId: string, userId: string, orderId: string): Promise<void> {
    const k = keys(skuId);
    await this.scripts.flashReleased(k.pending, k.buyer(userId), k.claims, userId, orderId);
  }

  /** Ends an admission no order was placed for (a failed preview); a claimed one stays. */
  async giveBack(skuId: string, userId: string): Promise<void> {
    const k = keys(skuId);
    await this.scripts.flashGiveBack(k.pending, k.buyer(userId), userId);
  }

  /** Makes a SKU known as a flash-sale SKU, so inventory publishes its stock; clicks before `startsAt` are refused. */
  async register(skuId: string, startsAt: Date | null = null): Promise<void> {
    await this.redis
      .multi()
      .sadd(INDEX, skuId)
      .hset(keys(skuId).state, 'starts', startsAt ? startsAt.getTime() : 0)
      .exec();
  }

  flashSkus(): Promise<string[]> {
    return this.redis.smembers(INDEX);
  }

  /** Redis's clock (ms): the instant a stock report is taken after. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /**
   * PostgreSQL's available units per SKU, with the orders whose reservations the same read saw
   * (at least those of the last FLASH_HELD_BACKSTOP_MS), read after `snapshotAt` (from `now()`).
   */
  async publishAvailable(
    available: ReadonlyMap<string, number>,
    snapshotAt: number,
    reserved: ReadonlyMap<string, readonly string[]> = new Map(),
  ): Promise<void> {
    if (available.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [skuId, units] of available) {
      const k = keys(skuId);
      (pipeline as unknown as Scripts).flashPublish(k.state, k.held, k.pending, k.claims, units, snapshotAt, ...(reserved.get(skuId) ?? []));
    }
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed) throw failed[0]!;
  }

  async state(skuId: string): Promise<FlashSaleState> {
    const k = keys(skuId);
    const [avail, pending, held] = await Promise.all([this.redis.hget(k.state, 'avail'), this.redis.zcard(k.pending), this.redis.zcard(k.held)]);
    return { available: avail === null ? null : Number(avail), pending, held };
  }
}

/**
 * The answer to a refused admission, or undefined when admitted. UNKNOWN is answered by the caller:
 * the gateway lets the click through to the order subgraph, which knows whether the SKU is a flash SKU.
 */
export function admissionRefusal(skuId: string, admission: Admission): DomainError | undefined {
  switch (admission.kind) {
    case 'SOLD_OUT':
      return new DomainError(ErrorCode.STOCK_NOT_ENOUGH, 'Sold out: every unit of this flash sale is taken; units of unpaid orders may come back', {
        skuId,
        reason: 'SOLD_OUT',
        shortages: [{ skuId, requested: 1, available: 0 }],
      });
    case 'THROTTLED':
      return throttled(skuId, admission.reason, admission.retryAfterMs);
    case 'NOT_STARTED':
      return new DomainError(ErrorCode.FLASH_SALE_THROTTLED, 'The flash sale has not started yet', {
        skuId,
        reason: 'NOT_STARTED',
        retryAfterMs: admission.retryAfterMs,
      });
    case 'ALREADY':
      return new DomainError(ErrorCode.ORDER_ALREADY_EXISTS, 'You already have an order in this flash sale: one per buyer', {
        skuId,
        orderId: admission.orderId,
        reason: 'ONE_PER_BUYER',
      });
    default:
      return undefined;
  }
}

/** FLASH_SALE_THROTTLED with the reason and when to try again. */
export const throttled = (skuId: string, reason: string, retryAfterMs: number): DomainError =>
  new DomainError(
    ErrorCode.FLASH_SALE_THROTTLED,
    `The flash sale is very busy right now: please try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`,
    {
      skuId,
      reason,
      retryAfterMs,
    },
  );
