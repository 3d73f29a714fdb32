import { PageHeading, RequireSignIn } from '../components/ui';
import { Link } from '../router';
import { useL } from './common';
import { DeadLettersScreen } from './DeadLettersScreen';
import { OrdersScreen } from './OrdersScreen';
import { OverviewScreen } from './OverviewScreen';
import { ReconciliationScreen } from './ReconciliationScreen';
import { RefundsScreen } from './RefundsScreen';
import { RiskScreen } from './RiskScreen';
import { ShipmentsScreen } from './ShipmentsScreen';
import { StockScreen } from './StockScreen';

const SCREENS = [
  { path: '/admin', en: 'Overview', zh: '概览', Screen: OverviewScreen },
  { path: '/admin/orders', en: 'Orders', zh: '订单', Screen: OrdersScreen },
  { path: '/admin/refunds', en: 'Refunds', zh: '退款审批', Screen: RefundsScreen },
  { path: '/admin/risk', en: 'Risk review', zh: '风控审核', Screen: RiskScreen },
  { path: '/admin/shipments', en: 'Shipments', zh: '发货', Screen: ShipmentsScreen },
  { path: '/admin/stock', en: 'Stock', zh: '库存', Screen: StockScreen },
  { path: '/admin/dead-letters', en: 'Dead letters', zh: '死信', Screen: DeadLettersScreen },
  { path: '/admin/reconciliation', en: 'Reconciliation', zh: '对账', Screen: ReconciliationScreen },
] as const;

/**
 * The operations console: an admin area of the storefront. Nothing is hidden by role here: every
 * screen asks the gateway, whose subgraphs refuse non-admins (FORBIDDEN), and shows that refusal.
 */
export function ConsolePage({ path }: { path: string }) {
  const L = useL();
  const current = SCREENS.find((s) => s.path === path.replace(/\/+$/, '') || (s.path !== '/admin' && path.startsWith(`${s.path}/`)));
  return (
    <RequireSignIn>
      <div className="console">
        <nav aria-label={L('Console', '运营后台')} className="console-nav">
          <ul>
            {SCREENS.map((s) => (
              <li key={s.path}>
                <Link to={s.path} aria-current={current?.path === s.path ? 'page' : undefined}>
                  {L(s.en, s.zh)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="console-body">
          {current ? (
            <current.Screen path={path} title={L(current.en, current.zh)} />
          ) : (
            <section className="card">
              <PageHeading>{L('Page not found', '页面不存在')}</PageHeading>
            </section>
          )}
        </div>
      </div>
    </RequireSignIn>
  );
}

export interface ScreenProps {
  path: string;
  title: string;
}
