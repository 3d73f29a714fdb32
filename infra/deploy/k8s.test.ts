import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containersOf, render, type K8sObject } from './kustomize.js';
import { CREDENTIAL_VARIABLES, SERVER_PROCESSES, UNSET_ON_PURPOSE } from './processes.js';
import { ROOT, sourceReads } from './source-reads.js';

const K8S = join(ROOT, 'infra/k8s');
/** The production overlay's secrets.env is never committed: render it with the example's keys. */
const readFile = (path: string) => readFileSync(path.endsWith('/secrets.env') ? `${path}.example` : path, 'utf8');
const overlays = { demo: render(join(K8S, 'overlays/demo'), { readFile }), production: render(join(K8S, 'overlays/production'), { readFile }) };

const byKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const decoded = (secret: K8sObject) => Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString()]));
const dockerTargets = new Set([...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gm)].map((m) => m[1]));

/** Every variable a container gets, and where each comes from. */
function environment(objects: K8sObject[], container: any): Map<string, { from: 'value' | 'configMap' | 'secret'; ref?: { name: string; key: string } }> {
  const env = new Map<string, { from: 'value' | 'configMap' | 'secret'; ref?: { name: string; key: string } }>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const map = named(objects, 'ConfigMap', source.configMapRef.name);
      expect(map, `ConfigMap ${source.configMapRef.name}`).toBeDefined();
      for (const key of Object.keys(map!.data ?? {})) env.set(key, { from: 'configMap' });
    }
    if (source.secretRef) {
      const secret = named(objects, 'Secret', source.secretRef.name);
      for (const key of Object.keys(secret?.data ?? {})) env.set(key, { from: 'secret', ref: { name: source.secretRef.name, key } });
    }
  }
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) env.set(e.name, { from: 'secret', ref: e.valueFrom.secretKeyRef });
    else if (e.valueFrom?.configMapKeyRef) env.set(e.name, { from: 'configMap' });
    else env.set(e.name, { from: 'value' });
  }
  return env;
}

describe.each(Object.entries(overlays))('the %s overlay', (overlay, objects) => {
  const deployments = byKind(objects, 'Deployment');
  const servers = deployments.filter((d) => SERVER_PROCESSES[d.metadata.name]);

  it('deploys the gateway, the six subgraphs and the storefront, each from an image the Dockerfile builds, as non-root', () => {
    expect(deployments.map((d) => d.metadata.name)).toEqual(
      expect.arrayContaining(['gateway', 'catalog', 'cart', 'order', 'inventory', 'payment', 'fulfillment', 'storefront']),
    );
    for (const workload of [...deployments, ...byKind(objects, 'Job')]) {
      for (const container of containersOf(workload)) {
        const target = /(?:^|\/)shop\/([\w-]+)(?::|$)/.exec(container.image)?.[1];
        expect(dockerTargets.has(target), `${workload.metadata.name}: image ${container.image} is a Dockerfile target`).toBe(true);
        expect(workload.spec.template.spec.securityContext?.runAsNonRoot, `${workload.metadata.name} runs as non-root`).toBe(true);
        expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
      }
    }
  });

  it('sets every environment variable each process reads, and gives it no secret it does not read', () => {
    const problems: string[] = [];
    for (const deployment of servers) {
      const reads = sourceReads(SERVER_PROCESSES[deployment.metadata.name]!);
      const env = environment(objects, containersOf(deployment)[0]);
      for (const name of reads.env) if (!env.has(name) && !UNSET_ON_PURPOSE[name]) problems.push(`${deployment.metadata.name} reads ${name}, which is not set`);
      for (const [name, source] of env) {
        if (source.from === 'secret' && !reads.env.has(name)) problems.push(`${deployment.metadata.name} gets the secret ${name}, which it never reads`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('takes every secret and every credential from a Secret that has it, never from a ConfigMap or a literal', () => {
    const problems: string[] = [];
    const secretNames = new Set([...Object.values(SERVER_PROCESSES).flatMap((entry) => [...sourceReads(entry).secrets]), ...CREDENTIAL_VARIABLES]);
    for (const map of byKind(objects, 'ConfigMap'))
      for (const key of Object.keys(map.data ?? {})) if (secretNames.has(key)) problems.push(`ConfigMap ${map.metadata.name} holds ${key}`);
    for (const workload of [...deployments, ...byKind(objects, 'Job')]) {
      for (const container of containersOf(workload)) {
        for (const [name, source] of environment(objects, container)) {
          if (!secretNames.has(name)) continue;
          if (source.from !== 'secret') {
            problems.push(`${workload.metadata.name}: ${name} comes from a ${source.from}`);
            continue;
          }
          const secret = named(objects, 'Secret', source.ref!.name);
          if (!secret || !(source.ref!.key in (secret.data ?? {})))
            problems.push(`${workload.metadata.name}: ${name} refers to ${source.ref!.name}/${source.ref!.key}, which is not there`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('probes readiness on /readyz and liveness on /livez (subgraphs) or /healthz, paths each process serves', () => {
    for (const deployment of servers) {
      const container = containersOf(deployment)[0];
      const routes = sourceReads(SERVER_PROCESSES[deployment.metadata.name]!).routes;
      const probes = [container.readinessProbe, container.livenessProbe, container.startupProbe].filter(Boolean);
      const subgraph = SERVER_PROCESSES[deployment.metadata.name]!.startsWith('subgraphs/');
      expect(container.livenessProbe.httpGet.path).toBe(subgraph ? '/livez' : '/healthz');
      if (deployment.metadata.name !== 'psp-simulator') expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of probes) {
        expect(routes.has(probe.httpGet.path), `${deployment.metadata.name} serves ${probe.httpGet.path}`).toBe(true);
        expect(container.ports.map((p: any) => p.name)).toContain(probe.httpGet.port);
      }
    }
    const storefront = containersOf(named(objects, 'Deployment', 'storefront')!)[0];
    const nginx = readFileSync(join(ROOT, 'infra/docker/storefront.conf'), 'utf8');
    for (const probe of [storefront.readinessProbe, storefront.livenessProbe]) expect(nginx).toContain(`location = ${probe.httpGet.path} `);
  });

  it('fronts each Deployment with a Service on a port it names, and protects each with a PodDisruptionBudget', () => {
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
      expect(deployment.spec.selector.matchLabels).toSatisfy(matches);
      const service = byKind(objects, 'Service').find((s) => matches(s.spec.selector));
      expect(service, `Service of ${deployment.metadata.name}`).toBeDefined();
      const ports = containersOf(deployment)[0].ports.map((p: any) => p.name);
      for (const port of service!.spec.ports) expect(ports).toContain(port.targetPort);
      if (deployment.metadata.name !== 'psp-simulator') {
        const pdb = byKind(objects, 'PodDisruptionBudget').find((p) => matches(p.spec.selector.matchLabels));
        expect(pdb, `PodDisruptionBudget of ${deployment.metadata.name}`).toBeDefined();
      }
    }
  });

  it('scales the gateway, order and inventory with HorizontalPodAutoscalers that own their replica counts', () => {
    const hpas = byKind(objects, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(['gateway', 'inventory', 'order']);
    for (const hpa of hpas) {
      const target = named(objects, 'Deployment', hpa.spec.scaleTargetRef.name)!;
      expect(target.spec.replicas, `${target.metadata.name}: replicas left to the autoscaler`).toBeUndefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    }
  });

  it('migrates in a Job with the migrator role, and runs every service with MIGRATE_ON_START=false in production mode', () => {
    const job = named(objects, 'Job', 'shop-migrate')!;
    const container = containersOf(job)[0];
    expect(container.image).toMatch(/shop\/migrate/);
    expect(environment(objects, container).get('DATABASE_URL')?.ref?.key).toBe('MIGRATE_DATABASE_URL');
    const config = named(objects, 'ConfigMap', 'shop-config')!.data;
    expect(config).toMatchObject({ MIGRATE_ON_START: 'false', NODE_ENV: 'production', LISTEN_HOST: '0.0.0.0' });
    for (const deployment of servers) {
      const env = environment(objects, containersOf(deployment)[0]);
      expect(env.get('DATABASE_URL')?.ref?.key ?? 'none', deployment.metadata.name).not.toBe('MIGRATE_DATABASE_URL');
    }
  });

  if (overlay === 'production') {
    it('runs no simulator, talks TLS to PostgreSQL and RabbitMQ, and pins images to a release', () => {
      expect(named(objects, 'Deployment', 'psp-simulator')).toBeUndefined();
      const config = named(objects, 'ConfigMap', 'shop-config')!.data;
      expect(config.PSP_URL).toMatch(/^https:/);
      const secrets = decoded(named(objects, 'Secret', 'shop-secrets')!);
      expect(secrets.DATABASE_URL).toMatch(/sslmode=verify-full/);
      expect(secrets.MIGRATE_DATABASE_URL).toMatch(/sslmode=verify-full/);
      expect(secrets.AMQP_URL).toMatch(/^amqps:/);
      for (const d of deployments) for (const c of containersOf(d)) expect(c.image).toMatch(/:\d+\.\d+\.\d+$/);
    });
  }
});
