/** Typed, versioned envelopes of the domain events carried between subgraphs over RabbitMQ. */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  eventId: string;
  type: TType;
  version: number;
  occurredAt: string;
  aggregateId: string;
  correlationId: string;
  payload: TPayload;
}
