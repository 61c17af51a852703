/**
 * The whole exchange in one process: `npm start [-- --config path.json]`.
 * Loads and validates the config (embedded defaults without --config), builds the engine behind an
 * in-process client, serves HTTP JSON-RPC, and stops cleanly on SIGINT or SIGTERM.
 * State lives in memory until the journal lands.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './conf/load.js';
import { Engine } from './engine/engine.js';
import { InProcessEngineClient } from './gateway/engine-client.js';
import { startHttpGateway } from './gateway/http/server.js';

const logger = pino({ name: 'viaduct' });

function configPath(): string | undefined {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } }, strict: true });
  return values.config;
}

async function main(): Promise<void> {
  const config = loadConfig(configPath());
  const engine = new Engine(config);
  const gateway = await startHttpGateway({ http: config.http, services: [new InProcessEngineClient(engine)], logger });
  logger.info(
    { host: config.http.host, port: gateway.port, admin_port: gateway.adminPort, admin_public_access: config.http.admin.public_access },
    'HTTP JSON-RPC listening',
  );
  if (gateway.unavailable.size > 0) {
    logger.info({ methods: [...gateway.unavailable] }, 'these methods answer "service unavailable" until their services run');
  }
  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${err.message}\n`);
  } else {
    logger.fatal({ err }, 'start-up failed');
  }
  process.exit(1);
});
