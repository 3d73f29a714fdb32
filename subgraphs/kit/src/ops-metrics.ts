import { Ctx, Directive, Field, Float, ObjectType, Query, Resolver } from 'type-graphql';
import type { SubgraphContext } from './context.js';
import { requireAdmin } from './identity.js';
import { registry } from './metrics.js';
import { consoleRegistry } from './windowed-metrics.js';

@Directive('@shareable')
@ObjectType({ description: 'one key metric (seed-design §12) as the answering process computes it now' })
export class OpsMetric {
  @Field(() => String, { description: 'the Prometheus name, e.g. order_create_p95_ms' })
  name!: string;

  @Field(() => Float, { description: 'the sum over its label sets (counters: since the process started)' })
  value!: number;

  @Field(() => String)
  help!: string;
}

/** Reads the named metrics of this process, from /metrics' registry or the console's (computed gauges compute now). */
export async function readMetrics(names: readonly string[]): Promise<OpsMetric[]> {
  const found: OpsMetric[] = [];
  for (const name of names) {
    const metric = registry.getSingleMetric(name) ?? consoleRegistry.getSingleMetric(name);
    if (!metric) continue;
    const { help, values } = await metric.get();
    const value = values.reduce((sum, v) => sum + (Number.isFinite(v.value) ? v.value : 0), 0);
    found.push(Object.assign(new OpsMetric(), { name, value, help }));
  }
  return found;
}

/**
 * A root field `<field>: [OpsMetric!]!` (admin only) with a subgraph's key metrics, for the
 * operations console. Each subgraph mounts its own under its own field name; with several
 * processes of a subgraph, the one that answers speaks for itself (Prometheus has them all).
 */
export function opsMetricsResolver(field: string, names: readonly string[]) {
  @Resolver()
  class OpsMetricsResolver {
    @Query(() => [OpsMetric], { name: field, description: `admin only: ${names.join(', ')} from the answering process` })
    async metrics(@Ctx() ctx: SubgraphContext): Promise<OpsMetric[]> {
      requireAdmin(ctx);
      return readMetrics(names);
    }
  }
  return OpsMetricsResolver;
}
