import { MESSAGES, type Locale, type MessageKey } from './messages.js';

/** The pure half of i18n (no React): used by the storefront, the error messages, the SDK and the tests. */
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

export const LOCALES: readonly Locale[] = ['en', 'zh'];

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
