import { type ReadinessCheck } from '@shop/kit';
import { subgraphEndpoint } from './data-source.js';
import type { SubgraphHttp } from './subgraph-http.js';

/** `http://host:port/graphql` -> `http://host:port`: where a subgraph serves /readyz and internal routes. */
export const baseUrl = (graphqlUrl: string): string => graphqlUrl.replace(/\/graphql\/?$/, '');

/**
 * One check per subgraph of the supergraph: its /readyz answers 200 (each subgraph's own readiness
 * covers its Postgres schema and, where it uses one, RabbitMQ). runChecks bounds each at 2 s.
 */
export function subgraphChecks(subgraphs: { name: string; url: string }[], http: Pick<SubgraphHttp, 'fetch'>): Record<string, ReadinessCheck> {
  return Object.fromEntries(
    subgraphs.map(({ name, url }) => {
      // Resolved once, like the gateway's data sources: readiness checks where queries actually go.
      const target = `${baseUrl(subgraphEndpoint(name, url))}/readyz`;
      return [
        name,
        async () => {
          let response: Response;
          try {
            response = await http.fetch(target, { signal: AbortSignal.timeout(2000) });
          } catch {
            throw new Error(`${target} is unreachable`);
          }
          await response.body?.cancel();
          if (response.status !== 200) throw new Error(`${target} answered ${response.status}`);
        },
      ] as const;
    }),
  );
}
