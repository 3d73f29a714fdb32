import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { formatMoney, type MoneyLike } from '../lib/money';
import type { Locale } from './messages';
import { intlLocale, pickLocale, translator, type Translate } from './translate';

export { LOCALES, intlLocale, pickLocale, translator, type Params, type Translate } from './translate';

const KEY = 'shop.locale';

/**
 * Chinese and English, chosen from the browser's languages (navigator.languages) and switchable in
 * the header; the choice is kept in localStorage. Numbers, money and dates go through Intl with the
 * same locale. The pure helpers live in translate.ts.
 */
function initialLocale(): Locale {
  try {
    const saved = window.localStorage.getItem(KEY);
    if (saved === 'en' || saved === 'zh') return saved;
  } catch {
    // storage unavailable: fall through to the browser's languages
  }
  return pickLocale(navigator.languages?.length ? navigator.languages : [navigator.language]);
}

export interface I18n {
  locale: Locale;
  setLocale(locale: Locale): void;
  t: Translate;
  money(value: MoneyLike): string;
  dateTime(iso: string | Date): string;
  number(value: number, options?: Intl.NumberFormatOptions): string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(initialLocale);
  const setLocale = useCallback((next: Locale) => {
    try {
      window.localStorage.setItem(KEY, next);
    } catch {
      // the choice lasts for this page only
    }
    setLocaleState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const tag = intlLocale(locale);
    const dates = new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeStyle: 'short' });
    document.documentElement.lang = tag;
    return {
      locale,
      setLocale,
      t: translator(locale),
      money: (v) => formatMoney(v, tag),
      dateTime: (iso) => dates.format(typeof iso === 'string' ? new Date(iso) : iso),
      number: (n, options) => new Intl.NumberFormat(tag, options).format(n),
    };
  }, [locale, setLocale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside I18nProvider');
  return value;
}
