import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CREDENTIAL_VARIABLES, SERVER_PROCESSES, UNSET_ON_PURPOSE } from './processes.js';
import { ROOT, sourceReads } from './source-reads.js';

/**
 * compose.yaml, checked without Docker (none runs on CI): parsed as Compose reads it (YAML merge
 * keys, ${VAR:-default} with nothing set), then checked against the Dockerfile and the source.
 */
const interpolate = (value: unknown): unknown =>
  typeof value === 'string'
    ? value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, _name: string, fallback?: string) => fallback ?? '')
    : Array.isArray(value)
      ? value.map(interpolate)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]))
        : value;
const compose = interpolate(parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true })) as { services: Record<string, any> };
const services = compose.services;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** Dockerfile stages by name, with their text (to see a stage's HEALTHCHECK). */
const stages = new Map(
  dockerfile
    .split(/^(?=FROM\s)/m)
    .map((text) => [/^FROM\s+\S+\s+AS\s+(\S+)/.exec(text)?.[1], text] as const)
    .filter((entry): entry is [string, string] => !!entry[0]),
);
const dependsOn = (service: any): Record<string, { condition?: string }> =>
  Array.isArray(service.depends_on) ? Object.fromEntries(service.depends_on.map((name: string) => [name, {}])) : (service.depends_on ?? {});

describe('compose.yaml', () => {
  it('builds every image from a stage of the Dockerfile, and every long-running service has a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) {
        expect(service.build.context, name).toBe('.');
        expect(stages.has(service.build.target), `${name}: Dockerfile stage ${service.build.target}`).toBe(true);
        expect(service.image).toBe(`shop/${service.build.target}`);
      }
      if (service.restart === 'no') continue;
      const checked = !!service.healthcheck || /^HEALTHCHECK\s/m.test(stages.get(service.build?.target) ?? '');
      expect(checked, `${name} has a health check`).toBe(true);
    }
  });

  it('runs every process of the system', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining([...Object.keys(SERVER_PROCESSES), 'storefront', 'migrate', 'postgres', 'rabbitmq']));
  });

  it('sets every variable each process reads, secrets only where they are read', () => {
    const problems: string[] = [];
    const secrets = new Set([...Object.values(SERVER_PROCESSES).flatMap((entry) => [...sourceReads(entry).secrets]), ...CREDENTIAL_VARIABLES]);
    for (const [name, entry] of Object.entries(SERVER_PROCESSES)) {
      const reads = sourceReads(entry);
      const env = services[name].environment as Record<string, string>;
      for (const variable of reads.env) if (!(variable in env) && !UNSET_ON_PURPOSE[variable]) problems.push(`${name} reads ${variable}, which is not set`);
      for (const variable of Object.keys(env))
        if (secrets.has(variable) && !reads.env.has(variable)) problems.push(`${name} gets ${variable}, which it never reads`);
      for (const variable of reads.secrets)
        if (env[variable] !== undefined && env[variable]!.length < 32) problems.push(`${name}: ${variable} is shorter than 32 characters`);
    }
    expect(problems).toEqual([]);
  });

  it('migrates first, as the migrator, and then runs every service without migrating, as the data-only role', () => {
    const order = (name: string): string[] => Object.keys(dependsOn(services[name]));
    expect(dependsOn(services.migrate)['db-roles']?.condition).toBe('service_completed_successfully');
    expect(dependsOn(services['db-roles']).postgres?.condition).toBe('service_healthy');
    expect(services.migrate.environment.DATABASE_URL).toMatch(/^postgres:\/\/shop_migrator:/);
    for (const name of Object.keys(SERVER_PROCESSES).filter((n) => n !== 'psp-simulator')) {
      expect(dependsOn(services[name]).migrate?.condition, name).toBe('service_completed_successfully');
      expect(services[name].environment.MIGRATE_ON_START, name).toBe('false');
      expect(services[name].environment.NODE_ENV, name).toBe('production');
      if (services[name].environment.DATABASE_URL) expect(services[name].environment.DATABASE_URL, name).toMatch(/^postgres:\/\/shop_app:/);
    }
    for (const name of Object.keys(services)) for (const dep of order(name)) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
  });

  it('builds the storefront for the gateway address it publishes, and allows that origin at the gateway', () => {
    const published = services.gateway.ports.map((p: string) => p.split(':')[0]);
    const url = new URL(services.storefront.build.args.VITE_GATEWAY_URL);
    expect(published).toContain(url.port);
    const storefrontPort = services.storefront.ports[0].split(':')[0];
    expect(services.gateway.environment.CORS_ORIGINS).toContain(`http://localhost:${storefrontPort}`);
  });
});
