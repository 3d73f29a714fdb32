import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker, deadLetterQueue, declareDeadLetterQueue, newId, queueArguments, queueName } from '@shop/kit';
import { eventually } from '@shop/kit/testing';
import { runDlqCommand } from './commands.js';

const CONSUMER = { service: 'infra', name: 'dlq-cli' };
const queue = queueName(CONSUMER.service, CONSUMER.name);
const dlq = deadLetterQueue(queue);
let connection: ReturnType<typeof connectBroker>;

beforeAll(async () => {
  connection = connectBroker('dlq-cli-test');
  // The consumer's queue and DLQ as startConsumer declares them, without a consumer: replayed messages wait there.
  await declareDeadLetterQueue(connection, queue);
  await connection.queueDeclare({ queue, durable: true, arguments: queueArguments(queue, 5) });
});
afterAll(async () => {
  await connection.queueDelete({ queue }).catch(() => undefined);
  await connection.queueDelete({ queue: dlq }).catch(() => undefined);
  await connection.close();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDlqCommand(argv, { connection, consumers: [CONSUMER], out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A dead-lettered event as the broker leaves it in the DLQ. */
async function deadLetter() {
  const eventId = newId('evt');
  const body = {
    eventId,
    type: 'order.created',
    version: 1,
    occurredAt: new Date().toISOString(),
    aggregateId: 'ord_1',
    correlationId: 'c',
    payload: { orderId: 'ord_1', n: 7 },
  };
  const publisher = connection.createPublisher({ confirm: true });
  await publisher.send(
    {
      routingKey: dlq,
      messageId: eventId,
      type: body.type,
      durable: true,
      headers: { 'x-death': [{ count: 1, reason: 'delivery_limit', queue }], 'x-first-death-reason': 'delivery_limit' },
    },
    body,
  );
  await publisher.close();
  return eventId;
}
const depth = async (q: string) => (await connection.queueDeclare({ queue: q, passive: true })).messageCount;

describe('npm run dlq', () => {
  it('lists, shows, replays and discards', async () => {
    const first = await deadLetter();
    const second = await deadLetter();
    await eventually(async () => ((await depth(dlq)) === 2 ? true : undefined));

    const list = await run('list');
    expect(list.code).toBe(0);
    expect(list.out).toContain('infra.dlq-cli  2 message(s)');

    const show = await run('show', 'infra.dlq-cli', '--limit', '5');
    expect(show.code).toBe(0);
    expect(show.out).toContain(first);
    expect(show.out).toContain(second);
    expect(show.out).toContain('type:         order.created');
    expect(show.out).toContain('first death:  delivery_limit');
    expect(show.out).toContain('"n": 7');

    const replay = await run('replay', 'infra.dlq-cli', '--event', first);
    expect(replay).toMatchObject({ code: 0, err: '' });
    expect(replay.out).toContain('replayed 1/1');
    const back = await eventually(async () => (await connection.basicGet({ queue, noAck: true })) ?? undefined);
    expect(back.messageId).toBe(first);
    expect(back.headers?.['x-death']).toBeUndefined();
    expect(back.headers?.['x-shop-replays']).toBe(1);
    expect((back.body as { payload: unknown }).payload).toEqual({ orderId: 'ord_1', n: 7 });

    const discard = await run('discard', 'infra.dlq-cli', '--event', second);
    expect(discard).toMatchObject({ code: 0, out: 'infra.dlq-cli: discarded 1' });
    await eventually(async () => ((await depth(dlq)) === 0 ? true : undefined));
  });

  it('explains what is wrong', async () => {
    const unknown = await run('show', 'order.nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown consumer "order.nope": known consumers are infra.dlq-cli');
    expect((await run('replay', 'infra.dlq-cli')).err).toContain('replay needs --event <id> (repeatable) or --all');
    expect((await run('discard', 'infra.dlq-cli', '--all')).code).toBe(2);
    expect((await run('show', 'infra.dlq-cli', '--limit', 'x')).err).toContain('--limit must be a whole number');
    expect((await run('frobnicate')).err).toContain('unknown command "frobnicate"');
    const missing = await run('replay', 'infra.dlq-cli', '--event', 'evt_gone');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('not in the dead-letter queue: evt_gone');
    const noDlq = await runDlqCommand(['show', 'infra.never'], {
      connection,
      consumers: [{ service: 'infra', name: 'never' }],
      out: () => undefined,
      err: () => undefined,
    });
    expect(noDlq).toBe(1);
  });
});
