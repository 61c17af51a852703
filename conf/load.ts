/**
 * Loads and validates the configuration once at start-up. Errors name the offending key.
 */
import { readFileSync } from 'node:fs';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import { defaultConfig } from './defaults.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates a config object (already parsed JSON) and returns it frozen. Throws ConfigError. */
export function validateConfig(input: unknown): Readonly<Config> {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  checkReferences(config);
  return deepFreeze(config);
}

/** Reads a JSON config file; with no path, returns the embedded defaults. */
export function loadConfig(path?: string): Readonly<Config> {
  if (path === undefined) return validateConfig(defaultConfig satisfies ConfigInput);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return validateConfig(json);
}

function checkReferences(config: Config): void {
  const problems: string[] = [];
  const assets = new Map<string, Config['assets'][number]>();
  config.assets.forEach((asset, i) => {
    if (assets.has(asset.name)) problems.push(`assets.${i}.name: duplicate asset ${asset.name}`);
    assets.set(asset.name, asset);
    if (asset.prec_show !== undefined && asset.prec_show > asset.prec_save) {
      problems.push(`assets.${i}.prec_show: ${asset.prec_show} is more than prec_save ${asset.prec_save}`);
    }
  });
  const markets = new Set<string>();
  config.markets.forEach((market, i) => {
    if (markets.has(market.name)) problems.push(`markets.${i}.name: duplicate market ${market.name}`);
    markets.add(market.name);
    const stock = assets.get(market.stock.name);
    const money = assets.get(market.money.name);
    if (stock === undefined) problems.push(`markets.${i}.stock.name: unknown asset ${market.stock.name}`);
    if (money === undefined) problems.push(`markets.${i}.money.name: unknown asset ${market.money.name}`);
    if (market.stock.name === market.money.name) problems.push(`markets.${i}: stock and money are the same asset`);
    // Amounts must be exact in stock balances: an amount's smallest unit may not be finer than the balance's.
    if (stock !== undefined && market.stock.prec > stock.prec_save) {
      problems.push(`markets.${i}.stock.prec: ${market.stock.prec} is more than ${stock.name}.prec_save ${stock.prec_save}`);
    }
    // Market buys spend a money amount given with stock_prec decimals (as in the original).
    if (money !== undefined && market.stock.prec > money.prec_save) {
      problems.push(`markets.${i}.stock.prec: ${market.stock.prec} is more than ${money.name}.prec_save ${money.prec_save} (market buys spend money with stock_prec decimals)`);
    }
    if (!/^\d+(\.\d+)?$/.test(market.min_amount)) {
      problems.push(`markets.${i}.min_amount: "${market.min_amount}" is not a plain positive decimal`);
    } else {
      const decimals = market.min_amount.split('.')[1]?.replace(/0+$/, '').length ?? 0;
      if (decimals > market.stock.prec) problems.push(`markets.${i}.min_amount: more decimals than stock.prec ${market.stock.prec}`);
      if (/^[0.]+$/.test(market.min_amount)) problems.push(`markets.${i}.min_amount: must be more than 0`);
    }
  });
  for (const [name, shard] of Object.entries(config.engine.assignment)) {
    if (!markets.has(name)) problems.push(`engine.assignment.${name}: unknown market`);
    if (shard >= config.engine.shards) problems.push(`engine.assignment.${name}: shard ${shard} but engine.shards is ${config.engine.shards}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
