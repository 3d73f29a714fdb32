import { v7 as uuidv7 } from 'uuid';
import { badInput } from './errors.js';

/**
 * Ids are opaque strings: a type prefix and a UUIDv7 (time-ordered, so indexes stay compact and
 * cursors sort by creation) without dashes. Nothing counts up, so no id reveals business volume.
 */
export type IdPrefix = 'prd' | 'sku' | 'adr' | 'ord' | 'pvw' | 'pay' | 'shp' | 'rfd' | 'evt' | 'rsv';

export const newId = (prefix: IdPrefix): string => `${prefix}_${uuidv7().replaceAll('-', '')}`;

const ID_BODY = /^[0-9a-f]{32}$/;

export const isId = (prefix: IdPrefix, value: string): boolean =>
  value.length === prefix.length + 33 && value.startsWith(`${prefix}_`) && ID_BODY.test(value.slice(prefix.length + 1));

/** Checks an id received from a client; a malformed one is BAD_USER_INPUT, never a database error. */
export function parseId(prefix: IdPrefix, value: string, field = 'id'): string {
  if (!isId(prefix, value)) {
    throw badInput(`${field} "${truncate(value)}" is not a valid ${prefix} id`, { field });
  }
  return value;
}

const truncate = (value: string): string => (value.length > 60 ? `${value.slice(0, 57)}...` : value);

/**
 * The smallest id of a prefix created at `at`: a UUIDv7 starts with its creation time in
 * milliseconds (12 hex digits), so ids compare as their creation times do. The order tables are
 * partitioned by these bounds (the SQL function order_id_floor computes the same).
 */
export const idFloor = (prefix: IdPrefix, at: Date): string => `${prefix}_${Math.floor(at.getTime()).toString(16).padStart(12, '0')}${'0'.repeat(20)}`;

/** The creation time of an id of `prefix` (the first 12 hex digits of its UUIDv7), or undefined when it is not one. */
export const idTime = (prefix: IdPrefix, id: string): Date | undefined =>
  isId(prefix, id) ? new Date(Number.parseInt(id.slice(prefix.length + 1, prefix.length + 13), 16)) : undefined;
