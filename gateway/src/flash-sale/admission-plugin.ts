import { GraphQLError, Kind, getArgumentValues, parse, type FieldNode, type GraphQLSchema } from 'graphql';
import type { RequestHandler } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { FlashAdmission, admissionRefusal, logger, publicExtensions, type Admission, type Identity, type Redis } from '@shop/kit';
import type { GatewayContext } from '../auth.js';

/**
 * Flash-sale admission at the edge (seed-design §9.2 step 1): a previewOrder of a flash-sale SKU
 * passes the shared admission (kit flash-admission.ts, one Redis round trip) before it is planned,
 * so a refused click (sold out, over the SKU's rate, queue full, a buyer who already has an order)
 * is answered here, without a subgraph call or a database read or write. An admitted click goes on
 * to the order subgraph, whose preview admits again (the same buyer: the same admission) and whose
 * placeOrder claims it; the order subgraph decides what the gateway cannot (a SKU Redis does not
 * know yet, Redis down: let through, and the order subgraph refuses).
 *
 * Two doors, one decision: `httpShortcut`, an Express handler in front of Apollo, answers the
 * common shape (an HTTP POST whose document is only `previewOrder(input: $variable)`) without
 * entering Apollo's pipeline, which costs most of a refused click's CPU; `plugin` decides every
 * other shape (literal arguments, persisted queries, graphql-ws) after Apollo resolved the operation.
 */
export interface FlashSaleEdge {
  httpShortcut: RequestHandler;
  plugin: ApolloServerPlugin<GatewayContext>;
}

/** How a document previews: the variable holding previewOrder's input when the document is only that. */
type Shape = { previewOnly: false } | { previewOnly: true; variable: string };
const SHAPES_KEPT = 500;

/**
 * How long the edge remembers that a SKU is not a flash-sale SKU (the admission answered UNKNOWN), so
 * that a normal single-line preview does not pay a Redis round trip each time. A SKU registered in that
 * window is decided by the order subgraph, whose preview admits anyway, until the memo ends.
 */
export const NOT_FLASH_MEMO_MS = 1000;

/** `redis`: the gateway's connection, shared with the rate limiter (its owner closes it). */
export function flashSaleEdge(redis: Redis, { notFlashMemoMs = NOT_FLASH_MEMO_MS }: { notFlashMemoMs?: number } = {}): FlashSaleEdge {
  const admission = new FlashAdmission(redis);
  let warned = false;
  /** SKU → until when (ms) it is known not to be a flash-sale SKU. */
  const notFlash = new Map<string, number>();
  const UNKNOWN: Admission = { kind: 'UNKNOWN' };

  /** The admission's answer for one click; undefined when Redis is unavailable (the order subgraph decides). */
  const answer = async (skuId: string, identity: Identity): Promise<Admission | undefined> => {
    const until = notFlash.get(skuId);
    if (until !== undefined) {
      if (until > Date.now()) return UNKNOWN;
      notFlash.delete(skuId);
    }
    try {
      const answered = await admission.admit(skuId, identity.userId);
      warned = false;
      if (answered.kind === 'UNKNOWN' && notFlashMemoMs > 0) {
        if (notFlash.size >= SHAPES_KEPT) notFlash.clear();
        notFlash.set(skuId, Date.now() + notFlashMemoMs);
      }
      return answered;
    } catch (error) {
      if (!warned) logger.warn({ err: error }, 'flash-sale admission unavailable at the gateway; the order subgraph decides');
      warned = true;
      return undefined;
    }
  };
  /** The admission's refusal for one click; undefined to let it through (admitted, not a flash SKU, or Redis unavailable). */
  const decide = async (skuId: string, identity: Identity): Promise<GraphQLError | undefined> => {
    const answered = await answer(skuId, identity);
    return answered && admissionRefusal(skuId, answered);
  };
  /** The HTTP body of a refused previewOrder; sold out, most clicks' answer, is the same for every buyer: made once per SKU. */
  const soldOutBodies = new Map<string, string>();
  const refusalBody = (skuId: string, answered: Admission): string | undefined => {
    if (answered.kind === 'SOLD_OUT') {
      const known = soldOutBodies.get(skuId);
      if (known) return known;
    }
    const refusal = admissionRefusal(skuId, answered);
    if (!refusal) return undefined;
    const body = JSON.stringify({
      errors: [{ message: refusal.message, path: ['previewOrder'], extensions: publicExtensions(refusal.extensions) }],
      data: null,
    });
    if (answered.kind === 'SOLD_OUT') {
      if (soldOutBodies.size >= SHAPES_KEPT) soldOutBodies.clear();
      soldOutBodies.set(skuId, body);
    }
    return body;
  };

  const shapes = new Map<string, Shape>();
  const shapeOf = (query: string): Shape => {
    let shape = shapes.get(query);
    if (!shape) {
      shape = analyse(query);
      if (shapes.size >= SHAPES_KEPT) shapes.clear();
      shapes.set(query, shape);
    }
    return shape;
  };

  const httpShortcut: RequestHandler = (req, res, next) => {
    const identity = res.locals.identity as Identity | undefined;
    const body = req.body as { query?: unknown; variables?: Record<string, unknown> } | undefined;
    if (!identity || typeof body?.query !== 'string' || !body.query.includes('previewOrder')) return next();
    const shape = shapeOf(body.query);
    if (!shape.previewOnly) return next();
    const skuId = singleSku(body.variables?.[shape.variable]);
    if (!skuId) return next();
    answer(skuId, identity).then((answered) => {
      const body = answered && refusalBody(skuId, answered);
      if (!body) return next();
      res.type('application/json').send(body);
    }, next);
  };

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue, request, schema }) {
          const identity = contextValue.identity;
          if (operation?.operation !== 'mutation' || !identity) return;
          for (const skuId of previewedSkus(schema, operation.selectionSet.selections as FieldNode[], request.variables)) {
            const refusal = await decide(skuId, identity);
            if (refusal) throw new GraphQLError(refusal.message, { extensions: { ...refusal.extensions, http: { status: 200 } } });
          }
        },
      };
    },
  };
  return { httpShortcut, plugin };
}

/** Whether a document is one mutation selecting only previewOrder, its input a variable. Anything else: Apollo. */
function analyse(query: string): Shape {
  try {
    const document = parse(query, { maxTokens: 200 });
    const [operation, ...others] = document.definitions;
    if (others.length || operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'mutation') return { previewOnly: false };
    const [field, ...more] = operation.selectionSet.selections;
    if (more.length || field?.kind !== Kind.FIELD || field.name.value !== 'previewOrder' || field.directives?.length) return { previewOnly: false };
    const input = field.arguments?.find((a) => a.name.value === 'input');
    if (field.arguments?.length !== 1 || input?.value.kind !== Kind.VARIABLE) return { previewOnly: false };
    return { previewOnly: true, variable: input.value.name.value };
  } catch {
    return { previewOnly: false };
  }
}

/** The SKU of a single-line order input (a flash-sale SKU is ordered alone); anything else is left to the normal path. */
function singleSku(input: unknown): string | undefined {
  const items = (input as { items?: { skuId?: unknown }[] } | null | undefined)?.items;
  return Array.isArray(items) && items.length === 1 && typeof items[0]?.skuId === 'string' ? items[0].skuId : undefined;
}

/** The SKUs of the single-line previewOrder fields of a mutation. Arguments that do not coerce are left to the normal validation. */
function previewedSkus(schema: GraphQLSchema, selections: readonly FieldNode[], variables: Record<string, unknown> | undefined): string[] {
  const field = schema.getMutationType()?.getFields().previewOrder;
  if (!field) return [];
  const skus: string[] = [];
  for (const node of selections) {
    if (node.kind !== Kind.FIELD || node.name.value !== 'previewOrder') continue;
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(field, node, variables);
    } catch {
      continue;
    }
    const skuId = singleSku(args.input);
    if (skuId) skus.push(skuId);
  }
  return skus;
}
