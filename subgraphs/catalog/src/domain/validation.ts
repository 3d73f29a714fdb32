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
      if (!Number.isInteger(sku.price) || sku.price < 0 || sku.price > MAX_PRICE) {
        throw badInput(`skus[${i}].price must be an integer number of minor units in 0..${MAX_PRICE}, got ${sku.price}`, { field: `skus[${i}].price` });
      }
      if (!/^[A-Z]{3}$/.test(sku.currency)) {
        throw badInput(`skus[${i}].currency must be an ISO-4217 code such as "CNY", got "${sku.currency}"`, { field: `skus[${i}].currency` });
      }
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

/** Turns free text into a prefix-matching tsquery over letters and digits only (never raw input). */
export function toSearchQuery(search: string): string | null {
  const tokens =
    search
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu)
      ?.slice(0, 8) ?? [];
  return tokens.length === 0 ? null : tokens.map((t) => `${t.slice(0, 50)}:*`).join(' & ');
}
