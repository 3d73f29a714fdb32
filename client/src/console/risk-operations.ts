import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/**
 * The risk-review operations of the order subgraph (orders flagged REVIEW by risk control wait for
 * an operator). Written by hand rather than generated: codegen only sees fields the composed
 * supergraph already has, and these names are the order subgraph's contract for the queue:
 * `riskReviewQueue(first, after): OrderConnection!` and
 * `resolveRiskReview(orderId, approve, note): Order!`.
 */
export interface RiskOrder {
  id: string;
  userId: string;
  status: string;
  createdAt: string;
  payable: { amount: number; currency: string };
  items: { qty: number; sku: { id: string; title: string; product: { title: string } } }[];
}

export interface RiskReviewQueueQuery {
  riskReviewQueue: { edges: { node: RiskOrder }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

export const RiskReviewQueueDocument = parse(/* GraphQL */ `
  query RiskReviewQueue($first: Int, $after: String) {
    riskReviewQueue(first: $first, after: $after) {
      edges {
        node {
          id
          userId
          status
          createdAt
          payable {
            amount
            currency
          }
          items {
            qty
            sku {
              id
              title
              product {
                title
              }
            }
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`) as TypedDocumentNode<RiskReviewQueueQuery, { first?: number | null; after?: string | null }>;

export const ResolveRiskReviewDocument = parse(/* GraphQL */ `
  mutation ResolveRiskReview($orderId: ID!, $approve: Boolean!, $note: String) {
    resolveRiskReview(orderId: $orderId, approve: $approve, note: $note) {
      id
      status
      cancelReason
    }
  }
`) as TypedDocumentNode<
  { resolveRiskReview: { id: string; status: string; cancelReason: string | null } },
  { orderId: string; approve: boolean; note?: string | null }
>;
