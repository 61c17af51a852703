/**
 * Result codes of the engine, grouped by subsystem (as exchange-core does):
 * 0 ok, -1xxx validation, -2xxx risk (money), -3xxx matching/book, -8xxx persistence,
 * -9xxx transport between router and shards.
 * Only the gateway maps these to protocol errors (gateway/rpc/errors.ts).
 */
export const Code = {
  OK: 0,

  INVALID_ARGUMENT: -1001,
  UNKNOWN_MARKET: -1002,
  UNKNOWN_ASSET: -1003,
  INVALID_USER: -1004,
  INVALID_SIDE: -1005,
  INVALID_AMOUNT: -1006,
  INVALID_PRICE: -1007,
  INVALID_FEE_RATE: -1008,
  INVALID_SOURCE: -1009,

  BALANCE_NOT_ENOUGH: -2001,
  AMOUNT_TOO_SMALL: -2002,
  REPEAT_UPDATE: -2003,
  /** A credit would take an asset's total supply past the int64 range. */
  SUPPLY_OVERFLOW: -2004,
  TOO_MANY_USERS: -2005,

  NO_ENOUGH_TRADER: -3001,
  ORDER_NOT_FOUND: -3002,
  USER_NOT_MATCH: -3003,
  /** The market's book has no free order slot or price level. */
  BOOK_FULL: -3004,

  /** The shard's command ring is full: try again later; nothing was done. */
  BUSY: -9001,
  /** The engine stopped (shut down, or a shard failed): nothing was done. */
  ENGINE_STOPPED: -9002,
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];
