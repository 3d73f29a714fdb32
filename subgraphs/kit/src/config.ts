import { logger } from './logger.js';

/** Development defaults: fine on a laptop, refused in production (NODE_ENV=production). */
const DEV_SECRETS = {
  JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef',
  PAYMENT_WEBHOOK_SECRET: 'dev-payment-webhook-secret-change-me',
  INTERNAL_IDENTITY_SECRET: 'dev-internal-identity-secret-change-me',
  // 32 bytes, base64: the AES-256-GCM key that encrypts address PII at rest.
  ADDRESS_ENCRYPTION_KEY: 'ZGV2LWFkZHJlc3Mta2V5LTMyLWJ5dGVzLWxvbmchISE=',
} as const;

export type SecretName = keyof typeof DEV_SECRETS;

export const isProduction = (): boolean => process.env.NODE_ENV === 'production';

const warned = new Set<string>();

/** Reads a secret; in development falls back to a documented default with a warning. */
export function secret(name: SecretName): string {
  const value = process.env[name];
  if (value) return value;
  if (isProduction()) {
    throw new Error(`${name} is not set: it is required when NODE_ENV=production`);
  }
  if (!warned.has(name)) {
    warned.add(name);
    logger.warn({ variable: name }, `${name} is not set: using the development default (never do this in production)`);
  }
  return DEV_SECRETS[name];
}

export function envString(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return value;
}

/** The address every server binds: 127.0.0.1 on a workstation, 0.0.0.0 in a container. */
export const listenHost = (): string => envString('LISTEN_HOST', '127.0.0.1');
export const databaseUrl = (): string => envString('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/shop');
export const amqpUrl = (): string => envString('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672');
export const defaultCurrency = (): string => envString('DEFAULT_CURRENCY', 'CNY');

/** The six subgraphs, their default ports (CONTRACT.md) and env overrides (<NAME>_PORT, <NAME>_URL). */
export const SUBGRAPHS = {
  catalog: 4001,
  cart: 4002,
  order: 4003,
  inventory: 4004,
  payment: 4005,
  fulfillment: 4006,
} as const;
export type SubgraphName = keyof typeof SUBGRAPHS;

export const subgraphPort = (name: SubgraphName): number => envInt(`${name.toUpperCase()}_PORT`, SUBGRAPHS[name]);
export const subgraphUrl = (name: SubgraphName): string => envString(`${name.toUpperCase()}_URL`, `http://127.0.0.1:${subgraphPort(name)}/graphql`);
