/**
 * Drives a workload through our Engine in-process (one shard, integer API), the way a shard's
 * batch loop does: commands in batches of BATCH, the batch's events handed on (here: scanned for
 * DEAL records) and the event buffer reset at the end of each batch.
 */
import type { Histogram } from 'hdr-histogram-js';
import { Code } from '../../engine/codes.js';
import { eventRecordSize, EventKind } from '../../engine/core/events.js';
import type { Engine } from '../../engine/engine.js';
import { Op, type Workload } from '../gen/workload.js';

/** Commands per batch; the event buffer is handed on and reset after each. */
export const BATCH = 1024;
/** One command in SAMPLE_EVERY is timed on its own for the latency histogram. */
export const SAMPLE_EVERY = 64;
const SAMPLE_MASK = SAMPLE_EVERY - 1;
/** Command time of the first command, in microseconds since the epoch; command i carries TIME0 + i. */
export const TIME0 = 1_700_000_000_000_000;

export interface DriverRun {
  readonly commands: number;
  readonly seconds: number;
  /** CPU time of the process (user + system) during the run: much less than `seconds` means other work had the cores. */
  readonly cpuSeconds: number;
  /** DEAL events the engine wrote. */
  readonly deals: number;
  /** Cancels answered ORDER_NOT_FOUND (the target was filled meanwhile). */
  readonly notFound: number;
}

/**
 * Runs commands [0, count) of `w` on `engine` (which must be fresh and funded). Any result other
 * than OK, or ORDER_NOT_FOUND for a cancel, throws: the workload only sends valid commands.
 * With `latency`, one command in SAMPLE_EVERY is timed with process.hrtime.bigint (in ns).
 */
export function runEngine(engine: Engine, w: Workload, count: number, latency: Histogram | null): DriverRun {
  const { op, user, market, side, amount, price, target, takerFee, makerFee } = w;
  const events = engine.events;
  let deals = 0;
  let notFound = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let from = 0; from < count; from += BATCH) {
    const to = Math.min(count, from + BATCH);
    for (let i = from; i < to; i++) {
      const timed = latency !== null && (i & SAMPLE_MASK) === 0;
      const t0 = timed ? process.hrtime.bigint() : 0n;
      const time = TIME0 + i;
      let code: number;
      switch (op[i]) {
        case Op.LIMIT:
          code = engine.placeLimit(user[i]!, market[i]!, side[i]!, amount[i]!, price[i]!, takerFee, makerFee, 0, time);
          break;
        case Op.MARKET:
          code = engine.placeMarket(user[i]!, market[i]!, side[i]!, amount[i]!, takerFee, 0, time);
          break;
        case Op.CANCEL:
          code = engine.cancel(user[i]!, market[i]!, target[i]!, time);
          break;
        default:
          throw new Error(`command ${i}: unknown op ${op[i]}`);
      }
      if (timed) latency.recordValue(Number(process.hrtime.bigint() - t0));
      if (code !== Code.OK) {
        if (code === Code.ORDER_NOT_FOUND && op[i] === Op.CANCEL) notFound++;
        else throw new Error(`command ${i} (op ${op[i]}, user ${user[i]}, market ${market[i]}) failed with code ${code}`);
      }
    }
    deals += countDeals(events.data());
    events.reset();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { commands: count, seconds, cpuSeconds: cpuSecondsSince(cpu), deals, notFound };
}

/** User + system CPU seconds since `start` (a process.cpuUsage() reading). */
export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** DEAL records among event records (core/events.ts layout): walks them by their kind byte, as a consumer handing them on reads them. */
export function countDeals(bytes: Uint8Array): number {
  let deals = 0;
  for (let at = 0; at < bytes.length; at += eventRecordSize(bytes, at)) {
    if (bytes[at] === EventKind.DEAL) deals++;
  }
  return deals;
}

/**
 * Conservation: for every asset, Σ (available + frozen) over every row (fee account included)
 * equals what was deposited, and equals the table's supply counter. Returns the problems found.
 */
export function checkConservation(engine: Engine, deposits: readonly bigint[]): string[] {
  const problems: string[] = [];
  const table = engine.balances;
  const rows = table.users.size;
  for (let asset = 0; asset < table.assetCount; asset++) {
    let sum = 0n;
    for (let row = 0; row < rows; row++) sum += table.available(row, asset) + table.frozen(row, asset);
    const deposited = deposits[asset] ?? 0n;
    const name = engine.specs.assets[asset]?.name ?? String(asset);
    if (sum !== deposited) problems.push(`${name}: Σ balances ${sum} ≠ deposits ${deposited}`);
    if (table.supply[asset] !== deposited) problems.push(`${name}: supply ${table.supply[asset]} ≠ deposits ${deposited}`);
  }
  return problems;
}

/** Resting orders on the engine's books of the workload's markets. */
export function restingOrders(engine: Engine, w: Workload): number {
  let resting = 0;
  for (const m of w.markets) resting += engine.books[m.index]?.orders.size ?? 0;
  return resting;
}
