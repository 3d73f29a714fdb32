import type { RequestHandler } from 'express';
import { Counter } from 'prom-client';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createRedis, ErrorCode, logger, registry, type Identity } from '@shop/kit';
import { isPartner } from '../persisted-queries.js';
import { clientFacts } from '../policy/client-facts.js';

/** Requests each kind of client may send per window, and the window (seconds). */
export interface RateLimits {
  user: number;
  partner: number;
  anonymous: number;
  window: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { user: 600, partner: 3000, anonymous: 1200, window: 60 };

/**
 * GATEWAY_RATE_LIMITS, e.g. `user=600,partner=3000,anonymous=1200,window=60` (any subset; the rest
 * keep their defaults). A malformed value stops the gateway at start with the reason.
 */
export function rateLimitsFromEnv(raw = process.env.GATEWAY_RATE_LIMITS ?? '', overrides: Partial<RateLimits> = {}): RateLimits {
  const limits = { ...DEFAULT_RATE_LIMITS };
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const match = /^(user|partner|anonymous|window)=(\d+)$/.exec(part);
    if (!match || Number(match[2]) < 1) {
      throw new Error(`GATEWAY_RATE_LIMITS: "${part}" is not <user|partner|anonymous|window>=<positive integer>`);
    }
    limits[match[1] as keyof RateLimits] = Number(match[2]);
  }
  return { ...limits, ...overrides };
}

type Kind = 'user' | 'partner' | 'anonymous';

const limited = new Counter({
  name: 'gateway_rate_limited_total',
  help: 'Requests the gateway refused with RATE_LIMITED, by kind of client (user, partner, anonymous)',
  labelNames: ['kind'] as const,
  registers: [registry],
});

const log = logger.child({ component: 'rate-limit' });

export interface RateLimiter {
  limits: RateLimits;
  /** Express middleware after authentication (res.locals.identity): counts the request, or answers 429. */
  middleware: RequestHandler;
  stop(): Promise<void>;
}

/**
 * Per-identity rate limits at the gateway (rate-limiter-flexible): per user, per partner, and per
 * client address for anonymous requests, counted in Redis so every gateway replica shares one budget
 * per client. Each answer carries the standard headers (`RateLimit-Policy`, `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset`); a request over the budget is answered HTTP 429 with
 * `Retry-After` and the GraphQL error RATE_LIMITED, whose `retryAfterMs` says when to try again (as FLASH_SALE_THROTTLED's).
 *
 * When Redis does not answer, each gateway process counts by itself with the same limits (the
 * library's insurance limiter, in memory): requests are never refused because Redis is down, and
 * while it is down N replicas together let up to N times the limit through.
 */
export function rateLimiter(options: { limits?: Partial<RateLimits>; redisUrl?: string; namespace?: string } = {}): RateLimiter {
  const limits = rateLimitsFromEnv(undefined, options.limits);
  const redis = createRedis({ name: 'gateway-rate-limit', url: options.redisUrl, commandTimeoutMs: 200, autoPipelining: true });
  const limiterOf = (kind: Kind) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `ratelimit:${options.namespace ?? 'gateway'}:${kind}`,
      points: limits[kind],
      duration: limits.window,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `ratelimit:${kind}`, points: limits[kind], duration: limits.window }),
    });
  const limiters: Record<Kind, RateLimiterRedis> = { user: limiterOf('user'), partner: limiterOf('partner'), anonymous: limiterOf('anonymous') };

  const middleware: RequestHandler = (req, res, next) => {
    const identity = res.locals.identity as Identity | undefined;
    const kind: Kind = identity ? (isPartner(identity) ? 'partner' : 'user') : 'anonymous';
    const key = identity ? identity.userId : (clientFacts(req).clientIp ?? 'unknown');
    const headers = (result: RateLimiterRes) => {
      res.setHeader('RateLimit-Policy', `${limits[kind]};w=${limits.window}`);
      res.setHeader('RateLimit-Limit', String(limits[kind]));
      res.setHeader('RateLimit-Remaining', String(Math.max(0, result.remainingPoints)));
      res.setHeader('RateLimit-Reset', String(Math.ceil(result.msBeforeNext / 1000)));
    };
    limiters[kind].consume(key).then(
      (result) => {
        headers(result);
        next();
      },
      (refusal: unknown) => {
        if (!(refusal instanceof RateLimiterRes)) {
          // Neither Redis nor the in-memory insurance could count: let the request through.
          log.error({ err: refusal }, 'rate limit could not be checked; request let through');
          return next();
        }
        headers(refusal);
        const retryAfter = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
        limited.inc({ kind });
        res.setHeader('Retry-After', String(retryAfter));
        res.status(429).json({
          errors: [
            {
              message: `Too many requests: at most ${limits[kind]} every ${limits.window} s; try again in ${retryAfter} s`,
              extensions: { code: ErrorCode.RATE_LIMITED, retryAfterMs: retryAfter * 1000 },
            },
          ],
        });
      },
    );
  };

  return {
    limits,
    middleware,
    stop: async () => {
      redis.disconnect();
    },
  };
}
