/**
 * Drives a workload through the sharded engine: the Router on this thread, one worker per shard,
 * commands and replies over the shared-memory rings (engine/router/router.ts).
 *
 * Order ids. With more than one shard, ids come from shared counters in blocks, so the ids the
 * generator predicts (sequential from 1) are not the ids the shards hand out. A cancel names its
 * target by the id that came back in the target's reply, as a client does: the driver records the
 * real id of every order as its reply arrives, and a cancel whose target has not been answered
 * yet waits for that reply. So that each book still sees exactly the generator's sequence (and the
 * run can be checked against the generator's expected outcome), such a cancel holds back the later
 * commands of its market too; other markets go on. Markets are independent (every user holds far
 * more than it can spend), so the outcome per market — deals, stale cancels, resting orders — is
 * the generator's.
 *
 * Two ways to drive:
 *  - closed loop (`rate` 0): keep up to `window` commands in flight, sending as replies come back;
 *    measures commands/s;
 *  - open loop (`rate` > 0): command i is intended at t0 + i / rate and sent as soon as possible
 *    after that (never earlier): on each tick of a pacer (lib/pacer.ts, ~200 µs) and after
 *    each reply; its latency is reply time − intended time, so any queueing behind a slow reply,
 *    a full window, a held-back market or the pacer's own lateness counts (no coordinated omission).
 */
import type { Histogram } from 'hdr-histogram-js';
import type { Config } from '../../conf/schema.js';
import { validateConfig } from '../../conf/load.js';
import { Code } from '../../engine/codes.js';
import type { CommandReply, ReplyCallback, ReplyView, Router } from '../../engine/router/router.js';
import { Op, type Workload } from '../gen/workload.js';
import { countDeals, cpuSecondsSince, TIME0 } from './engine.js';
import { Pacer } from '../lib/pacer.js';

/** A run in which no reply arrives for this long fails. */
const STALL_MS = 30_000;

/** The per-run plan derived from a workload once: predicted ids and each market's command order. */
export interface Plan {
  readonly w: Workload;
  /** Per command: the id the generator predicts for a place (sequential from 1), 0 for a cancel. */
  readonly predicted: Float64Array;
  /** Per traded market (slot), its commands' indexes in stream order. */
  readonly queues: readonly Int32Array[];
  /** Slot of each engine market index (-1 = not traded). */
  readonly slotOf: Int32Array;
}

export function planWorkload(w: Workload): Plan {
  const predicted = new Float64Array(w.commands);
  const slotOf = new Int32Array(Math.max(...w.markets.map((m) => m.index)) + 1).fill(-1);
  w.markets.forEach((m, slot) => (slotOf[m.index] = slot));
  const sizes = new Array<number>(w.markets.length).fill(0);
  let next = 1;
  for (let i = 0; i < w.commands; i++) {
    if (w.op[i] !== Op.CANCEL) predicted[i] = next++;
    const slot = slotOf[w.market[i]!]!;
    sizes[slot] = sizes[slot]! + 1;
  }
  const queues = sizes.map((n) => new Int32Array(n));
  const fill = new Array<number>(w.markets.length).fill(0);
  for (let i = 0; i < w.commands; i++) {
    const slot = slotOf[w.market[i]!]!;
    queues[slot]![fill[slot]!] = i;
    fill[slot] = fill[slot]! + 1;
  }
  if (next - 1 !== w.expected.placed) throw new Error(`plan: ${next - 1} places, the generator expects ${w.expected.placed}`);
  return { w, predicted, queues, slotOf };
}

/** Prefix of the warm-up markets' names: copies of the workload's markets, on the same shards. */
export const WARM_PREFIX = 'W-';

/**
 * A config for `shards` shards with the workload's markets spread over them round-robin
 * (engine.assignment), so that every shard gets work, plus a copy of each of them (same assets
 * and precisions, named WARM_PREFIX + name, appended after every configured market so that no
 * market index moves) on the same shard, for warming up the shard workers on the same router
 * without touching the measured books.
 */
export function shardedConfig(base: Readonly<Config>, w: Workload, shards: number): Readonly<Config> {
  const assignment: Record<string, number> = { ...base.engine.assignment };
  const warm = w.markets.map((m, slot) => {
    const config = base.markets[m.index];
    if (config === undefined) throw new Error(`market ${m.name} is not in the config`);
    assignment[m.name] = slot % shards;
    assignment[WARM_PREFIX + m.name] = slot % shards;
    return { ...config, name: WARM_PREFIX + m.name };
  });
  return validateConfig({ ...base, markets: [...base.markets, ...warm], engine: { ...base.engine, shards, assignment } });
}

/**
 * Credits every user with the workload's funding through the router (balance.update, business
 * "deposit"), at most `window` at a time. Returns the units deposited per asset index.
 */
export async function fundThroughRouter(router: Router, w: Workload, window = 1024): Promise<bigint[]> {
  const deposits = new Array<bigint>(router.specs.assets.length).fill(0n);
  const jobs: (() => Promise<CommandReply>)[] = [];
  let businessId = 1;
  for (const userId of w.userIds) {
    for (const { asset, unitsPerUser } of w.funding) {
      const id = businessId++;
      jobs.push(() => router.updateBalance(userId, asset, 'deposit', id, unitsPerUser, '', TIME0 - 1));
      deposits[asset] = (deposits[asset] ?? 0n) + unitsPerUser;
    }
  }
  for (let from = 0; from < jobs.length; from += window) {
    const replies = await Promise.all(jobs.slice(from, from + window).map((job) => job()));
    const failed = replies.find((r) => r.code !== Code.OK);
    if (failed !== undefined) throw new Error(`funding through the router failed with code ${failed.code}`);
  }
  return deposits;
}

/**
 * How commands travel: `promise` = placeLimit / placeMarket / cancel, a promise and a decoded
 * reply per command; `submit` = submitLimit / submitMarket / submitCancel, a callback per market
 * and the order id read from the reply record (Router's lower-overhead path).
 */
export type RouterApi = 'promise' | 'submit';

export interface RouterDriveOptions {
  /** Most commands in flight (sent, not yet answered). */
  readonly window: number;
  /** Open loop: commands per second, command i intended at t0 + i / rate. 0 = closed loop. */
  readonly rate: number;
  /** Open loop: records reply time − intended send time of every command, in ns. */
  readonly latency: Histogram | null;
  readonly api: RouterApi;
}

export interface RouterRun {
  readonly commands: number;
  /** From the first send to the last reply. */
  readonly seconds: number;
  /** CPU time of the process, every thread (router and shards). */
  readonly cpuSeconds: number;
  /** DEAL records the router handed to the deal counter during the run. */
  readonly deals: number;
  /** Cancels answered ORDER_NOT_FOUND. */
  readonly notFound: number;
  /** Cancels that had to wait for their target's reply (holding back their market). */
  readonly cancelWaits: number;
  /** Most commands in flight at once. */
  readonly maxInFlight: number;
  /** The real id of every accepted place, by predicted id (index 0 unused). */
  readonly realIds: Float64Array;
}

/**
 * Runs the whole plan through `router` (fresh: its books for the workload's markets empty, the
 * users funded). Every command must be answered OK, or ORDER_NOT_FOUND for a cancel; anything
 * else (BUSY included: the window must fit the rings) rejects. `deals` counts DEAL events, so the
 * router must have no other DEAL traffic while it runs; register one deal counter per router.
 * Replies of one market come back in the order its commands were sent (one shard, FIFO rings):
 * the submit path relies on it and every run checks it (each market's order ids increase).
 */
export async function driveRouter(router: Router, plan: Plan, deals: DealCounter, options: RouterDriveOptions): Promise<RouterRun> {
  const { w, predicted, queues, slotOf } = plan;
  const { op, user, market, side, amount, price, target, takerFee, makerFee } = w;
  const count = w.commands;
  const slots = queues.length;
  const pos = new Int32Array(slots);
  const realIds = new Float64Array(w.expected.placed + 1);
  const lastId = new Float64Array(slots);
  const { window, rate, latency, api } = options;
  const open = rate > 0;
  const intervalMs = open ? 1000 / rate : 0;
  // Submit path: per market, the commands in flight in the order sent (a ring of indexes).
  let fifoMask = 1;
  while (fifoMask < window) fifoMask <<= 1;
  const fifo = queues.map(() => new Int32Array(fifoMask));
  fifoMask -= 1;
  const fifoHead = new Int32Array(slots);
  const fifoTail = new Int32Array(slots);
  let inFlight = 0;
  let maxInFlight = 0;
  let answered = 0;
  let notFound = 0;
  let cancelWaits = 0;
  /** Per slot: the predicted id its next command (a cancel) waits for, 0 = none. */
  const waitingFor = new Float64Array(slots);
  let t0 = 0;
  let finished = false;
  let pumpQueued = false;
  /** Open loop: the clock that sends commands as they fall due, started before the run's clock. */
  const pacer = open ? await Pacer.start() : null;
  const deals0 = deals.deals;
  const cpu = process.cpuUsage();

  return new Promise<RouterRun>((resolve, reject) => {
    // Every command must be answered: a run with no reply for STALL_MS fails instead of hanging.
    let progress = -1;
    const watchdog = setInterval(() => {
      if (answered === progress) fail(new Error(`no reply for ${STALL_MS / 1000} s: ${answered} of ${count} commands answered, ${inFlight} in flight`));
      progress = answered;
    }, STALL_MS);
    const fail = (err: Error): void => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      pacer?.stop();
      reject(err);
    };

    /** The next command to send, at most `last`: the earliest head of a market that is not held back; -1 = none. */
    const nextCommand = (last: number): number => {
      let best = -1;
      for (let s = 0; s < slots; s++) {
        const queue = queues[s]!;
        const p = pos[s]!;
        if (p >= queue.length) continue;
        const i = queue[p]!;
        if (i > last) continue;
        if (op[i] === Op.CANCEL && realIds[target[i]!] === 0) {
          if (waitingFor[s] === 0) {
            waitingFor[s] = target[i]!;
            cancelWaits++;
          }
          continue;
        }
        if (best < 0 || i < best) best = i;
      }
      return best;
    };

    const onReply = (i: number, code: number, orderId: number): void => {
      inFlight--;
      answered++;
      if (latency !== null) latency.recordValue(Math.max(1, Math.round((performance.now() - t0 - i * intervalMs) * 1e6)));
      if (op[i] === Op.CANCEL) {
        if (code === Code.ORDER_NOT_FOUND) notFound++;
        else if (code !== Code.OK) return fail(new Error(`command ${i} (cancel of ${target[i]}, market ${market[i]}) failed with code ${code}`));
      } else {
        if (code !== Code.OK) return fail(new Error(`command ${i} (op ${op[i]}, user ${user[i]}, market ${market[i]}) failed with code ${code}`));
        const slot = slotOf[market[i]!]!;
        if (!(orderId > lastId[slot]!)) return fail(new Error(`command ${i}: order id ${orderId} after ${lastId[slot]} in market ${market[i]} (replies out of order?)`));
        lastId[slot] = orderId;
        const p = predicted[i]!;
        realIds[p] = orderId;
        for (let s = 0; s < slots; s++) if (waitingFor[s] === p) waitingFor[s] = 0;
      }
      if (answered === count) {
        finished = true;
        clearInterval(watchdog);
        pacer?.stop();
        const seconds = (performance.now() - t0) / 1000;
        const cpuSeconds = cpuSecondsSince(cpu);
        // Submit callbacks run inside the router's drain, before the EVENTS record of their shard
        // batch (written after the batch's replies): count the deals once that drain is over.
        queueMicrotask(() => resolve({ commands: count, seconds, cpuSeconds, deals: deals.deals - deals0, notFound, cancelWaits, maxInFlight, realIds }));
        return;
      }
      if (!pumpQueued) {
        pumpQueued = true;
        queueMicrotask(open ? sendDue : pump); // after every reply of this drain has been handled
      }
    };

    const onPromised = (i: number, r: CommandReply): void => onReply(i, r.code, r.orders[0]?.id ?? 0);
    const onError = (err: unknown): void => fail(err instanceof Error ? err : new Error(String(err)));
    /** Submit path: one callback per market, which takes the oldest command in flight of that market. */
    const callbacks: ReplyCallback[] = queues.map((_, s) => (reply: ReplyView): void => {
      const head = fifoHead[s]!;
      if (head === fifoTail[s]) return fail(new Error(`market slot ${s}: a reply with no command in flight`));
      fifoHead[s] = head + 1;
      onReply(fifo[s]![head & fifoMask]!, reply.code, reply.orderId);
    });

    const sendPromise = (i: number): void => {
      const m = market[i]!;
      const time = TIME0 + i;
      let reply: Promise<CommandReply>;
      switch (op[i]) {
        case Op.LIMIT:
          reply = router.placeLimit(user[i]!, m, side[i]!, amount[i]!, price[i]!, takerFee, makerFee, '', time);
          break;
        case Op.MARKET:
          reply = router.placeMarket(user[i]!, m, side[i]!, amount[i]!, takerFee, '', time);
          break;
        default:
          reply = router.cancel(user[i]!, m, realIds[target[i]!]!, time);
      }
      reply.then((r) => onPromised(i, r), onError);
    };

    const sendSubmit = (i: number, slot: number): void => {
      const m = market[i]!;
      const time = TIME0 + i;
      const done = callbacks[slot]!;
      let code: number;
      switch (op[i]) {
        case Op.LIMIT:
          code = router.submitLimit(done, user[i]!, m, side[i]!, amount[i]!, price[i]!, takerFee, makerFee, '', time);
          break;
        case Op.MARKET:
          code = router.submitMarket(done, user[i]!, m, side[i]!, amount[i]!, takerFee, '', time);
          break;
        default:
          code = router.submitCancel(done, user[i]!, m, realIds[target[i]!]!, time);
      }
      if (code !== Code.OK) throw new Error(`command ${i} could not be sent: code ${code}`);
      const tail = fifoTail[slot]!;
      fifo[slot]![tail & fifoMask] = i;
      fifoTail[slot] = tail + 1;
    };

    const send = (i: number): void => {
      const slot = slotOf[market[i]!]!;
      if (api === 'submit') sendSubmit(i, slot);
      else sendPromise(i);
      pos[slot] = pos[slot]! + 1;
      inFlight++;
      if (inFlight > maxInFlight) maxInFlight = inFlight;
    };

    /** Closed loop: fill the window. */
    const pump = (): void => {
      pumpQueued = false;
      if (finished) return;
      try {
        while (inFlight < window) {
          const i = nextCommand(count);
          if (i < 0) return;
          send(i);
        }
      } catch (err) {
        onError(err);
      }
    };

    /** Open loop: send every command that is due (and not held back); runs on every tick of the pacer and after replies. */
    const sendDue = (): void => {
      pumpQueued = false;
      if (finished) return;
      const due = (performance.now() - t0) / intervalMs;
      try {
        while (inFlight < window) {
          const i = nextCommand(due);
          if (i < 0) break;
          send(i);
        }
      } catch (err) {
        onError(err);
      }
    };

    t0 = performance.now();
    if (count === 0) {
      finished = true;
      clearInterval(watchdog);
      pacer?.stop();
      resolve({ commands: 0, seconds: 0, cpuSeconds: 0, deals: 0, notFound: 0, cancelWaits: 0, maxInFlight: 0, realIds });
      return;
    }
    if (pacer !== null) {
      pacer.run(sendDue);
      sendDue();
    } else {
      pump();
    }
  });
}

/** Counts the DEAL records of the events the router hands on during a run. */
export interface DealCounter {
  readonly deals: number;
}

/** Counts the DEAL records among the events the router hands to its listeners (router.onEvents). */
export function dealCounter(router: Router): DealCounter {
  const counter = { deals: 0 };
  router.onEventRecords((records) => {
    counter.deals += countDeals(records);
  });
  return counter;
}

/**
 * Conservation over the router's shared balance table: for every asset, Σ (available + frozen)
 * over every row (fee account included) equals what was deposited, and the table's supply counter.
 */
export function checkRouterConservation(router: Router, deposits: readonly bigint[]): string[] {
  const problems: string[] = [];
  const table = router.balances;
  const rows = table.users.size;
  for (let asset = 0; asset < table.assetCount; asset++) {
    let sum = 0n;
    for (let row = 0; row < rows; row++) sum += table.available(row, asset) + table.frozen(row, asset);
    const deposited = deposits[asset] ?? 0n;
    const name = router.specs.assets[asset]?.name ?? String(asset);
    if (sum !== deposited) problems.push(`${name}: Σ balances ${sum} ≠ deposits ${deposited}`);
    if (table.supply[asset] !== deposited) problems.push(`${name}: supply ${table.supply[asset]} ≠ deposits ${deposited}`);
  }
  return problems;
}

/** Resting orders per traded market (market.summary through the shards), in the workload's market order. */
export async function restingOnRouter(router: Router, w: Workload): Promise<number[]> {
  const summaries = await Promise.all(w.markets.map((m) => router.summary(m.index)));
  return summaries.map((r, k) => {
    if (r.code !== Code.OK || r.summary === null) throw new Error(`market.summary of ${w.markets[k]?.name} failed with code ${r.code}`);
    return r.summary.askCount + r.summary.bidCount;
  });
}

/** Ids handed out that are not unique (they must be, across shards). */
export function duplicateIds(ids: Float64Array): number {
  const sorted = ids.slice(1).sort();
  let duplicates = 0;
  for (let k = 1; k < sorted.length; k++) if (sorted[k] === sorted[k - 1]) duplicates++;
  return duplicates;
}
