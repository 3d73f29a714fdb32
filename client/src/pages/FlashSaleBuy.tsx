import { useEffect, useState } from 'react';
import { useMutation, useSubscription, type CombinedError } from 'urql';
import { FlashPreviewDocument, OrderStatusChangedDocument, PlaceOrderDocument, type SkuFieldsFragment } from '../gql/graphql';
import { ErrorAlert } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { newClientReqId } from '../lib/client-req-id';
import { errorCode } from '../lib/error-messages';
import { Link } from '../router';

/**
 * Buying a flash-sale SKU (seed-design §9.2): one press is one click of the sale. The shared
 * admission answers at once (a place in the queue, sold out, busy with a time to try again, or the
 * order this shopper already has); an admitted shopper's order is placed and answered CREATED, and
 * the outcome (the item held, to pay; or canceled with the reason) arrives live by subscription.
 */
type Phase =
  | { kind: 'idle' }
  | { kind: 'joining' }
  | { kind: 'queued'; position: number }
  | { kind: 'processing'; orderId: string }
  | { kind: 'refused'; message: MessageKey; seconds?: number; orderId?: string }
  | { kind: 'failed'; error: CombinedError };

const refusalOf = (error: CombinedError): Phase => {
  const extensions = error.graphQLErrors[0]?.extensions ?? {};
  const code = errorCode(error);
  if (code === 'STOCK_NOT_ENOUGH') return { kind: 'refused', message: 'flash.soldOut' };
  if (code === 'FLASH_SALE_THROTTLED')
    return { kind: 'refused', message: 'flash.busy', seconds: Math.max(1, Math.ceil(Number(extensions.retryAfterMs ?? 1000) / 1000)) };
  if (code === 'ORDER_ALREADY_EXISTS')
    return { kind: 'refused', message: 'flash.already', orderId: typeof extensions.orderId === 'string' ? extensions.orderId : undefined };
  return { kind: 'failed', error };
};

function Outcome({ orderId }: { orderId: string }) {
  const { t, dateTime } = useI18n();
  const [{ data }] = useSubscription({ query: OrderStatusChangedDocument, variables: { orderId } });
  const order = data?.orderStatusChanged;
  if (!order || order.status === 'CREATED') {
    return (
      <p role="status" className="flash-state" data-testid="flash-state">
        {t('flash.processing')}
      </p>
    );
  }
  if (order.status === 'CANCELED') {
    return (
      <p role="alert" className="alert" data-testid="flash-state">
        {t('flash.lost', { reason: t(`cancel.${order.cancelReason ?? 'OUT_OF_STOCK'}` as MessageKey) })}
      </p>
    );
  }
  return (
    <p role="status" className="ok" data-testid="flash-state">
      {t('flash.won', { time: dateTime(order.expireAt) })} <Link to={`/orders/${orderId}`}>{t('flash.payNow')}</Link>
    </p>
  );
}

const secondsUntil = (startsAt: string | null | undefined): number =>
  startsAt ? Math.max(0, Math.ceil((new Date(startsAt).getTime() - Date.now()) / 1000)) : 0;

/** Whole seconds until `startsAt`, counting down once a second (0 once it has passed or when there is none). */
function useSecondsUntil(startsAt: string | null | undefined): number {
  const [left, setLeft] = useState(() => secondsUntil(startsAt));
  useEffect(() => {
    setLeft(secondsUntil(startsAt));
    if (!startsAt) return;
    const timer = setInterval(() => setLeft(secondsUntil(startsAt)), 1000);
    return () => clearInterval(timer);
  }, [startsAt]);
  return left;
}

/** 3725 → "1:02:05", 65 → "1:05". */
export const countdown = (seconds: number): string => {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
};

export function FlashSaleBuy({ sku }: { sku: SkuFieldsFragment }) {
  const { t, dateTime } = useI18n();
  const startsIn = useSecondsUntil(sku.flashSaleStartsAt);
  const [, preview] = useMutation(FlashPreviewDocument);
  const [, place] = useMutation(PlaceOrderDocument);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [waitSeconds, setWaitSeconds] = useState(0);
  const soldOut = sku.available <= 0;

  // "Try again in N s": the button waits out the retry hint, counting down.
  useEffect(() => {
    if (waitSeconds <= 0) return;
    const timer = setTimeout(() => setWaitSeconds((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [waitSeconds]);

  const onBuy = async () => {
    setPhase({ kind: 'joining' });
    const admitted = await preview({ input: { items: [{ skuId: sku.id, qty: 1 }] } });
    if (admitted.error || !admitted.data) {
      const refusal = admitted.error ? refusalOf(admitted.error) : { kind: 'idle' as const };
      if (refusal.kind === 'refused' && refusal.seconds) setWaitSeconds(refusal.seconds);
      setPhase(refusal);
      return;
    }
    const { previewId, queuePosition } = admitted.data.previewOrder;
    setPhase({ kind: 'queued', position: queuePosition ?? 1 });
    const placed = await place({ input: { previewId, clientReqId: newClientReqId() } });
    if (placed.error || !placed.data) {
      setPhase(placed.error ? refusalOf(placed.error) : { kind: 'idle' });
      return;
    }
    setPhase({ kind: 'processing', orderId: placed.data.placeOrder.order.id });
  };

  // Once the order is placed the button is free again: a second press is answered with that order (one per buyer).
  const busy = phase.kind === 'joining' || phase.kind === 'queued';
  return (
    <div className="flash-buy full">
      {startsIn > 0 ? (
        <p className="flash-state" data-testid="flash-countdown">
          {t('flash.startsIn', { time: dateTime(sku.flashSaleStartsAt!), countdown: countdown(startsIn) })}
        </p>
      ) : null}
      <div className="row">
        <button type="button" disabled={soldOut || busy || waitSeconds > 0 || startsIn > 0} onClick={() => void onBuy()}>
          {waitSeconds > 0 ? `${t('flash.buy')} (${waitSeconds})` : t('flash.buy')}
          <span className="visually-hidden"> — {sku.title}</span>
        </button>
        <span className="muted small">{t('flash.oneEach')}</span>
      </div>
      {phase.kind === 'queued' ? (
        <p role="status" className="flash-state" data-testid="flash-state">
          {t('flash.queued', { position: phase.position })}
        </p>
      ) : null}
      {phase.kind === 'processing' ? <Outcome orderId={phase.orderId} /> : null}
      {phase.kind === 'refused' ? (
        <p role="alert" className="alert" data-testid="flash-state">
          {t(phase.message, { seconds: phase.seconds ?? 0 })} {phase.orderId ? <Link to={`/orders/${phase.orderId}`}>{t('flash.seeOrder')}</Link> : null}
        </p>
      ) : null}
      {phase.kind === 'failed' ? <ErrorAlert error={phase.error} /> : null}
    </div>
  );
}
