import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DomainError, ErrorCode, badInput, forbidden, secret } from '@shop/kit';
import type { PreviewLine } from './entities.js';

/**
 * A preview is a signed, self-contained token (seed §13: prices and promotions signed against
 * tampering): what previewOrder priced, for whom and until when, under an HMAC-SHA256. placeOrder
 * verifies it instead of reading a row back, so a preview costs the database nothing. The client
 * passes it back as the contract's `previewId`:
 *
 *   pvw.<base64url JSON of PreviewClaims>.<base64url HMAC of the two parts before it>
 *
 * The key is derived from INTERNAL_IDENTITY_SECRET (HKDF-SHA256, info "shop-order-preview-v1"), so
 * it needs no secret of its own, differs from the identity tokens' key, and changes with a rotation
 * of that secret (previews live PREVIEW_TTL_SECONDS; one made before a rotation is answered
 * PREVIEW_EXPIRED). The key is imported once per process.
 */
export interface PreviewClaims {
  /** The preview's own id (newId('pvw')): recorded with the order, and what a replay compares. */
  id: string;
  userId: string;
  lines: PreviewLine[];
  couponCode: string | null;
  addressId: string | null;
  country: string | null;
  currency: string;
  total: number;
  discount: number;
  shippingFee: number;
  payable: number;
  flashSale: boolean;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const PREFIX = 'pvw';
/** Far above a 99-line preview's token; a longer previewId is refused before anything is decoded. */
const MAX_TOKEN_LENGTH = 16_384;

let key: KeyObject | undefined;
const signingKey = (): KeyObject =>
  (key ??= createSecretKey(Buffer.from(hkdfSync('sha256', secret('INTERNAL_IDENTITY_SECRET'), '', 'shop-order-preview-v1', 32))));

const mac = (signed: string): Buffer => createHmac('sha256', signingKey()).update(signed).digest();

export function signPreview(claims: PreviewClaims): string {
  const signed = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${mac(signed).toString('base64url')}`;
}

const notAPreview = () => badInput('previewId is not a preview of this shop: preview the order again', { field: 'previewId' });

/**
 * The claims of a preview token, once its signature and owner are checked: BAD_USER_INPUT for
 * anything that is not an intact token of ours (an altered price included), FORBIDDEN for another
 * user's. Its lifetime is checked apart (requireUnexpired): a retried placeOrder answers its order
 * however old the preview has become.
 */
export function verifyPreview(token: string, userId: string): PreviewClaims {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw notAPreview();
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw notAPreview();
  const given = Buffer.from(parts[2]!, 'base64url');
  const expected = mac(`${parts[0]}.${parts[1]}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw notAPreview();
  let claims: PreviewClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as PreviewClaims;
  } catch {
    throw notAPreview();
  }
  if (claims.userId !== userId) throw forbidden('This preview belongs to another user');
  return claims;
}

/** PREVIEW_EXPIRED once the preview's lifetime (PREVIEW_TTL_SECONDS from its making) is over. */
export function requireUnexpired(claims: PreviewClaims, now = Date.now()): void {
  if (claims.expiresAt <= now) throw new DomainError(ErrorCode.PREVIEW_EXPIRED, 'The preview has expired: preview the order again');
}
