import { GraphQLError, getArgumentValues, type FieldNode, type GraphQLSchema } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { FlashAdmission, admissionRefusal, createRedis, logger } from '@shop/kit';
import type { GatewayContext } from '../auth.js';

/**
 * Flash-sale admission at the edge (seed-design §9.2 step 1): a previewOrder of a flash-sale SKU
 * passes the shared admission (kit flash-admission.ts, one Redis round trip) before it is planned,
 * so a refused click (sold out, over the SKU's rate, queue full, a buyer who already has an order)
 * is answered here, without a subgraph call or a database read or write. An admitted click goes on
 * to the order subgraph, whose preview admits again (the same buyer: the same admission) and whose
 * placeOrder claims it; the order subgraph decides what the gateway cannot (a SKU Redis does not
 * know yet, Redis down: let through, and the order subgraph refuses).
 */
export interface FlashSaleEdge {
  plugin: ApolloServerPlugin<GatewayContext>;
  stop(): void;
}

export function flashSaleEdge(): FlashSaleEdge {
  const redis = createRedis({ name: 'gateway-flash-sale', commandTimeoutMs: 500 });
  const admission = new FlashAdmission(redis);
  let warned = false;
  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue, request, schema }) {
          const userId = contextValue.identity?.userId;
          if (operation?.operation !== 'mutation' || !userId) return;
          for (const skuId of previewedSkus(schema, operation.selectionSet.selections as FieldNode[], request.variables)) {
            let answer;
            try {
              answer = await admission.admit(skuId, userId);
            } catch (error) {
              if (!warned) logger.warn({ err: error }, 'flash-sale admission unavailable at the gateway; the order subgraph decides');
              warned = true;
              return;
            }
            warned = false;
            const refusal = admissionRefusal(skuId, answer);
            if (refusal) throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 200 } } });
          }
        },
      };
    },
  };
  return { plugin, stop: () => redis.disconnect() };
}

/**
 * The SKUs of the single-line previewOrder fields of a mutation (a flash-sale SKU is ordered alone).
 * Arguments that do not coerce are left to the normal validation.
 */
function previewedSkus(schema: GraphQLSchema, selections: readonly FieldNode[], variables: Record<string, unknown> | undefined): string[] {
  const field = schema.getMutationType()?.getFields().previewOrder;
  if (!field) return [];
  const skus: string[] = [];
  for (const node of selections) {
    if (node.kind !== 'Field' || node.name.value !== 'previewOrder') continue;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(field, node, variables);
    } catch {
      continue;
    }
    const items = (args.input as { items?: { skuId?: unknown; qty?: unknown }[] } | undefined)?.items;
    if (items?.length === 1 && typeof items[0]!.skuId === 'string') skus.push(items[0]!.skuId);
  }
  return skus;
}
