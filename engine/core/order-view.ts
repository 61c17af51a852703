/**
 * The state of one order as a command left it: the engine's reply to place and cancel, and the
 * source of order events. One instance per engine, overwritten by each command (no allocation).
 *
 * Quantities: `amount`, `left`, `dealStock` in lots, except for a market bid, whose amount and
 * left are money: `amountMoney`, `leftMoney` in money units (then `amount` and `left` are 0).
 */
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
  amountMoney = 0n;
  leftMoney = 0n;
  takerFee = 0;
  makerFee = 0;
  dealMoney = 0n;
  dealFee = 0n;
  /** Units of the frozen asset still held (resting orders). */
  freeze = 0n;
  source = 0;

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
    this.amountMoney = other.amountMoney;
    this.leftMoney = other.leftMoney;
    this.takerFee = other.takerFee;
    this.makerFee = other.makerFee;
    this.dealMoney = other.dealMoney;
    this.dealFee = other.dealFee;
    this.freeze = other.freeze;
    this.source = other.source;
  }
}
