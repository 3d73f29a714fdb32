import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorAlert, Loading, PageHeading, shortId } from '../components/ui';
import { ConsoleShipmentsDocument, DeliverShipmentDocument, PackShipmentDocument, ShipShipmentDocument, type ConsoleShipmentsQuery } from '../gql/graphql';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';
import { Link, navigate, useLocation } from '../router';
import { NETWORK, useL } from './common';
import type { ScreenProps } from './ConsolePage';

const STATUSES = ['PENDING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;
type Shipment = ConsoleShipmentsQuery['shipments']['edges'][number]['node'];

function ShipmentItem({ shipment, onDone }: { shipment: Shipment; onDone(): void }) {
  const L = useL();
  const { t, dateTime } = useI18n();
  const [tracking, setTracking] = useState('');
  const [packed, pack] = useMutation(PackShipmentDocument);
  const [shipped, ship] = useMutation(ShipShipmentDocument);
  const [delivered, deliver] = useMutation(DeliverShipmentDocument);
  const busy = packed.fetching || shipped.fetching || delivered.fetching;
  const after = (p: Promise<{ error?: unknown }>) => void p.then((res) => !res.error && onDone());
  const no = shortId(shipment.id);
  return (
    <li className="queue-item" aria-label={L(`Shipment ${no}`, `发货单 ${no}`)}>
      <div className="grow">
        <strong>{no}</strong> · {shipment.warehouseId} · {t(`shipment.${shipment.status}` as MessageKey)} ·{' '}
        <Link to={`/admin/orders/${shipment.order.id}`}>{L(`Order ${shortId(shipment.order.id)}`, `订单 ${shortId(shipment.order.id)}`)}</Link>
        <div className="muted small">
          {dateTime(shipment.createdAt)} · {shipment.items.map((i) => `${i.qty} × ${i.sku.title}`).join(', ')}
          {shipment.trackingNumber ? ` · ${shipment.trackingNumber}` : ''}
        </div>
        <ErrorAlert error={packed.error ?? shipped.error ?? delivered.error} />
      </div>
      {shipment.status === 'PENDING' ? (
        <button type="button" disabled={busy} onClick={() => after(pack({ id: shipment.id }))}>
          {L('Mark packed', '标记已打包')}
        </button>
      ) : null}
      {shipment.status === 'PACKED' ? (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (tracking.trim()) after(ship({ id: shipment.id, trackingNumber: tracking.trim() }));
          }}
        >
          <label>
            {L('Tracking number', '运单号')}
            <input value={tracking} onChange={(e) => setTracking(e.target.value)} maxLength={100} />
          </label>
          <button type="submit" disabled={busy || !tracking.trim()}>
            {L('Ship', '发货')}
          </button>
        </form>
      ) : null}
      {shipment.status === 'SHIPPED' ? (
        <button type="button" disabled={busy} onClick={() => after(deliver({ id: shipment.id }))}>
          {L('Mark delivered', '标记已签收')}
        </button>
      ) : null}
    </li>
  );
}

/** The warehouse's work: shipments to pack, then ship with a tracking number, then mark delivered. */
export function ShipmentsScreen({ title }: ScreenProps) {
  const L = useL();
  const { t } = useI18n();
  const { query } = useLocation();
  const raw = query.get('status');
  const status = raw && (STATUSES as readonly string[]).includes(raw) ? raw : 'PENDING';
  const [{ data, error }, refetch] = useQuery({ query: ConsoleShipmentsDocument, variables: { status, first: 50 } });
  return (
    <section className="card">
      <PageHeading>{title}</PageHeading>
      <label>
        {L('Status', '状态')}{' '}
        <select value={status} onChange={(e) => navigate(`/admin/shipments?status=${e.target.value}`)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`shipment.${s}` as MessageKey)}
            </option>
          ))}
        </select>
      </label>
      <ErrorAlert error={error} onRetry={() => refetch(NETWORK)} />
      {!data && !error ? <Loading /> : null}
      {data && data.shipments.edges.length === 0 ? <p className="muted">{L('Nothing here.', '暂无。')}</p> : null}
      {data ? (
        <ul className="queue" aria-label={title}>
          {data.shipments.edges.map(({ node }) => (
            <ShipmentItem key={node.id} shipment={node} onDone={() => refetch(NETWORK)} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
