import { useMutation, useQuery } from 'urql';
import { ErrorAlert, Loading, PageHeading } from '../components/ui';
import { DeadLettersDocument, DiscardDeadLettersDocument, ReplayDeadLettersDocument, type DeadLettersQuery } from '../gql/graphql';
import { useI18n } from '../i18n/i18n';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

type Queue = DeadLettersQuery['deadLetterQueues'][number];

function QueueCard({ queue, onDone }: { queue: Queue; onDone(): void }) {
  const L = useL();
  const { dateTime } = useI18n();
  const [replayed, replay] = useMutation(ReplayDeadLettersDocument);
  const [discarded, discard] = useMutation(DiscardDeadLettersDocument);
  const busy = replayed.fetching || discarded.fetching;
  const after = (p: Promise<{ error?: unknown }>) => void p.then(() => onDone());
  return (
    <section className="card inset" aria-label={queue.consumer}>
      <h2>
        {queue.consumer}{' '}
        <span className="muted small">
          ({queue.messages === null ? L('queue not created', '队列未创建') : L(`${queue.messages} waiting`, `${queue.messages} 条`)})
        </span>
      </h2>
      <ErrorAlert error={replayed.error ?? discarded.error} />
      {replayed.data ? (
        <p role="status" className="ok">
          {L(`Replayed ${replayed.data.replayDeadLetters.replayed}.`, `已重放 ${replayed.data.replayDeadLetters.replayed} 条。`)}
        </p>
      ) : null}
      {replayed.data && replayed.data.replayDeadLetters.tooOld.length > 0 ? (
        <p role="alert" className="alert">
          {L(
            `Not replayed, older than the deduplication horizon (they could apply twice): ${replayed.data.replayDeadLetters.tooOld.join(', ')}.`,
            `超过去重期限、未重放（重放可能重复生效）：${replayed.data.replayDeadLetters.tooOld.join('，')}。`,
          )}
        </p>
      ) : null}
      {discarded.data ? (
        <p role="status" className="ok">
          {L(`Discarded ${discarded.data.discardDeadLetters.discarded}.`, `已丢弃 ${discarded.data.discardDeadLetters.discarded} 条。`)}
        </p>
      ) : null}
      {queue.letters.length > 0 ? (
        <>
          <button type="button" disabled={busy} onClick={() => after(replay({ consumer: queue.consumer, all: true }))}>
            {L('Replay all', '全部重放')}
          </button>
          <ul className="queue">
            {queue.letters.map((letter, i) => (
              <li key={`${letter.eventId ?? 'no-id'}:${i}`} className="queue-item">
                <div className="grow">
                  <strong>{letter.type ?? L('not an event', '非事件消息')}</strong> · {letter.aggregateId ?? '—'} · {letter.reason ?? '—'}
                  <div className="muted small">
                    {letter.eventId ?? '—'} · {letter.deadLetteredAt ? dateTime(letter.deadLetteredAt) : '—'} ·{' '}
                    {L(`dead-lettered ${letter.deadLetterCount}×`, `进入死信 ${letter.deadLetterCount} 次`)} ·{' '}
                    {L(`replayed ${letter.replays}×`, `重放 ${letter.replays} 次`)}
                  </div>
                  <details>
                    <summary>{L('Payload', '内容')}</summary>
                    <pre className="small">{letter.payload}</pre>
                  </details>
                </div>
                {letter.eventId ? (
                  <div className="row">
                    <button type="button" disabled={busy} onClick={() => after(replay({ consumer: queue.consumer, eventIds: [letter.eventId!] }))}>
                      {L('Replay', '重放')}
                    </button>
                    <button
                      type="button"
                      className="danger"
                      disabled={busy}
                      onClick={() => after(discard({ consumer: queue.consumer, eventIds: [letter.eventId!] }))}
                    >
                      {L('Discard', '丢弃')}
                    </button>
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p className="muted">{L('Empty.', '无。')}</p>
      )}
    </section>
  );
}

/** Events a consumer kept failing on: replay them through the same idempotent consumer, or discard them. */
export function DeadLettersScreen({ title }: ScreenProps) {
  const L = useL();
  const [{ data, error }, refetch] = useQuery({ query: DeadLettersDocument });
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <p className="muted small">
        {L('Replaying is safe to repeat: each consumer applies an event at most once.', '重放可以重复执行：每个消费者对同一事件最多处理一次。')}
      </p>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {!data && !error ? <Loading /> : null}
      {data?.deadLetterQueues.map((q) => (
        <QueueCard key={q.consumer} queue={q} onDone={() => refetch(NETWORK)} />
      ))}
    </section>
  );
}
