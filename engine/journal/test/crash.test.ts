/**
 * Crash test: the whole exchange (`node dist/main.js`) as a child process under load from several
 * HTTP keep-alive connections, killed with SIGKILL at seeded random moments and restarted on the
 * same journal directory, again and again; after each restart the state must hold everything a
 * client saw acknowledged, nothing half-applied, every asset conserved, ids never going back (see
 * crash-harness.ts, checkRecovered and checkJournalOffline, for each check).
 *
 * Why the real process: an acknowledgement is what a client receives, so the test is a client of
 * the program operators run — gateway, router and shard workers (which commit epochs) die together,
 * as in a real crash, and nothing in the test can see state the client could not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  checkJournalOffline, checkRecovered, crashConfig, driveConnection, fundTraders, killExchange, logLine, Model, RpcConnection,
  sleep, startExchange, writeConfig, type RoundStats,
} from './crash-harness.js';
import { listSnapshots } from '../snapshot.js';
import { Rng } from './workload.js';

interface CrashPlan {
  readonly seed: number;
  readonly durability: 'fsync' | 'none';
  /** Kills while the load runs. */
  readonly loadKills: number;
  /** Rounds (0-based) in which the exchange is killed while it starts (recovering), before any load. */
  readonly startupKills: readonly number[];
  readonly shardsOf: (round: number) => number;
  /** Rounds that take periodic snapshots (journal.snapshot_interval_s 1) and run longer, so that some land under load. */
  readonly snapshotsIn: (round: number) => boolean;
  readonly connections: number;
}

const LOAD: readonly (keyof RoundStats)[] = ['acked', 'ackedUpdates', 'ackedPlaces', 'ackedCancels', 'inFlight'];
const RESTART: readonly (keyof RoundStats)[] = [
  'inFlightUpdatesApplied', 'inFlightUpdatesNotApplied', 'inFlightPlacesRecovered', 'inFlightPlacesLost', 'inFlightCancelsApplied', 'restingChecked',
];
const diff = (keys: readonly (keyof RoundStats)[], a: RoundStats, b: RoundStats): string => keys.map((k) => `${k} ${a[k] - b[k]}`).join(', ');

/** Runs the plan; returns the cumulative counts. */
async function crashRounds(t: TestContext, plan: CrashPlan): Promise<{ stats: RoundStats; snapshotted: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'crash-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'config.json');
  const dataDir = join(dir, 'data');
  const journalDir = join(dataDir, 'journal');
  const rng = new Rng(plan.seed);
  const model = new Model();
  const rounds = plan.loadKills + plan.startupKills.length;
  let loadKills = 0;
  let startupKills = 0;
  /** Kills after which the journal directory held a snapshot. */
  let snapshotted = 0;
  for (let round = 0; round <= rounds; round++) {
    const last = round === rounds;
    const shards = plan.shardsOf(round);
    const snapshots = plan.snapshotsIn(round);
    writeConfig(configPath, crashConfig(shards, plan.durability, snapshots ? 1 : 0));
    const exchange = startExchange(dataDir, configPath);
    const connections: RpcConnection[] = [];
    try {
      if (!last && plan.startupKills.includes(round)) {
        const delay = rng.int(20, 400);
        await sleep(delay);
        await killExchange(exchange);
        startupKills++;
        const offline = checkJournalOffline(journalDir, configPath, model);
        assert.deepEqual(offline.problems, [], `round ${round}: journal after a kill during start-up`);
        model.offline = offline.summary;
        t.diagnostic(`round ${round}: ${shards} shard(s), killed ${delay} ms after spawn (while starting: recovering or about to listen)`);
        continue;
      }
      const port = (await logLine(exchange, 'HTTP JSON-RPC listening')).port as number;
      const admin = new RpcConnection(port);
      connections.push(admin);
      const beforeCheck = { ...model.stats };
      const problems = await checkRecovered(admin, model);
      assert.deepEqual(problems, [], `round ${round}: the restarted exchange lost or half-applied something`);
      t.diagnostic(`round ${round}: started with ${shards} shard(s); checked (in flight at the last kill → outcome): ${diff(RESTART, model.stats, beforeCheck)}`);
      if (round === 0) await fundTraders(admin, model);
      if (last) break;

      let stop = false;
      const loads = Array.from({ length: plan.connections }, () => {
        const conn = new RpcConnection(port);
        connections.push(conn);
        return driveConnection(conn, new Rng(rng.u32()), model, () => stop);
      });
      const delay = snapshots ? rng.int(700, 1600) : rng.int(100, 700);
      const ackedBefore = model.stats.acked;
      const beforeLoad = { ...model.stats };
      // The kill comes `delay` ms after the first acknowledgement of the load (bounded wait for it).
      for (let i = 0; i < 2000 && model.stats.acked === ackedBefore && model.anomalies.length === 0; i++) await sleep(5);
      await sleep(delay);
      stop = true;
      exchange.child.kill('SIGKILL');
      await Promise.all(loads);
      await killExchange(exchange);
      loadKills++;
      assert.deepEqual(model.anomalies, [], `round ${round}: unexpected answers under load`);
      assert.ok(model.stats.acked > ackedBefore, `round ${round}: no request was acknowledged before the kill`);

      const offline = checkJournalOffline(journalDir, configPath, model);
      assert.deepEqual(offline.problems, [], `round ${round}: journal after the kill`);
      model.offline = offline.summary;
      if (listSnapshots(journalDir).length > 0) snapshotted++;
      t.diagnostic(`round ${round}: killed ${delay} ms after the load's first acknowledgement — ${diff(LOAD, model.stats, beforeLoad)}`);
    } finally {
      for (const conn of connections) conn.close();
      await killExchange(exchange);
    }
  }
  assert.equal(loadKills, plan.loadKills);
  assert.equal(startupKills, plan.startupKills.length);
  t.diagnostic(`kills after which the journal held a snapshot: ${snapshotted}`);
  return { stats: model.stats, snapshotted };
}

test('SIGKILL 17 times (14 under load, 3 while starting), fsync: nothing acknowledged is lost, nothing half-applied', { timeout: 150_000 }, async (t) => {
  const { stats, snapshotted } = await crashRounds(t, {
    seed: 0xc2a5_0001,
    durability: 'fsync',
    loadKills: 14,
    startupKills: [4, 9, 15],
    shardsOf: (round) => (round % 4 === 2 ? 1 : 2), // mostly 2 shards; some restarts change the shard count
    snapshotsIn: (round) => round % 3 === 1,
    connections: 8,
  });
  t.diagnostic(`totals: ${JSON.stringify(stats)}`);
  assert.ok(stats.acked >= 100, 'enough acknowledged requests to mean something');
  assert.ok(stats.inFlight > 0, 'some requests were in flight at a kill');
  assert.ok(stats.restingChecked > 0, 'acknowledged resting orders were checked after restarts');
  assert.ok(snapshotted > 0, 'some kills hit a journal with a snapshot (recovery = snapshot + tail)');
});

test('SIGKILL under load with journal.durability "none": a process crash loses nothing acknowledged (the OS keeps written data)', { timeout: 120_000 }, async (t) => {
  const { stats } = await crashRounds(t, {
    seed: 0xc2a5_0002,
    durability: 'none',
    loadKills: 6,
    startupKills: [],
    shardsOf: () => 2,
    snapshotsIn: (round) => round === 3,
    connections: 8,
  });
  t.diagnostic(`totals: ${JSON.stringify(stats)}`);
  assert.ok(stats.acked >= 100, 'enough acknowledged requests to mean something');
  assert.ok(stats.inFlight > 0, 'some requests were in flight at a kill');
});
