/**
 * Helpers of the crash test (not a test file): the exchange as a child process (`node
 * dist/main.js --data-dir … --config …`), a JSON-RPC client over HTTP keep-alive (one request at
 * a time per connection: no pipelining), the client-side model of what was acknowledged, the load
 * that is running when the child is killed, the checks of the recovered state against the model,
 * and the offline checks of the journal directory between a kill and the next start.
 *
 * Acknowledged = the client received the complete HTTP response (a JSON-RPC result or error).
 * A request whose connection died first is in flight: its outcome is unknown, and the checks
 * accept either outcome but never half of one.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { ConfigInput } from '../../../conf/schema.js';
import { decodeEvents, EventKind } from '../../core/events.js';
import { formatUnits, parseUnits } from '../../money/decimal.js';
import { readDurableEpoch } from '../commit-log.js';
import { PayloadKind, readEventsPayload } from '../format.js';
import { runReplayCli, type ReplaySummary } from '../replay-cli.js';
import { listSegments } from '../segment-files.js';
import { readShardLog } from '../segment-reader.js';
import { Rng } from './workload.js';
import { logLine as waitForLogLine, spawnMain, type MainProcess } from '../../../test-support/main-process.js';


/** Any single step (start-up, one request) that takes longer than this fails the test instead of hanging it. */
export const STEP_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Config: three assets kept and shown with 8 decimals (balance.query is exact), two markets.

export const ASSETS = ['BTC', 'ETH', 'USD'] as const;
const PREC = 8;
export const MARKETS = [
  { name: 'BTCUSD', stock: 0, money: 2 },
  { name: 'ETHUSD', stock: 1, money: 2 },
] as const;
const STOCK_PREC = 4;
const MONEY_PREC = 2;
/** Stock balance units per lot: 10^(8 − 4). */
const UNITS_PER_LOT = 10n ** BigInt(PREC - STOCK_PREC);
/** Money balance units of (ticks × lots): 10^(8 − 2 − 4). */
const DEAL_MUL = 10n ** BigInt(PREC - MONEY_PREC - STOCK_PREC);
export const FEE_ACCOUNT = 999;
/** Users that only deposit and withdraw: their balances are known exactly. */
export const DEPOSITORS = [1, 2, 3, 4] as const;
/** Users that trade (and receive deposits now and then). */
export const TRADERS = [11, 12, 13, 14, 15, 16, 17, 18] as const;
export const ALL_USERS: readonly number[] = [...DEPOSITORS, ...TRADERS, FEE_ACCOUNT];
const SOURCES = ['crash', 'web', 'api', 'bot-αβ'] as const;
const TAKER_FEE = '0.002';
const MAKER_FEE = '0.001';

/** `snapshotEvery`: journal.snapshot_interval_s (0: no periodic snapshot). */
export function crashConfig(shards: number, durability: 'fsync' | 'none', snapshotEvery = 0): ConfigInput {
  return {
    assets: ASSETS.map((name) => ({ name, prec_save: PREC, prec_show: PREC })),
    markets: MARKETS.map((m) => ({
      name: m.name,
      stock: { name: ASSETS[m.stock], prec: STOCK_PREC },
      money: { name: ASSETS[m.money], prec: MONEY_PREC },
      fee_prec: 4,
      min_amount: '0.001',
    })),
    engine: {
      fee_account: FEE_ACCOUNT, max_users: 64, max_orders_per_market: 1 << 14, max_levels_per_side: 4096, depth_levels: 16,
      shards, ring_bytes: 1 << 20,
      ...(shards === 2 ? { assignment: { BTCUSD: 0, ETHUSD: 1 } } : {}),
    },
    http: { host: '127.0.0.1', port: 0 },
    ws: { host: '127.0.0.1', port: 0 },
    // Small segments, so that the runs roll segments (and snapshots delete some).
    journal: { durability, segment_bytes: 1 << 16, snapshot_interval_s: snapshotEvery },
  };
}

export function writeConfig(path: string, config: ConfigInput): void {
  writeFileSync(path, JSON.stringify(config));
}

// ---------------------------------------------------------------------------------------------
// The child process.

export type Exchange = MainProcess;

export function startExchange(dataDir: string, configPath: string): Exchange {
  return spawnMain(['--data-dir', dataDir, '--config', configPath]);
}

/** The first log line with this message; rejects when the exchange exits first or after STEP_TIMEOUT_MS. */
export function logLine(x: Exchange, msg: string): Promise<Record<string, unknown>> {
  return waitForLogLine(x, msg, STEP_TIMEOUT_MS);
}

/** SIGKILL, and waits for the exit. */
export async function killExchange(x: Exchange): Promise<void> {
  if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill('SIGKILL');
  const timer = setTimeout(() => x.child.kill('SIGKILL'), STEP_TIMEOUT_MS);
  try {
    await x.exit;
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC over HTTP keep-alive.

export interface Envelope {
  readonly error: { code: number; message: string } | null;
  readonly result: unknown;
}

/** The connection died before a complete response: the request's outcome is unknown. */
export class NoResponse extends Error {}

/** One keep-alive connection; the caller sends one request at a time on it (no pipelining). */
export class RpcConnection {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private id = 0;

  constructor(private readonly port: number) {}

  /** Resolves with the envelope of a complete response; rejects with NoResponse when the connection died first. */
  call(method: string, params: readonly unknown[]): Promise<Envelope> {
    const body = JSON.stringify({ id: ++this.id, method, params });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(new NoResponse(`${method}: ${err.message}`));
      };
      const req = http.request(
        {
          host: '127.0.0.1', port: this.port, method: 'POST', path: '/', agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) {
              reject(new Error(`${method}: HTTP ${res.statusCode} ${text}`));
              return;
            }
            try {
              resolve(JSON.parse(text) as Envelope);
            } catch (err) {
              reject(new Error(`${method}: bad JSON ${text}: ${(err as Error).message}`));
            }
          });
          res.on('error', fail);
          res.on('close', () => fail(new Error('response closed before its end')));
        },
      );
      req.setTimeout(STEP_TIMEOUT_MS, () => req.destroy(new Error('request timed out')));
      req.on('error', fail);
      req.end(body);
    });
  }

  /** A call that must succeed. */
  async ok<T>(method: string, params: readonly unknown[]): Promise<T> {
    const r = await this.call(method, params);
    if (r.error !== null) throw new Error(`${method} ${JSON.stringify(params)} failed: ${JSON.stringify(r.error)}`);
    return r.result as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The client-side model.

interface OrderInfo {
  id: number;
  market: string;
  source: string;
  side: number;
  user: number;
  ctime: number;
  mtime: number;
  price: string;
  amount: string;
  left: string;
}

type Zone = 'quiet' | 'active';

interface Update {
  readonly user: number;
  readonly asset: number;
  readonly businessId: number;
  readonly change: bigint;
}

interface KnownOrder {
  readonly id: number;
  readonly user: number;
  readonly market: number;
  readonly side: number;
  readonly price: number;
  readonly amount: number;
  readonly source: string;
  readonly ctime: number;
  readonly mtime: number;
  readonly zone: Zone;
  /** Sequence number of its place request (send order over all connections). */
  readonly sentSeq: number;
  /** Lots left, as last acknowledged (or recovered). */
  left: number;
  /** open: resting as far as the client knows; cancelled: an acknowledged cancel removed it; gone: filled (acknowledged). */
  status: 'open' | 'cancelled' | 'gone';
  /** A cancel was sent and not answered (yet, or ever). */
  cancelSent: boolean;
}

interface SentPut {
  readonly user: number;
  readonly market: number;
  readonly side: number;
  readonly price: number;
  readonly amount: number;
  readonly source: string;
  readonly zone: Zone;
  readonly seq: number;
}

const SIDE_ASK = 1;
const SIDE_BID = 2;
const key = (user: number, asset: number): string => `${user}/${asset}`;

export interface RoundStats {
  acked: number;
  inFlight: number;
  ackedUpdates: number;
  ackedPlaces: number;
  ackedCancels: number;
  inFlightUpdatesApplied: number;
  inFlightUpdatesNotApplied: number;
  inFlightPlacesRecovered: number;
  inFlightPlacesLost: number;
  inFlightCancelsApplied: number;
  restingChecked: number;
}

export const emptyStats = (): RoundStats => ({
  acked: 0, inFlight: 0, ackedUpdates: 0, ackedPlaces: 0, ackedCancels: 0, inFlightUpdatesApplied: 0,
  inFlightUpdatesNotApplied: 0, inFlightPlacesRecovered: 0, inFlightPlacesLost: 0, inFlightCancelsApplied: 0, restingChecked: 0,
});

export class Model {
  /** Acknowledged balance.update total per (user, asset). */
  readonly ackedNet = new Map<string, bigint>();
  /** Σ acknowledged balance.update changes per asset. */
  readonly netDeposits: bigint[] = ASSETS.map(() => 0n);
  /** Withdrawals sent and not answered, per (user, asset): kept out of what may still be withdrawn. */
  private readonly withdrawing = new Map<string, bigint>();
  /** Acknowledged OK updates (a sample is retried after each restart: must be "repeat update"). */
  readonly ackedUpdates: Update[] = [];
  /** Sent, never answered: applied or not, to be found out after the restart. */
  inFlightUpdates: Update[] = [];
  readonly orders = new Map<number, KnownOrder>();
  inFlightPuts: SentPut[] = [];
  /**
   * Active-zone places sent, per market: side, price, when sent and when answered (Infinity: never).
   * A resting active order O may have been traded by an opposite crossing place X unless X was
   * answered before O was sent (X then ran before O existed).
   */
  readonly activeSent: { side: number; price: number; seq: number; answeredAt: number }[][] = MARKETS.map(() => []);
  /** Largest order id seen before the current run, and over all runs. */
  idsBeforeRun = 0;
  maxIdSeen = 0;
  /** What went wrong while the load ran (checked by the test). */
  readonly anomalies: string[] = [];
  stats: RoundStats = emptyStats();
  private seq = 0;
  private businessId = 1;
  /** The replay CLI's view of the journal after the last kill (checked against the restarted exchange). */
  offline: ReplaySummary | null = null;
  lastNextDealId = 0;

  nextSeq(): number {
    return ++this.seq;
  }

  nextBusinessId(): number {
    return this.businessId++;
  }

  acked(user: number, asset: number): bigint {
    return this.ackedNet.get(key(user, asset)) ?? 0n;
  }

  /** What a depositor may withdraw now whatever happens to the requests in flight. */
  withdrawable(user: number, asset: number): bigint {
    return this.acked(user, asset) - (this.withdrawing.get(key(user, asset)) ?? 0n);
  }

  applyUpdate(u: Update): void {
    this.ackedNet.set(key(u.user, u.asset), this.acked(u.user, u.asset) + u.change);
    this.netDeposits[u.asset] = this.netDeposits[u.asset]! + u.change;
  }

  withdrawingAdd(u: Update, sign: 1n | -1n): void {
    if (u.change >= 0n) return;
    const k = key(u.user, u.asset);
    this.withdrawing.set(k, (this.withdrawing.get(k) ?? 0n) + sign * -u.change);
  }

  seeId(id: number): void {
    if (id > this.maxIdSeen) this.maxIdSeen = id;
  }

  openOrders(user: number): KnownOrder[] {
    return [...this.orders.values()].filter((o) => o.user === user && o.status === 'open' && !o.cancelSent);
  }
}

// ---------------------------------------------------------------------------------------------
// Load: each connection sends one request at a time until told to stop or its connection dies.

const ticks = (price: number): string => formatUnits(BigInt(price), MONEY_PREC);
const lotsText = (lots: number): string => formatUnits(BigInt(lots), STOCK_PREC);
const units = (text: string): bigint => {
  const u = parseUnits(text, PREC);
  assert.ok(u !== null, `bad balance ${text}`);
  return u;
};
const toLots = (text: string): number => {
  const u = parseUnits(text, STOCK_PREC);
  assert.ok(u !== null, `bad amount ${text}`);
  return Number(u);
};
const toTicks = (text: string): number => {
  const u = parseUnits(text, MONEY_PREC);
  assert.ok(u !== null, `bad price ${text}`);
  return Number(u);
};

/** Sends balance.update; updates the model from the answer. Throws NoResponse (the update is then in flight). */
async function sendUpdate(conn: RpcConnection, model: Model, u: Update): Promise<void> {
  model.withdrawingAdd(u, 1n);
  let r: Envelope;
  try {
    r = await conn.call('balance.update', [u.user, ASSETS[u.asset], 'crash', u.businessId, formatUnits(u.change, PREC), {}]);
  } catch (err) {
    model.withdrawingAdd(u, -1n);
    if (err instanceof NoResponse) {
      model.inFlightUpdates.push(u);
      model.stats.inFlight++;
    }
    throw err;
  }
  model.withdrawingAdd(u, -1n);
  model.stats.acked++;
  if (r.error === null) {
    model.applyUpdate(u);
    model.ackedUpdates.push(u);
    model.stats.ackedUpdates++;
  } else if (!(r.error.code === 11 && u.change < 0n)) {
    model.anomalies.push(`balance.update ${JSON.stringify({ ...u, change: String(u.change) })} answered ${JSON.stringify(r.error)}`);
  }
}

async function sendPut(conn: RpcConnection, model: Model, put: SentPut): Promise<void> {
  const spec = MARKETS[put.market]!;
  const sent = { side: put.side, price: put.price, seq: put.seq, answeredAt: Infinity };
  if (put.zone === 'active') model.activeSent[put.market]!.push(sent);
  let r: Envelope;
  try {
    r = await conn.call('order.put_limit', [put.user, spec.name, put.side, lotsText(put.amount), ticks(put.price), TAKER_FEE, MAKER_FEE, put.source]);
    sent.answeredAt = model.nextSeq();
  } catch (err) {
    if (err instanceof NoResponse) {
      model.inFlightPuts.push(put);
      model.stats.inFlight++;
    }
    throw err;
  }
  model.stats.acked++;
  if (r.error !== null) {
    // Balance not enough is a client error that changes nothing; nothing else is expected here.
    if (r.error.code !== 10) model.anomalies.push(`order.put_limit ${JSON.stringify(put)} answered ${JSON.stringify(r.error)}`);
    return;
  }
  const o = r.result as OrderInfo;
  model.stats.ackedPlaces++;
  if (!(o.id > model.idsBeforeRun)) model.anomalies.push(`order id ${o.id} acknowledged after id ${model.idsBeforeRun} was seen in an earlier run`);
  if (model.orders.has(o.id)) model.anomalies.push(`order id ${o.id} acknowledged twice`);
  model.seeId(o.id);
  const left = toLots(o.left);
  if (put.zone === 'quiet' && left !== put.amount) model.anomalies.push(`quiet order ${o.id} traded: left ${o.left}`);
  model.orders.set(o.id, {
    id: o.id, user: put.user, market: put.market, side: put.side, price: put.price, amount: put.amount, source: put.source,
    ctime: o.ctime, mtime: o.mtime, zone: put.zone, sentSeq: put.seq, left, status: left > 0 ? 'open' : 'gone', cancelSent: false,
  });
}

async function sendCancel(conn: RpcConnection, model: Model, order: KnownOrder): Promise<void> {
  order.cancelSent = true;
  let r: Envelope;
  try {
    r = await conn.call('order.cancel', [order.user, MARKETS[order.market]!.name, order.id]);
  } catch (err) {
    if (err instanceof NoResponse) model.stats.inFlight++;
    throw err; // cancelSent stays set: in flight
  }
  order.cancelSent = false;
  model.stats.acked++;
  model.stats.ackedCancels++;
  if (r.error === null) {
    order.status = 'cancelled';
  } else if (r.error.code === 10 && order.zone === 'active') {
    order.status = 'gone'; // filled meanwhile
  } else {
    model.anomalies.push(`order.cancel of ${order.zone} order ${order.id} answered ${JSON.stringify(r.error)}`);
  }
}

/** One client connection's load until `stop()` or until its connection dies. */
export async function driveConnection(conn: RpcConnection, rng: Rng, model: Model, stop: () => boolean): Promise<void> {
  try {
    while (!stop()) {
      const roll = rng.int(0, 99);
      if (roll < 12) {
        const user = rng.pick(DEPOSITORS);
        const asset = rng.int(0, ASSETS.length - 1);
        let change = BigInt(rng.int(1, 1_000_000_000));
        if (rng.chance(0.35) && model.withdrawable(user, asset) >= change) change = -change;
        await sendUpdate(conn, model, { user, asset, businessId: model.nextBusinessId(), change });
        continue;
      }
      if (roll < 16) {
        const user = rng.pick(TRADERS);
        const asset = rng.int(0, ASSETS.length - 1);
        await sendUpdate(conn, model, { user, asset, businessId: model.nextBusinessId(), change: BigInt(rng.int(1, 1_000_000_000)) });
        continue;
      }
      if (roll >= 80) {
        const open = model.openOrders(rng.pick(TRADERS));
        if (open.length > 0) {
          await sendCancel(conn, model, rng.pick(open));
          continue;
        }
      }
      const user = rng.pick(TRADERS);
      const market = rng.int(0, MARKETS.length - 1);
      const side = rng.chance(0.5) ? SIDE_ASK : SIDE_BID;
      const source = rng.pick(SOURCES);
      const seq = model.nextSeq();
      if (roll < 50 || roll >= 80) {
        // Quiet: far from the active range, never crosses anything.
        const price = side === SIDE_BID ? 25 * rng.int(4, 160) : 25 * rng.int(2400, 3600);
        await sendPut(conn, model, { user, market, side, price, amount: rng.int(10, 500), source, zone: 'quiet', seq });
      } else {
        const price = 5 * rng.int(1900, 2100); // 95.00 … 105.00
        await sendPut(conn, model, { user, market, side, price, amount: rng.int(10, 300), source, zone: 'active', seq });
      }
    }
  } catch (err) {
    if (!(err instanceof NoResponse)) throw err;
    if (!stop()) model.anomalies.push(`a connection died while the exchange was running: ${err.message}`);
  }
}

/** Funds every trader (acknowledged deposits) so that no order fails for money. */
export async function fundTraders(conn: RpcConnection, model: Model): Promise<void> {
  const amounts = [1000n * 10n ** 8n, 1000n * 10n ** 8n, 1_000_000n * 10n ** 8n];
  for (const user of TRADERS) {
    for (let asset = 0; asset < ASSETS.length; asset++) {
      await sendUpdate(conn, model, { user, asset, businessId: model.nextBusinessId(), change: amounts[asset]! });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks of a restarted exchange against the model; reconciles the model with what is found.

type Balances = Map<string, { available: bigint; freeze: bigint }>;

async function queryBalances(conn: RpcConnection): Promise<{ balances: Balances; totals: bigint[] }> {
  const balances: Balances = new Map();
  for (const user of ALL_USERS) {
    const r = await conn.ok<Record<string, { available: string; freeze: string }>>('balance.query', [user]);
    ASSETS.forEach((name, asset) => {
      const b = r[name];
      assert.ok(b !== undefined, `balance.query ${user} lacks ${name}`);
      balances.set(key(user, asset), { available: units(b.available), freeze: units(b.freeze) });
    });
  }
  const summary = await conn.ok<{ name: string; total_balance: string }[]>('asset.summary', []);
  const totals = ASSETS.map((name) => {
    const s = summary.find((x) => x.name === name);
    assert.ok(s !== undefined, `asset.summary lacks ${name}`);
    return units(s.total_balance);
  });
  return { balances, totals };
}

const total = (b: Balances, user: number, asset: number): bigint => {
  const cell = b.get(key(user, asset));
  return cell === undefined ? 0n : cell.available + cell.freeze;
};

/** Every sum of a subset of `changes` (at most 2^12 of them). */
function subsetSums(changes: readonly bigint[]): Set<bigint> {
  let sums = new Set<bigint>([0n]);
  for (const c of changes.slice(0, 12)) sums = new Set([...sums, ...[...sums].map((s) => s + c)]);
  return sums;
}

async function pendingOrders(conn: RpcConnection, user: number, market: number): Promise<OrderInfo[]> {
  const out: OrderInfo[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await conn.ok<{ total: number; records: OrderInfo[] }>('order.pending', [user, MARKETS[market]!.name, offset, 100]);
    out.push(...page.records);
    if (page.records.length < 100 || out.length >= page.total) return out;
  }
}

/**
 * Checks the restarted exchange against the model and returns the problems found (empty when
 * all is well); afterwards the model holds the recovered state as its acknowledged baseline.
 *  (a) acknowledged balance.updates are reflected exactly (depositors) and answered "repeat
 *      update" when sent again; acknowledged resting orders are pending with the acknowledged
 *      price, amount, source and ctime, unless an acknowledged cancel (or a fill) removed them;
 *      acknowledged cancels and fills stay done;
 *  (b) every in-flight balance.update was applied wholly or not at all: the recovered excess of
 *      each depositor's balance is a subset sum of its in-flight changes, and exactly the sum of
 *      those a retry answers "repeat update" (the others are accepted by the retry); a pending
 *      order the client never saw acknowledged is one in-flight place, whole;
 *  (c) for every asset, Σ (available + freeze) over all users incl. the fee account = acknowledged
 *      net deposits + the in-flight updates that were applied, and = asset.summary's total;
 *      every user's frozen amount = Σ of what its pending orders hold; nothing negative;
 *  (d) with (in driveConnection) order ids acknowledged in a run above every id seen before it.
 */
export async function checkRecovered(conn: RpcConnection, model: Model): Promise<string[]> {
  const problems: string[] = [];
  const stats = model.stats;

  // Balances as recovered, before anything is sent.
  const before = await queryBalances(conn);
  for (const [k, b] of before.balances) {
    if (b.available < 0n || b.freeze < 0n) problems.push(`negative balance ${k}: ${b.available} / ${b.freeze}`);
  }
  ASSETS.forEach((name, asset) => {
    const sum = ALL_USERS.reduce((s, user) => s + total(before.balances, user, asset), 0n);
    if (sum !== before.totals[asset]) problems.push(`${name}: Σ over the users ${sum} ≠ asset.summary total ${before.totals[asset]} (an unknown account holds funds)`);
  });

  // In-flight updates: retried with the same business id; "repeat update" = it had been applied.
  const applied: Update[] = [];
  for (const u of model.inFlightUpdates) {
    const r = await conn.call('balance.update', [u.user, ASSETS[u.asset], 'crash', u.businessId, formatUnits(u.change, PREC), {}]);
    if (r.error === null) {
      stats.inFlightUpdatesNotApplied++;
    } else if (r.error.code === 10 && r.error.message === 'repeat update') {
      applied.push(u);
      stats.inFlightUpdatesApplied++;
    } else {
      problems.push(`retry of in-flight update ${u.businessId} answered ${JSON.stringify(r.error)}`);
    }
  }
  for (const user of DEPOSITORS) {
    for (let asset = 0; asset < ASSETS.length; asset++) {
      const excess = total(before.balances, user, asset) - model.acked(user, asset);
      const mine = model.inFlightUpdates.filter((u) => u.user === user && u.asset === asset);
      if (!subsetSums(mine.map((u) => u.change)).has(excess)) {
        problems.push(`user ${user} ${ASSETS[asset]}: recovered − acknowledged = ${excess}, not a sum of in-flight updates [${mine.map((u) => u.change).join(', ')}]`);
      }
      const retried = applied.filter((u) => u.user === user && u.asset === asset).reduce((s, u) => s + u.change, 0n);
      if (retried !== excess) problems.push(`user ${user} ${ASSETS[asset]}: recovered − acknowledged = ${excess}, but the updates a retry found applied sum to ${retried}`);
    }
  }
  ASSETS.forEach((name, asset) => {
    const expected = model.netDeposits[asset]! + applied.filter((u) => u.asset === asset).reduce((s, u) => s + u.change, 0n);
    if (before.totals[asset] !== expected) {
      problems.push(`${name}: recovered total ${before.totals[asset]} ≠ acknowledged net deposits + applied in-flight updates ${expected}`);
    }
  });
  // Every in-flight update is applied exactly once now.
  for (const u of model.inFlightUpdates) {
    model.applyUpdate(u);
    model.ackedUpdates.push(u);
  }
  model.inFlightUpdates = [];

  // Acknowledged updates stay applied after the restart (P3): a sample is refused as repeated.
  const sample = model.ackedUpdates.filter((_, i) => i % Math.max(1, Math.floor(model.ackedUpdates.length / 5)) === 0).slice(0, 6);
  for (const u of sample) {
    const r = await conn.call('balance.update', [u.user, ASSETS[u.asset], 'crash', u.businessId, formatUnits(u.change, PREC), {}]);
    if (r.error?.message !== 'repeat update') problems.push(`acknowledged update ${u.businessId} sent again answered ${JSON.stringify(r)}`);
  }

  // Orders.
  const pending = new Map<number, OrderInfo & { marketIndex: number }>();
  for (const user of TRADERS) {
    for (let market = 0; market < MARKETS.length; market++) {
      for (const o of await pendingOrders(conn, user, market)) {
        if (pending.has(o.id)) problems.push(`order ${o.id} pending twice`);
        pending.set(o.id, { ...o, marketIndex: market });
      }
    }
  }
  const fields = (o: KnownOrder, p: OrderInfo): string[] => {
    const diff: string[] = [];
    if (p.user !== o.user) diff.push(`user ${p.user} ≠ ${o.user}`);
    if (p.market !== MARKETS[o.market]!.name) diff.push(`market ${p.market}`);
    if (p.side !== o.side) diff.push(`side ${p.side} ≠ ${o.side}`);
    if (toTicks(p.price) !== o.price) diff.push(`price ${p.price} ≠ ${ticks(o.price)}`);
    if (toLots(p.amount) !== o.amount) diff.push(`amount ${p.amount} ≠ ${lotsText(o.amount)}`);
    if (p.source !== o.source) diff.push(`source ${p.source} ≠ ${o.source}`);
    if (p.ctime !== o.ctime) diff.push(`ctime ${p.ctime} ≠ ${o.ctime}`);
    return diff;
  };
  const mayHaveTraded = (o: KnownOrder): boolean =>
    o.zone === 'active' && model.activeSent[o.market]!.some((x) => x.answeredAt > o.sentSeq && x.seq !== o.sentSeq && x.side !== o.side && (o.side === SIDE_ASK ? x.price >= o.price : x.price <= o.price));
  for (const o of model.orders.values()) {
    const p = pending.get(o.id);
    if (o.status !== 'open') {
      if (p !== undefined) problems.push(`order ${o.id} is pending again after an acknowledged ${o.status === 'cancelled' ? 'cancel' : 'fill'}`);
      continue;
    }
    stats.restingChecked++;
    if (p === undefined) {
      if (o.cancelSent) {
        o.status = 'cancelled';
        stats.inFlightCancelsApplied++;
      } else if (mayHaveTraded(o)) {
        o.status = 'gone';
      } else {
        problems.push(`acknowledged ${o.zone} order ${o.id} (user ${o.user}, ${MARKETS[o.market]!.name}) is missing`);
      }
      continue;
    }
    const diff = fields(o, p);
    const left = toLots(p.left);
    if (o.zone === 'quiet' && (left !== o.left || p.mtime !== o.mtime)) diff.push(`left ${p.left} / mtime ${p.mtime} ≠ ${lotsText(o.left)} / ${o.mtime}`);
    if (o.zone === 'active' && left > o.left) diff.push(`left ${p.left} > acknowledged ${lotsText(o.left)}`);
    if (o.zone === 'active' && left < o.left && !mayHaveTraded(o)) diff.push(`left ${p.left} < acknowledged ${lotsText(o.left)} with no crossing order sent`);
    if (diff.length > 0) problems.push(`order ${o.id}: ${diff.join(', ')}`);
    o.left = left;
    o.cancelSent = false;
  }
  // Pending orders the client never saw acknowledged: each one an in-flight place, whole.
  const unmatched = [...model.inFlightPuts];
  for (const p of pending.values()) {
    if (model.orders.has(p.id)) continue;
    const amount = toLots(p.amount);
    const left = toLots(p.left);
    const at = unmatched.findIndex((x) => x.user === p.user && x.market === p.marketIndex && x.side === p.side && x.price === toTicks(p.price)
      && x.amount === amount && x.source === p.source && (x.zone === 'quiet' ? left === amount : left <= amount));
    if (at < 0) {
      problems.push(`pending order ${p.id} (${JSON.stringify(p)}) matches no in-flight place`);
      continue;
    }
    const put = unmatched.splice(at, 1)[0]!;
    stats.inFlightPlacesRecovered++;
    model.seeId(p.id);
    model.orders.set(p.id, {
      id: p.id, user: put.user, market: put.market, side: put.side, price: put.price, amount: put.amount, source: put.source,
      ctime: p.ctime, mtime: p.mtime, zone: put.zone, sentSeq: put.seq, left, status: 'open', cancelSent: false,
    });
  }
  stats.inFlightPlacesLost += unmatched.length;
  model.inFlightPuts = [];

  // Balances after the retries: exact for depositors; totals = every deposit; freezes = the orders' holds.
  const after = await queryBalances(conn);
  for (const user of DEPOSITORS) {
    for (let asset = 0; asset < ASSETS.length; asset++) {
      const got = total(after.balances, user, asset);
      if (got !== model.acked(user, asset)) problems.push(`user ${user} ${ASSETS[asset]}: ${got} after the retries ≠ ${model.acked(user, asset)}`);
    }
  }
  ASSETS.forEach((name, asset) => {
    if (after.totals[asset] !== model.netDeposits[asset]) problems.push(`${name}: total ${after.totals[asset]} after the retries ≠ net deposits ${model.netDeposits[asset]}`);
  });
  const holds = new Map<string, bigint>();
  for (const p of pending.values()) {
    const m = MARKETS[p.marketIndex]!;
    const left = BigInt(toLots(p.left));
    const k = p.side === SIDE_ASK ? key(p.user, m.stock) : key(p.user, m.money);
    holds.set(k, (holds.get(k) ?? 0n) + (p.side === SIDE_ASK ? left * UNITS_PER_LOT : BigInt(toTicks(p.price)) * left * DEAL_MUL));
  }
  for (const user of ALL_USERS) {
    for (let asset = 0; asset < ASSETS.length; asset++) {
      const freeze = after.balances.get(key(user, asset))?.freeze ?? 0n;
      const held = holds.get(key(user, asset)) ?? 0n;
      if (freeze !== held) problems.push(`user ${user} ${ASSETS[asset]}: freeze ${freeze} ≠ Σ of its pending orders' holds ${held}`);
    }
  }

  // The offline replay of the journal (taken between the kill and this start) saw this state.
  if (model.offline !== null) {
    const summary = await conn.ok<{ name: string; ask_count: number; bid_count: number }[]>('market.summary', []);
    for (const s of summary) {
      const offline = model.offline.restingOrders[s.name];
      if (offline === undefined || offline.asks !== s.ask_count || offline.bids !== s.bid_count) {
        problems.push(`${s.name}: the offline replay found ${JSON.stringify(offline)} resting orders, the restarted exchange ${s.ask_count} asks / ${s.bid_count} bids`);
      }
    }
    const counted = [...pending.values()].length;
    const resting = Object.values(model.offline.restingOrders).reduce((n, x) => n + x.asks + x.bids, 0);
    if (counted !== resting) problems.push(`the traders have ${counted} pending orders, the offline replay found ${resting}`);
    if (!(model.offline.nextOrderId > model.maxIdSeen)) problems.push(`offline replay: next order id ${model.offline.nextOrderId} ≤ an id already seen (${model.maxIdSeen})`);
  }
  model.idsBeforeRun = model.maxIdSeen;
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Offline, between a kill and the next start.

/**
 * Reads the journal as recovery will keep it (frames of epochs ≤ the durable epoch) and checks
 * that deal ids never go backwards: strictly increasing along each shard's log, across every
 * run so far (and so unique), and that the replay CLI sees every order id acknowledged so far.
 * Returns the problems and the replay CLI's summary.
 */
export function checkJournalOffline(dir: string, configPath: string, model: Model): { problems: string[]; summary: ReplaySummary | null } {
  const problems: string[] = [];
  const durable = readDurableEpoch(dir);
  const seen = new Set<number>();
  let deals = 0;
  let maxDeal = 0;
  for (const shard of listSegments(dir).keys()) {
    let last = 0;
    readShardLog(dir, shard, (frame) => {
      if (frame.epoch > durable || frame.kind !== PayloadKind.EVENTS) return;
      const { events, strings } = readEventsPayload(frame.bytes.subarray(frame.payloadAt, frame.payloadAt + frame.payloadBytes));
      for (const e of decodeEvents(events, strings)) {
        if (e.kind !== EventKind.DEAL) continue;
        deals++;
        if (!(e.id > last)) problems.push(`shard ${shard}: deal id ${e.id} after ${last} (epoch ${frame.epoch})`);
        if (seen.has(e.id)) problems.push(`deal id ${e.id} used twice`);
        seen.add(e.id);
        last = Math.max(last, e.id);
        maxDeal = Math.max(maxDeal, e.id);
      }
    });
  }
  const cli = runReplayCli(['--dir', dir, '--config', configPath, '--json']);
  if (cli.code !== 0) {
    problems.push(`replay CLI failed (${cli.code}): ${cli.stderr}`);
    return { problems, summary: null };
  }
  const summary = JSON.parse(cli.stdout) as ReplaySummary;
  if (!(summary.nextOrderId > model.maxIdSeen)) problems.push(`replay CLI: next order id ${summary.nextOrderId} ≤ an acknowledged id ${model.maxIdSeen}`);
  if (summary.nextDealId < model.lastNextDealId) problems.push(`replay CLI: next deal id ${summary.nextDealId} went back from ${model.lastNextDealId}`);
  if (deals > 0 && !(summary.nextDealId > maxDeal)) problems.push(`replay CLI: next deal id ${summary.nextDealId} ≤ a durable deal id`);
  model.lastNextDealId = summary.nextDealId;
  return { problems, summary };
}
