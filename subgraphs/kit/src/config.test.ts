import { afterEach, describe, expect, it } from 'vitest';
import { DEV_SECRETS, checkSecrets, secret } from './config.js';

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['NODE_ENV', 'JWT_SECRET', 'INTERNAL_IDENTITY_SECRET', 'METRICS_TOKEN', 'ADDRESS_ENCRYPTION_KEY']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const strong = 'x'.repeat(40);

describe('secrets', () => {
  it('in development fall back to the documented defaults', () => {
    process.env.NODE_ENV = 'development';
    delete process.env.JWT_SECRET;
    expect(secret('JWT_SECRET')).toBe(DEV_SECRETS.JWT_SECRET);
    expect(() => checkSecrets(['JWT_SECRET', 'METRICS_TOKEN'])).not.toThrow();
  });

  it('in production refuse a missing, default or short secret, naming each variable at once', () => {
    process.env.NODE_ENV = 'production';
    delete process.env.JWT_SECRET;
    process.env.INTERNAL_IDENTITY_SECRET = DEV_SECRETS.INTERNAL_IDENTITY_SECRET;
    process.env.ADDRESS_ENCRYPTION_KEY = Buffer.alloc(16).toString('base64');
    process.env.METRICS_TOKEN = 'short';
    expect(() => checkSecrets(['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET', 'ADDRESS_ENCRYPTION_KEY', 'METRICS_TOKEN'])).toThrow(
      /JWT_SECRET is not set.*INTERNAL_IDENTITY_SECRET is the published development default.*ADDRESS_ENCRYPTION_KEY must be 32 random bytes.*METRICS_TOKEN is shorter than 32/,
    );
    process.env.JWT_SECRET = strong;
    process.env.INTERNAL_IDENTITY_SECRET = strong;
    process.env.ADDRESS_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
    process.env.METRICS_TOKEN = strong;
    expect(() => checkSecrets(['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET'])).toThrow(/INTERNAL_IDENTITY_SECRET must differ from JWT_SECRET/);
    process.env.INTERNAL_IDENTITY_SECRET = 'y'.repeat(40);
    expect(() => checkSecrets(['JWT_SECRET', 'INTERNAL_IDENTITY_SECRET', 'ADDRESS_ENCRYPTION_KEY', 'METRICS_TOKEN'])).not.toThrow();
  });
});
