import { logger } from './logger.js';

/** Development defaults: fine on a laptop, refused in production (NODE_ENV=production). */
export const DEV_SECRETS = {
  JWT_SECRET: 'dev-jwt-secret-change-me-0123456789abcdef',
  PAYMENT_WEBHOOK_SECRET: 'dev-payment-webhook-secret-change-me',
  INTERNAL_IDENTITY_SECRET: 'dev-internal-identity-secret-change-me',
  // 32 bytes, base64: the AES-256-GCM key that encrypts address PII at rest.
  ADDRESS_ENCRYPTION_KEY: 'ZGV2LWFkZHJlc3Mta2V5LTMyLWJ5dGVzLWxvbmchISE=',
} as const;

export type SecretName = keyof typeof DEV_SECRETS;

/** Shortest secret accepted in production: 32 characters (256 bits of a random base64 or hex string is longer). */
export const MIN_SECRET_LENGTH = 32;

export const isProduction = (): boolean => process.env.NODE_ENV === 'production';

/** What is wrong with a secret's value, or undefined when it is fine (the development default is judged by the caller). */
function secretProblem(name: SecretName, value: string): string | undefined {
  if (name === 'ADDRESS_ENCRYPTION_KEY') {
    return Buffer.from(value, 'base64').length === 32 ? undefined : `${name} must be 32 random bytes, base64-encoded`;
  }
  return value.length >= MIN_SECRET_LENGTH ? undefined : `${name} is shorter than ${MIN_SECRET_LENGTH} characters`;
}

/** The error (naming the variable) that a secret's value is in production, or undefined when it may be used. */
export function productionSecretError(name: SecretName, value: string | undefined): string | undefined {
  if (!value) return `${name} is not set: it is required when NODE_ENV=production`;
  if (value === DEV_SECRETS[name]) return `${name} is the published development default: set a secret of your own when NODE_ENV=production`;
  return secretProblem(name, value);
}

const warned = new Set<string>();

/**
 * Reads a secret. In production a missing, default or too short value is an error naming the
 * variable; in development an unset one falls back to the documented default with a warning.
 */
export function secret(name: SecretName): string {
  const value = process.env[name];
  if (isProduction()) {
    const problem = productionSecretError(name, value);
    if (problem) throw new Error(problem);
    return value!;
  }
  if (value) {
    const problem = secretProblem(name, value);
    // A key of the wrong size cannot work at all; a short secret works, and is refused only in production.
    if (problem && name === 'ADDRESS_ENCRYPTION_KEY') throw new Error(problem);
    if (problem && !warned.has(name)) {
      warned.add(name);
      logger.warn({ variable: name }, `${problem}: refused when NODE_ENV=production`);
    }
    return value;
  }
  if (!warned.has(name)) {
    warned.add(name);
    logger.warn({ variable: name }, `${name} is not set: using the development default (never do this in production)`);
  }
  return DEV_SECRETS[name];
}

/** Secrets that must differ: a client token must never pass for a forwarded identity. */
const DISTINCT: [SecretName, SecretName][] = [['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET']];

/** The operator token of /metrics (see operations.ts): optional in development, required in production. */
function metricsTokenProblem(): string | undefined {
  const token = process.env.METRICS_TOKEN;
  if (!token) return isProduction() ? 'METRICS_TOKEN is not set: it is required when NODE_ENV=production (operators scrape /metrics with it)' : undefined;
  return token.length < MIN_SECRET_LENGTH ? `METRICS_TOKEN is shorter than ${MIN_SECRET_LENGTH} characters` : undefined;
}

/**
 * Checks, at start, every secret a process will use: throws one error naming each variable that is
 * wrong, so a process never starts half-configured (in development, unset ones only warn).
 */
export function checkSecrets(names: readonly (SecretName | 'METRICS_TOKEN')[]): void {
  const problems: string[] = [];
  for (const name of names) {
    if (name === 'METRICS_TOKEN') {
      const problem = metricsTokenProblem();
      if (problem && isProduction()) problems.push(problem);
      else if (problem) logger.warn({ variable: name }, `${problem}: refused when NODE_ENV=production`);
      continue;
    }
    try {
      secret(name);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  for (const [a, b] of DISTINCT) {
    if (names.includes(a) && names.includes(b) && process.env[a] && process.env[a] === process.env[b]) problems.push(`${b} must differ from ${a}`);
  }
  if (problems.length > 0) throw new Error(`refusing to start: ${problems.join('; ')}`);
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

/**
 * How long every HTTP server of ours keeps an idle keep-alive connection open (HTTP_KEEPALIVE_TIMEOUT_MS,
 * default 65 s; Node's own is 5 s). Longer than a load balancer's usual idle limit (60 s), so the
 * balancer, not the server, closes an idle connection, and never under a request it is sending;
 * and the gateway's and subgraphs' connections to one another survive a lull of a minute instead of
 * five seconds (the internal client closes its idle ones a second before: internal-client.ts).
 */
export const keepAliveTimeoutMs = (): number => envInt('HTTP_KEEPALIVE_TIMEOUT_MS', 65_000);

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
