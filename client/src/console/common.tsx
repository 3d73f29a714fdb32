import { useCallback, type ReactNode } from 'react';
import { useI18n } from '../i18n/i18n';

/** The console's own words, in the operator's language: L('Approve', '批准'). */
export function useL(): (en: string, zh: string) => string {
  const { locale } = useI18n();
  return useCallback((en: string, zh: string) => (locale === 'zh' ? zh : en), [locale]);
}

/** A labelled figure on the overview. */
export function Figure({ label, value, hint, alert }: { label: string; value: ReactNode; hint?: string; alert?: boolean }) {
  return (
    <div className={alert ? 'figure figure-alert' : 'figure'} title={hint}>
      <div className="figure-value">{value}</div>
      <div className="figure-label">{label}</div>
    </div>
  );
}

/** Admin mutations ask the network again: the console shows what the shop holds now. */
export const NETWORK = { requestPolicy: 'network-only' } as const;
