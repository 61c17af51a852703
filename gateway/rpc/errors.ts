/**
 * The protocol's error catalog, and the one place where engine result codes become protocol errors.
 * Method-specific codes (10, 11, 12) mean different things per method, as in the original.
 */
import { Code, type CodeValue } from '../../engine/codes.js';

export interface RpcError {
  readonly code: number;
  readonly message: string;
}

export const INVALID_ARGUMENT: RpcError = { code: 1, message: 'invalid argument' };
export const INTERNAL_ERROR: RpcError = { code: 2, message: 'internal error' };
export const SERVICE_UNAVAILABLE: RpcError = { code: 3, message: 'service unavailable' };
export const METHOD_NOT_FOUND: RpcError = { code: 4, message: 'method not found' };
export const SERVICE_TIMEOUT: RpcError = { code: 5, message: 'service timeout' };
export const REQUIRE_AUTH: RpcError = { code: 6, message: 'require authentication' };

const BALANCE_NOT_ENOUGH_10: RpcError = { code: 10, message: 'balance not enough' };
const BALANCE_NOT_ENOUGH_11: RpcError = { code: 11, message: 'balance not enough' };
const REPEAT_UPDATE: RpcError = { code: 10, message: 'repeat update' };
const AMOUNT_TOO_SMALL: RpcError = { code: 11, message: 'amount too small' };
const NO_ENOUGH_TRADER: RpcError = { code: 12, message: 'no enough trader' };
const ORDER_NOT_FOUND: RpcError = { code: 10, message: 'order not found' };
const USER_NOT_MATCH: RpcError = { code: 11, message: 'user not match' };

/** Which method's meaning of the codes 10–12 applies. */
export type ErrorContext = 'balance.update' | 'order.put_limit' | 'order.put_market' | 'order.cancel' | 'other';

/** The protocol error for an engine result code (never called with OK). */
export function protocolError(code: CodeValue, context: ErrorContext): RpcError {
  switch (code) {
    case Code.BALANCE_NOT_ENOUGH:
      return context === 'balance.update' ? BALANCE_NOT_ENOUGH_11 : BALANCE_NOT_ENOUGH_10;
    case Code.REPEAT_UPDATE:
      return REPEAT_UPDATE;
    case Code.AMOUNT_TOO_SMALL:
      return AMOUNT_TOO_SMALL;
    case Code.NO_ENOUGH_TRADER:
      return NO_ENOUGH_TRADER;
    case Code.ORDER_NOT_FOUND:
      return ORDER_NOT_FOUND;
    case Code.USER_NOT_MATCH:
      return USER_NOT_MATCH;
    case Code.BOOK_FULL:
    case Code.TOO_MANY_USERS:
    case Code.BUSY:
    case Code.ENGINE_STOPPED:
      return SERVICE_UNAVAILABLE;
    case Code.INVALID_ARGUMENT:
    case Code.UNKNOWN_MARKET:
    case Code.UNKNOWN_ASSET:
    case Code.INVALID_USER:
    case Code.INVALID_SIDE:
    case Code.INVALID_AMOUNT:
    case Code.INVALID_PRICE:
    case Code.INVALID_FEE_RATE:
    case Code.INVALID_SOURCE:
    case Code.SUPPLY_OVERFLOW:
      return INVALID_ARGUMENT;
    case Code.OK:
      return INTERNAL_ERROR;
  }
}
