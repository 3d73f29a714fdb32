import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/**
 * Renders a kustomization the way `kubectl kustomize` does, for the features infra/k8s uses and no
 * others: resources (files and directories), namespace, images, replicas, configMapGenerator and
 * secretGenerator (envs and literals; behavior create or merge). Any other field is an error, so a
 * manifest change that this renderer does not understand fails the test instead of passing unseen.
 * Generated names keep no hash suffix: kustomize rewrites references to the suffixed name, so
 * references resolve the same either way. Used by the deployment tests; CI has no kubectl.
 */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'images', 'replicas', 'configMapGenerator', 'secretGenerator']);

/** KEY=VALUE lines; blank lines and # comments skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    out[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return out;
}

export interface RenderOptions {
  /** Reads a file a generator names; default: the file system. Lets a test supply secrets.env. */
  readFile?: (path: string) => string;
}

export function render(dir: string, options: RenderOptions = {}): K8sObject[] {
  const read = options.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const kustomization = parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Record<string, any>;
  const unknown = Object.keys(kustomization).filter((key) => !SUPPORTED.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: fields this renderer does not support: ${unknown.join(', ')}`);

  const objects: K8sObject[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) objects.push(...render(path, options));
    else
      for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]!.message}`);
        const value = doc.toJS();
        if (value) objects.push(value as K8sObject);
      }
  }

  for (const [kind, generators] of [
    ['ConfigMap', kustomization.configMapGenerator],
    ['Secret', kustomization.secretGenerator],
  ] as const) {
    for (const generator of generators ?? []) {
      const data: Record<string, string> = {};
      for (const file of generator.envs ?? []) Object.assign(data, parseEnvFile(read(join(dir, file))));
      for (const literal of generator.literals ?? []) Object.assign(data, parseEnvFile(literal));
      const existing = objects.find((o) => o.kind === kind && o.metadata.name === generator.name);
      const behavior = generator.behavior ?? 'create';
      if (behavior === 'merge') {
        if (!existing) throw new Error(`${dir}: merge into ${kind} ${generator.name}, which the resources do not generate`);
        existing.data = { ...existing.data, ...encode(kind, data) };
      } else if (behavior === 'create') {
        if (existing) throw new Error(`${dir}: ${kind} ${generator.name} generated twice`);
        objects.push({
          apiVersion: 'v1',
          kind,
          metadata: { name: generator.name },
          ...(kind === 'Secret' ? { type: 'Opaque' } : {}),
          data: encode(kind, data),
        });
      } else throw new Error(`${dir}: generator behavior ${behavior} is not supported`);
    }
  }

  for (const { name, count } of kustomization.replicas ?? []) {
    const target = objects.find((o) => ['Deployment', 'StatefulSet'].includes(o.kind) && o.metadata.name === name);
    if (!target) throw new Error(`${dir}: replicas for ${name}, which is not a Deployment here`);
    target.spec.replicas = count;
  }
  for (const image of kustomization.images ?? []) {
    let used = false;
    for (const container of objects.flatMap(containersOf)) {
      const [ref, tag] = splitImage(container.image);
      if (ref !== image.name) continue;
      used = true;
      container.image = `${image.newName ?? ref}${(image.newTag ?? tag) ? `:${image.newTag ?? tag}` : ''}`;
    }
    if (!used) throw new Error(`${dir}: image ${image.name} is used by no container`);
  }
  if (kustomization.namespace) for (const o of objects) o.metadata.namespace = kustomization.namespace;
  return objects;
}

const encode = (kind: string, data: Record<string, string>) =>
  kind === 'Secret' ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) : data;

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
}

/** The containers of a workload's pod template (Deployment, StatefulSet, Job). */
export function containersOf(o: K8sObject): any[] {
  const pod = o.spec?.template?.spec;
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
}
