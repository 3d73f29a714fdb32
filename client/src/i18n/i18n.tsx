import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { formatMoney, type MoneyLike } from '../lib/money';
import { MESSAGES, type Locale, type MessageKey } from './messages';

/**
 * Chinese and English, chosen from the browser's languages (navigator.languages) and switchable in
 * the header; the choice is kept in localStorage. Numbers, money and dates go through Intl with the
 * same locale. Pure helpers (translate, pickLocale) are used by the unit tests and error messages.
 */
export const LOCALES: readonly Locale[] = ['en', 'zh'];
const KEY = 'shop.locale';

export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** The first supported language among the browser's preferences; English otherwise. */
export function pickLocale(preferred: readonly string[]): Locale {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'zh') return 'zh';
    if (base === 'en') return 'en';
  }
  return 'en';
}

export function translator(locale: Locale): Translate {
  const table = MESSAGES[locale];
  return (key, params) => {
    const template = table[key] ?? MESSAGES.en[key] ?? key;
    return params ? template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole)) : template;
  };
}

/** BCP-47 tags for Intl: the shop's Chinese is Simplified (mainland). */
export const intlLocale = (locale: Locale): string => (locale === 'zh' ? 'zh-CN' : 'en');

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
