/**
 * The whole exchange in one process: `npm start [-- --config path.json]`.
 * Loads and validates the config (embedded defaults without --config), starts the sharded engine
 * (engine.shards worker threads behind the router), serves HTTP JSON-RPC and the WebSocket API,
 * and stops cleanly on SIGINT or SIGTERM (gateways closed, shards drained); SIGUSR2 takes a
 * journal snapshot now. A shard failure is fatal: the engine stops accepting orders and the
 * process exits non-zero for the watchdog.
 * Every acknowledged operation is journaled under --data-dir (default ./data) and recovered at
 * the next start.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './conf/load.js';
import { Router } from './engine/router/router.js';
import { ShardedEngineClient } from './gateway/engine-client.js';
import { startHttpGateway } from './gateway/http/server.js';
import { startWsGateway } from './gateway/ws/server.js';

const logger = pino({ name: 'viaduct' });

// The gateway's thread scavenges alone when the machine has no core to spare for V8's parallel
// GC helpers (the shard workers take the others): helpers that wait for a core stretch every
// scavenge pause of this thread, during which no socket is served (measured on 2 cores, HTTP
// order load: scavenges of 2.0 ms at the median, 5.4 ms at p90, against 0.9 and 2.3 ms alone).
// The flag is read at each scavenge; it also applies to the shard workers, which rarely collect.
if (availableParallelism() <= 2) setFlagsFromString('--no-parallel-scavenge');

function cliOptions(): { config: string | undefined; dataDir: string } {
  const { values } = parseArgs({
    options: { config: { type: 'string', short: 'c' }, 'data-dir': { type: 'string', short: 'd', default: 'data' } },
    strict: true,
  });
  return { config: values.config, dataDir: values['data-dir'] };
}

async function main(): Promise<void> {
  const options = cliOptions();
  const loaded = loadConfig(options.config);
  // The journal lives in the config's journal.dir, else under --data-dir (default ./data).
  const config = { ...loaded, journal: { ...loaded.journal, dir: loaded.journal.dir ?? join(options.dataDir, 'journal') } };
  const router = await Router.start(config, { log: (line) => logger.warn(line) });
  if (router.recovery !== null) {
    const { replay, durableEpoch, snapshot } = router.recovery;
    logger.info({ dir: config.journal.dir, durable_epoch: durableEpoch, snapshot: snapshot?.path ?? null, events: replay.events, frames: replay.frames }, 'recovered from the journal');
  }
  logger.info({ shards: config.engine.shards, markets: config.markets.map((m, i) => `${m.name}@${router.shardOfMarket[i]}`) }, 'engine started');
  const client = new ShardedEngineClient(router);
  const gateway = await startHttpGateway({ http: config.http, services: [client], logger });
  const ws = await startWsGateway(client, config, { logger });
  logger.info({ host: config.ws.host, port: ws.port }, 'WebSocket listening');
  logger.info(
    { host: config.http.host, port: gateway.port, admin_port: gateway.adminPort, admin_public_access: config.http.admin.public_access },
    'HTTP JSON-RPC listening',
  );
  if (gateway.unavailable.size > 0) {
    logger.info({ methods: [...gateway.unavailable] }, 'these methods answer "service unavailable" until their services run');
  }
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    logger.info({ signal }, 'shutting down');
    gateway.close();
    await ws.close();
    await router.stop();
    process.exit(router.error === null ? 0 : 1);
  };
  router.onFailure((err) => {
    logger.fatal({ err }, 'a shard failed: the engine stopped accepting orders');
    void stop('SIGTERM');
  });
  process.once('SIGINT', (signal) => void stop(signal));
  process.once('SIGTERM', (signal) => void stop(signal));
  // A snapshot on demand, as the original's `makeslice`: `kill -USR2 <pid>` (one at a time).
  process.on('SIGUSR2', () => {
    router.snapshot().then(
      (s) => logger.info({ path: s.path, epoch: s.epoch, pause_ms: Number(s.pauseMs.toFixed(2)), write_ms: Math.round(s.writeMs), bytes: s.bytes, deleted_segments: s.deletedSegments }, 'snapshot taken'),
      (err: unknown) => logger.error({ err }, 'snapshot failed'),
    );
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${err.message}\n`);
  } else {
    logger.fatal({ err }, 'start-up failed');
  }
  process.exit(1);
});
