/**
 * Operator command: replays a journal directory offline (latest intact snapshot + journal up to
 * the durable epoch) into a fresh engine holding every market, and prints the state hash and
 * counts. Read-only: it never truncates or deletes anything. The durable epoch is --durable-epoch,
 * else, when the directory has a commit log, what the exchange recovers at its next start (the
 * commit log's floor and the CLOSE frames: frames of later epochs were never acknowledged), else
 * what the CLOSE frames prove, else the shards' seals.
 *
 *   node dist/engine/journal/replay-cli.js --dir <journal dir> [--config <file>] [--durable-epoch <n>] [--json]
 *
 * Exit codes: 0 done (damaged tails are reported, not errors), 1 failure, 2 bad arguments.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../conf/load.js';
import { SIDE_ASK, SIDE_BID } from '../book/order-columns.js';
import { Engine } from '../engine.js';
import { closedEpoch } from './closes.js';
import { COMMIT_LOG, readCommitLog } from './commit-log.js';
import { MAX_EPOCH } from './format.js';
import { recover, type RecoveryReport } from './recover.js';
import { describeCut } from './segment-reader.js';
import { stateHash } from './state-hash.js';

const USAGE = 'usage: replay-cli --dir <journal dir> [--config <file>] [--durable-epoch <n>] [--json]';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ReplaySummary {
  readonly stateHash: string;
  readonly snapshot: RecoveryReport['snapshot'];
  readonly durableEpoch: number | 'all';
  readonly durableFrom: RecoveryReport['durableFrom'] | 'commit-log';
  readonly users: number;
  readonly restingOrders: Record<string, { asks: number; bids: number }>;
  readonly eventsReplayed: number;
  readonly framesReplayed: number;
  readonly epochsReplayed: number;
  readonly firstEpoch: number;
  readonly lastEpoch: number;
  readonly nextOrderId: number;
  readonly nextDealId: number;
  readonly shards: { shard: number; segments: number; frames: number; lastEpoch: number; lastSealedEpoch: number }[];
  readonly cuts: string[];
}

/** Runs the command with `argv` (the arguments after the script). */
export function runReplayCli(argv: readonly string[]): CliResult {
  let values: { dir?: string | undefined; config?: string | undefined; 'durable-epoch'?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { dir: { type: 'string' }, config: { type: 'string' }, 'durable-epoch': { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return { code: 2, stdout: '', stderr: `${(err as Error).message}\n${USAGE}\n` };
  }
  if (values.dir === undefined) return { code: 2, stdout: '', stderr: `--dir is required\n${USAGE}\n` };
  let durableEpoch: number | undefined;
  if (values['durable-epoch'] !== undefined) {
    durableEpoch = Number(values['durable-epoch']);
    if (!Number.isSafeInteger(durableEpoch) || durableEpoch < 0) return { code: 2, stdout: '', stderr: `--durable-epoch must be an integer ≥ 0\n${USAGE}\n` };
  }

  const logLines: string[] = [];
  try {
    const config = loadConfig(values.config);
    const engine = new Engine(config);
    // As the exchange's start-up recovery does (router/recovery.ts, commit-log.ts readDurableEpoch): the
    // larger of the commit log's floor and what the shard logs' CLOSE frames prove.
    let from: 'commit-log' | 'closes' | null = null;
    if (durableEpoch === undefined) {
      const floor = readCommitLog(values.dir);
      const closed = closedEpoch(values.dir, floor);
      if (closed !== null && closed >= floor) from = 'closes';
      else if (existsSync(join(values.dir, COMMIT_LOG))) from = 'commit-log';
      if (from !== null) durableEpoch = Math.max(floor, closed ?? -1);
    }
    const report = recover(values.dir, [engine], {
      ...(durableEpoch === undefined ? {} : { durableEpoch }),
      log: (line) => logLines.push(line),
    });
    const summary = { ...summarize(engine, report), ...(from === null ? {} : { durableFrom: from }) };
    const stdout = values.json === true ? `${JSON.stringify(summary, null, 2)}\n` : format(summary);
    return { code: 0, stdout, stderr: logLines.map((l) => `${l}\n`).join('') };
  } catch (err) {
    return { code: 1, stdout: '', stderr: `${logLines.map((l) => `${l}\n`).join('')}replay failed: ${(err as Error).message}\n` };
  }
}

function summarize(engine: Engine, report: RecoveryReport): ReplaySummary {
  const restingOrders: Record<string, { asks: number; bids: number }> = {};
  for (const market of engine.specs.markets) {
    const book = engine.books[market.index];
    if (book === null || book === undefined) continue;
    restingOrders[market.name] = { asks: book.orderCount(SIDE_ASK), bids: book.orderCount(SIDE_BID) };
  }
  const r = report.replay;
  return {
    stateHash: stateHash([engine]),
    snapshot: report.snapshot,
    durableEpoch: report.durableEpoch === MAX_EPOCH ? 'all' : report.durableEpoch,
    durableFrom: report.durableFrom,
    users: engine.balances.users.size,
    restingOrders,
    eventsReplayed: r.events,
    framesReplayed: r.frames,
    epochsReplayed: r.epochs,
    firstEpoch: r.firstEpoch,
    lastEpoch: r.lastEpoch,
    nextOrderId: engine.nextOrderId,
    nextDealId: engine.nextDealId,
    shards: report.shards.map((s) => ({ shard: s.shard, segments: s.segments, frames: s.frames, lastEpoch: s.lastEpoch, lastSealedEpoch: s.lastSealedEpoch })),
    cuts: report.cuts.map(describeCut),
  };
}

function format(s: ReplaySummary): string {
  const lines = [
    `state hash:      ${s.stateHash}`,
    `snapshot:        ${s.snapshot === null ? 'none' : `${s.snapshot.path} (epoch ${s.snapshot.epoch})`}`,
    `durable epoch:   ${s.durableEpoch} (${s.durableFrom})`,
    `replayed:        ${s.eventsReplayed} events in ${s.framesReplayed} frames, ${s.epochsReplayed} epochs`
      + (s.epochsReplayed > 0 ? ` (${s.firstEpoch}…${s.lastEpoch})` : ''),
    `users:           ${s.users}`,
    `next ids:        order ${s.nextOrderId}, deal ${s.nextDealId}`,
    'resting orders:',
    ...Object.entries(s.restingOrders).map(([name, n]) => `  ${name.padEnd(15)} asks ${n.asks}, bids ${n.bids}`),
    'shards:',
    ...s.shards.map((x) => `  ${x.shard}: ${x.segments} segment(s), ${x.frames} frames, last epoch ${x.lastEpoch}, last sealed ${x.lastSealedEpoch}`),
    s.cuts.length === 0 ? 'tail cuts:       none' : 'tail cuts:',
    ...s.cuts.map((c) => `  ${c}`),
  ];
  return `${lines.join('\n')}\n`;
}

function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const result = runReplayCli(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.code;
}
