import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  annotations?: Record<string, string>;
}
const rulesOf = (path: string): Rule[] => (parse(read(path)) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

const recording = rulesOf('infra/monitoring/rules.yml');
const alerting = rulesOf('infra/monitoring/alerts.yml');
const dashboard = JSON.parse(read('infra/monitoring/grafana-dashboard.json')) as { panels: { title: string; targets?: { expr: string }[] }[] };
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard panel "${p.title}"`, expr: t.expr })));

/** The series names a PromQL expression reads: identifiers that are neither functions, keywords, labels nor strings. */
function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = stripped.slice(match.index + match[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function or an aggregation
    if (['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'].includes(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Every metric some process serves on /metrics: defined in the sources with the registry served there. */
function exportedMetrics(): Set<string> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && !['node_modules', 'dist', 'migrations'].includes(entry.name)) walk(path);
      else if (entry.isFile() && path.endsWith('.ts') && !path.endsWith('.test.ts')) files.push(path);
    }
  };
  walk('gateway/src');
  for (const subgraph of readdirSync(join(root, 'subgraphs'))) walk(`subgraphs/${subgraph}/src`);
  const names = new Set<string>();
  for (const file of files) {
    const text = read(file);
    // new Counter|Gauge|Histogram({ name: '…', … registers: [registry] }); consoleGauge names are not served.
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram)\(\{\s*name: '([a-z_:][a-z0-9_:]*)'[\s\S]*?registers: \[registry\]/g)) {
      names.add(m[2]!);
      if (m[1] === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m[2]}${suffix}`);
    }
    for (const m of text.matchAll(/\bcomputedGauge\(\s*'([a-z_:][a-z0-9_:]*)'/g)) names.add(m[1]!);
  }
  return names;
}

/** Series Prometheus makes itself or takes from its blackbox exporter, not from a shop process. */
const FROM_PROMETHEUS = new Set(['up', 'probe_success']);

describe('monitoring: rules, alerts and the dashboard read only metrics that exist', () => {
  const exported = exportedMetrics();
  const recorded = new Set(recording.map((r) => r.record!));

  it('finds the metrics of the sources (sanity check of the scan)', () => {
    for (const name of [
      'graphql_requests_total',
      'order_create_total',
      'order_create_duration_seconds_bucket',
      'oversell_count',
      'dlq_backlog',
      'outbox_backlog',
    ]) {
      expect(exported, name).toContain(name);
    }
    expect(metricsIn('sum by (le) (rate(order_create_duration_seconds_bucket{job="x"}[5m])) > 2 * max(up)')).toEqual([
      'order_create_duration_seconds_bucket',
      'up',
    ]);
  });

  it('records every metric name of seed-design §12 across replicas, from metrics the processes export', () => {
    const names = [
      'order_create_qps',
      'order_create_p95_ms',
      'order_fail_rate',
      'oversell_count',
      'reserve_success_rate',
      'stock_release_lag_sec',
      'payment_callback_delay_p95',
      'saga_compensation_count',
      'reconciliation_diff_count',
      'dlq_backlog',
    ];
    for (const name of names) expect(recorded.has(name) || exported.has(name), `${name} is recorded or exported`).toBe(true);
    for (const rule of recording) {
      for (const metric of metricsIn(rule.expr)) expect(exported.has(metric), `rules.yml ${rule.record} reads ${metric}`).toBe(true);
    }
  });

  it('lets alerts and dashboard panels read only recorded or exported metrics', () => {
    const uses = [...alerting.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...dashboardExprs];
    expect(uses.length).toBeGreaterThan(20);
    for (const { where, expr } of uses) {
      for (const metric of metricsIn(expr)) {
        expect(recorded.has(metric) || exported.has(metric) || FROM_PROMETHEUS.has(metric), `${where} reads ${metric}`).toBe(true);
      }
    }
  });

  it('gives every alert a runbook section that exists, and alerts on failures, stock release, outbox backlog and a process down', () => {
    const headings = new Set(
      [...read('docs/runbooks.md').matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 _-]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const rule of alerting) {
      const link = rule.annotations?.runbook_url ?? '';
      expect(link, `alert ${rule.alert}`).toMatch(/^docs\/runbooks\.md#/);
      expect(headings, `alert ${rule.alert} links ${link}`).toContain(link.split('#')[1]);
    }
    const alerted = alerting.map((r) => r.expr).join('\n');
    for (const needed of ['order_fail_rate', 'stock_release_lag_sec', 'outbox_backlog_max', 'up{', 'oversell_count', 'dlq_backlog_total'])
      expect(alerted).toContain(needed);
  });

  it('scrapes every process the rules need, with the operator token, and loads both rule files', () => {
    const config = parse(read('infra/monitoring/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { authorization?: { credentials_file?: string }; relabel_configs: { regex?: string; action?: string }[] }[];
    };
    expect(config.rule_files).toEqual(['rules.yml', 'alerts.yml']);
    const [shop] = config.scrape_configs;
    expect(shop?.authorization?.credentials_file).toBeTruthy();
    const kept = shop!.relabel_configs.find((r) => r.action === 'keep' && r.regex?.includes('gateway'))!.regex!.split('|');
    expect(kept.sort()).toEqual(['cart', 'catalog', 'fulfillment', 'gateway', 'inventory', 'order', 'payment']);
  });
});
