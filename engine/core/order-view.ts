/**
 * The state of one order as a command left it: the engine's reply to place and cancel, and the
 * source of order events. One instance per engine, overwritten by each command (no allocation).
 *
 * Quantities: `amount`, `left`, `dealStock` in lots, except for a market bid, whose amount and
 * left are money: `amountMoney`, `leftMoney` in money units (then `amount` and `left` are 0).
 */

/** Indexes of the int64 money fields in `OrderView.money`, in the order ORDER_RECORD stores them. */
export const AMOUNT_MONEY = 0;
export const LEFT_MONEY = 1;
export const DEAL_MONEY = 2;
export const DEAL_FEE = 3;
export const FREEZE = 4;
export const MONEY_FIELDS = 5;

export class OrderView {
  id = 0;
  market = 0;
  side = 0;
  type = 0;
  user = 0;
  /** Microseconds since the epoch. */
  ctime = 0;
  mtime = 0;
  price = 0;
  amount = 0;
  left = 0;
  dealStock = 0;
  takerFee = 0;
  makerFee = 0;
  source = 0;
  /**
   * The int64 money fields (indexes above) and their 32-bit words (low, high): the engine updates
   * them in doubles through the words (book/int64-words.ts), without bigint below 2^53; the
   * bigint accessors below are for consumers and the bigint slow paths.
   */
  readonly money = new BigInt64Array(MONEY_FIELDS);
  readonly moneyWords = new Uint32Array(this.money.buffer);

  get amountMoney(): bigint {
    return this.money[AMOUNT_MONEY]!;
  }

  set amountMoney(value: bigint) {
    this.money[AMOUNT_MONEY] = value;
  }

  get leftMoney(): bigint {
    return this.money[LEFT_MONEY]!;
  }

  set leftMoney(value: bigint) {
    this.money[LEFT_MONEY] = value;
  }

  /** Σ money units traded. */
  get dealMoney(): bigint {
    return this.money[DEAL_MONEY]!;
  }

  set dealMoney(value: bigint) {
    this.money[DEAL_MONEY] = value;
  }

  /** Σ fee units paid, in the asset this order receives. */
  get dealFee(): bigint {
    return this.money[DEAL_FEE]!;
  }

  set dealFee(value: bigint) {
    this.money[DEAL_FEE] = value;
  }

  /** Units of the frozen asset still held (resting orders). */
  get freeze(): bigint {
    return this.money[FREEZE]!;
  }

  set freeze(value: bigint) {
    this.money[FREEZE] = value;
  }

  copyFrom(other: OrderView): void {
    this.id = other.id;
    this.market = other.market;
    this.side = other.side;
    this.type = other.type;
    this.user = other.user;
    this.ctime = other.ctime;
    this.mtime = other.mtime;
    this.price = other.price;
    this.amount = other.amount;
    this.left = other.left;
    this.dealStock = other.dealStock;
    this.takerFee = other.takerFee;
    this.makerFee = other.makerFee;
    this.source = other.source;
    this.moneyWords.set(other.moneyWords);
  }
}
