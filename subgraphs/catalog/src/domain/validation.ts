import { badInput } from '@shop/kit';

export const MAX_PRICE = 100_000_000;
export const MAX_SKUS_PER_PRODUCT = 50;

export interface NewSku {
  title: string;
  price: number;
  currency: string;
  flashSale?: boolean | null;
  flashSaleStartsAt?: Date | null;
}
export interface NewProduct {
  title: string;
  description: string;
  skus: NewSku[];
  /** Image paths ("/images/...", served with the storefront) or https URLs; the first is the cover. */
  images?: string[] | null;
  /** A category slug such as "tea". */
  category?: string | null;
}

export const MAX_IMAGES = 10;
const IMAGE = /^(\/[A-Za-z0-9._~/-]{1,300}|https:\/\/[\x21-\x7e]{1,490})$/;
export const CATEGORY = /^[a-z][a-z0-9-]{0,39}$/;

function images(list: string[] | null | undefined): string[] {
  const value = list ?? [];
  if (value.length > MAX_IMAGES) throw badInput(`a product has at most ${MAX_IMAGES} images, got ${value.length}`, { field: 'images' });
  value.forEach((image, i) => {
    if (!IMAGE.test(image) || image.includes('..')) throw badInput(`images[${i}] must be a path starting with "/" or an https URL`, { field: `images[${i}]` });
  });
  return value;
}

export function category(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (!CATEGORY.test(value))
    throw badInput(`category must be a slug of lower-case letters, digits and "-" (up to 40), got "${value.slice(0, 40)}"`, { field: 'category' });
  return value;
}

function text(value: string, field: string, max: number, min = 1): string {
  const trimmed = value.trim();
  if (trimmed.length < min || trimmed.length > max) {
    throw badInput(`${field} must be ${min}..${max} characters, got ${trimmed.length}`, { field });
  }
  return trimmed;
}

/** Checks a createProduct input where it enters; inside, the values are trusted. */
export function validateNewProduct(input: NewProduct): NewProduct {
  if (input.skus.length < 1 || input.skus.length > MAX_SKUS_PER_PRODUCT) {
    throw badInput(`a product needs 1..${MAX_SKUS_PER_PRODUCT} SKUs, got ${input.skus.length}`, { field: 'skus' });
  }
  return {
    title: text(input.title, 'title', 200),
    description: text(input.description, 'description', 5000, 0),
    images: images(input.images),
    category: category(input.category),
    skus: input.skus.map((sku, i) => {
      price(sku.price, `skus[${i}].price`);
      currency(sku.currency, `skus[${i}].currency`);
      const startsAt = sku.flashSaleStartsAt ?? null;
      if (startsAt && !sku.flashSale) throw badInput(`skus[${i}].flashSaleStartsAt is for flash-sale SKUs only`, { field: `skus[${i}].flashSaleStartsAt` });
      if (startsAt && Number.isNaN(startsAt.getTime())) throw badInput(`skus[${i}].flashSaleStartsAt is not a date`, { field: `skus[${i}].flashSaleStartsAt` });
      return {
        title: text(sku.title, `skus[${i}].title`, 200),
        price: sku.price,
        currency: sku.currency,
        flashSale: sku.flashSale ?? false,
        flashSaleStartsAt: startsAt,
      };
    }),
  };
}

export interface SkuChangeInput {
  title?: string | null;
  price?: number | null;
  currency?: string | null;
  /** null: clear the start (open once stocked); absent: unchanged. */
  flashSaleStartsAt?: Date | null;
}
/** The fields an updateSku changes (absent: unchanged); validated. */
export interface SkuChange {
  title?: string;
  price?: number;
  currency?: string;
  flashSaleStartsAt?: Date | null;
}

function price(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_PRICE) {
    throw badInput(`${field} must be an integer number of minor units in 0..${MAX_PRICE}, got ${value}`, { field });
  }
  return value;
}

function currency(value: string, field: string): string {
  if (!/^[A-Z]{3}$/.test(value)) throw badInput(`${field} must be an ISO-4217 code such as "CNY", got "${value.slice(0, 20)}"`, { field });
  return value;
}

/**
 * Checks an updateSku input where it enters: at least one field, each as createProduct checks it.
 * `flashSaleStartsAt` given as null clears the start; a start on a SKU that is not a flash-sale SKU
 * is refused where the SKU is read (catalog-service.ts).
 */
export function validateSkuChange(input: SkuChangeInput, startsAtGiven: boolean): SkuChange {
  const change: SkuChange = {};
  if (input.title !== undefined && input.title !== null) change.title = text(input.title, 'title', 200);
  if (input.price !== undefined && input.price !== null) change.price = price(input.price, 'price');
  if (input.currency !== undefined && input.currency !== null) change.currency = currency(input.currency, 'currency');
  if (startsAtGiven) {
    const startsAt = input.flashSaleStartsAt ?? null;
    if (startsAt && Number.isNaN(startsAt.getTime())) throw badInput('flashSaleStartsAt is not a date', { field: 'flashSaleStartsAt' });
    change.flashSaleStartsAt = startsAt;
  }
  if (Object.keys(change).length === 0) throw badInput('updateSku needs at least one of title, price, currency, flashSaleStartsAt', { field: 'input' });
  return change;
}

/** Turns free text into a prefix-matching tsquery over letters and digits only (never raw input). */
export function toSearchQuery(search: string): string | null {
  const tokens =
    search
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu)
      ?.slice(0, 8) ?? [];
  return tokens.length === 0 ? null : tokens.map((t) => `${t.slice(0, 50)}:*`).join(' & ');
}
