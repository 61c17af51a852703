/**
 * validateConfig / loadConfig: strict keys at every level, bad values named by their key path,
 * clear errors for unreadable files, the embedded defaults pinned, and a frozen result.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, validateConfig } from '../load.js';

/** A small valid config; each test gets a fresh copy to spoil. */
function base(): Record<string, unknown> & { assets: Record<string, unknown>[]; markets: Record<string, unknown>[] } {
  return {
    assets: [
      { name: 'BTC', prec_save: 12, prec_show: 8 },
      { name: 'BCH', prec_save: 12, prec_show: 8 },
    ],
    markets: [
      { name: 'BTCBCH', stock: { name: 'BTC', prec: 8 }, money: { name: 'BCH', prec: 4 }, fee_prec: 4, min_amount: '0.001' },
    ],
  };
}

/** validateConfig throws a ConfigError whose message matches every pattern. */
function invalid(input: unknown, patterns: RegExp[], label: string): void {
  assert.throws(() => validateConfig(input), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `${label}: not a ConfigError: ${String(err)}`);
    assert.equal(err.name, 'ConfigError');
    for (const pattern of patterns) assert.match(err.message, pattern, label);
    return true;
  }, label);
}

/** base() with `change` applied to a copy. */
function spoiled(change: (c: ReturnType<typeof base>) => void): ReturnType<typeof base> {
  const c = base();
  change(c);
  return c;
}

const market0 = (c: ReturnType<typeof base>): Record<string, unknown> => c.markets[0]!;
const stock0 = (c: ReturnType<typeof base>): Record<string, unknown> => market0(c).stock as Record<string, unknown>;

test('the small base config is valid and gets its defaults', () => {
  const config = validateConfig(base());
  assert.equal(config.markets[0]!.fee_prec, 4);
  assert.equal(config.engine.fee_account, 0);
  const bare = base().markets[0]!;
  delete bare.fee_prec;
  delete bare.min_amount;
  const withDefaults = validateConfig({ ...base(), markets: [bare] });
  assert.equal(withDefaults.markets[0]!.fee_prec, 4, 'fee_prec defaults to 4');
  assert.equal(withDefaults.markets[0]!.min_amount, '0.01', 'min_amount defaults to "0.01"');
  assert.equal(validateConfig({ ...base(), assets: [{ name: 'BTC', prec_save: 12 }, { name: 'BCH', prec_save: 12 }] }).assets[0]!.prec_show, undefined);
});

test('unknown keys are rejected at every level, naming the key and its path', () => {
  invalid({ ...base(), extra: 1 }, [/\(root\)/, /"extra"/], 'root');
  invalid(spoiled((c) => { c.assets[1]!.colour = 'red'; }), [/assets\.1\b/, /"colour"/], 'assets[1]');
  invalid(spoiled((c) => { market0(c).tick = 1; }), [/markets\.0\b/, /"tick"/], 'markets[0]');
  invalid(spoiled((c) => { stock0(c).scale = 1; }), [/markets\.0\.stock\b/, /"scale"/], 'markets[0].stock');
  invalid(spoiled((c) => { (market0(c).money as Record<string, unknown>).scale = 1; }), [/markets\.0\.money\b/, /"scale"/], 'markets[0].money');
  invalid({ ...base(), engine: { fee_acount: 5 } }, [/engine\b/, /"fee_acount"/], 'engine (a typo)');
  // a typo is not silently ignored even next to valid keys
  invalid({ ...base(), engine: { fee_account: 5, max_user: 100 } }, [/engine\b/, /"max_user"/], 'engine, mixed');
});

test('a config that is not an object, or has no assets, is rejected', () => {
  for (const input of [null, undefined, [], 'config', 42]) invalid(input, [/\(root\)/], String(input));
  invalid({ markets: [] }, [/assets/], 'no assets');
  invalid({ assets: [], markets: [] }, [/assets/], 'empty assets');
  invalid({ assets: base().assets }, [/markets/], 'no markets');
});

test('bad precisions are rejected: negative, above 18, not an integer, not a number', () => {
  for (const bad of [-1, 19, 1.5, '8', null, NaN, Infinity]) {
    invalid(spoiled((c) => { c.assets[0]!.prec_save = bad; }), [/assets\.0\.prec_save/], `prec_save ${String(bad)}`);
    invalid(spoiled((c) => { c.assets[1]!.prec_show = bad; }), [/assets\.1\.prec_show/], `prec_show ${String(bad)}`);
    invalid(spoiled((c) => { stock0(c).prec = bad; }), [/markets\.0\.stock\.prec/], `stock.prec ${String(bad)}`);
    invalid(spoiled((c) => { (market0(c).money as Record<string, unknown>).prec = bad; }), [/markets\.0\.money\.prec/], `money.prec ${String(bad)}`);
    invalid(spoiled((c) => { market0(c).fee_prec = bad; }), [/markets\.0\.fee_prec/], `fee_prec ${String(bad)}`);
  }
  invalid(spoiled((c) => { delete c.assets[0]!.prec_save; }), [/assets\.0\.prec_save/], 'prec_save missing');
  // the extremes are fine
  validateConfig({ assets: [{ name: 'A', prec_save: 0 }, { name: 'B', prec_save: 18 }], markets: [] });
});

test('prec_show above prec_save is rejected', () => {
  invalid(spoiled((c) => { c.assets[0]!.prec_show = 13; }), [/assets\.0\.prec_show: 13 is more than prec_save 12/], 'prec_show 13');
  validateConfig(spoiled((c) => { c.assets[0]!.prec_show = 12; }));
});

test('bad names are rejected', () => {
  for (const bad of ['', 'B C', 'X'.repeat(16), 'BTC€', 'BTC/BCH', 'a.b', 5, null]) {
    invalid({ assets: [{ name: bad, prec_save: 8 }], markets: [] }, [/assets\.0\.name/], `asset name ${JSON.stringify(bad)}`);
    invalid(spoiled((c) => { market0(c).name = bad; }), [/markets\.0\.name/], `market name ${JSON.stringify(bad)}`);
  }
  validateConfig({ assets: [{ name: 'A-b_9'.padEnd(15, 'z'), prec_save: 8 }], markets: [] });
});

test('duplicate names, unknown assets and stock = money are rejected', () => {
  invalid(spoiled((c) => { c.assets.push({ name: 'BTC', prec_save: 8 }); }), [/assets\.2\.name: duplicate asset BTC/], 'duplicate asset');
  invalid(spoiled((c) => { c.markets.push({ ...market0(c) }); }), [/markets\.1\.name: duplicate market BTCBCH/], 'duplicate market');
  invalid(spoiled((c) => { stock0(c).name = 'LTC'; }), [/markets\.0\.stock\.name: unknown asset LTC/], 'unknown stock');
  invalid(spoiled((c) => { (market0(c).money as Record<string, unknown>).name = 'USD'; }), [/markets\.0\.money\.name: unknown asset USD/], 'unknown money');
  invalid(spoiled((c) => { (market0(c).money as Record<string, unknown>).name = 'BTC'; }), [/markets\.0: stock and money are the same asset/], 'stock = money');
});

test('a market whose precisions the assets cannot hold is rejected', () => {
  invalid(spoiled((c) => { c.assets[0]!.prec_save = 6; c.assets[0]!.prec_show = 6; }), [/markets\.0\.stock\.prec: 8 is more than BTC\.prec_save 6/], 'stock.prec > stock prec_save');
  // market buys spend money given with stock_prec places
  invalid(spoiled((c) => { c.assets[1]!.prec_save = 6; c.assets[1]!.prec_show = 6; }), [/markets\.0\.stock\.prec: 8 is more than BCH\.prec_save 6/], 'stock.prec > money prec_save');
});

test('min_amount must be a plain positive decimal with at most stock.prec places', () => {
  const cases: [unknown, RegExp][] = [
    ['0', /must be more than 0/],
    ['0.000', /must be more than 0/],
    ['-1', /not a plain positive decimal/],
    ['abc', /not a plain positive decimal/],
    ['', /not a plain positive decimal/],
    ['1e-3', /not a plain positive decimal/],
    ['.5', /not a plain positive decimal/],
    ['0.000000001', /more decimals than stock\.prec 8/],
    [0.01, /expected string/],
  ];
  for (const [bad, why] of cases) {
    invalid(spoiled((c) => { market0(c).min_amount = bad; }), [/markets\.0\.min_amount/, why], `min_amount ${JSON.stringify(bad)}`);
  }
  // trailing zeros past stock.prec are not extra places
  assert.equal(validateConfig(spoiled((c) => { market0(c).min_amount = '0.0000000100'; })).markets[0]!.min_amount, '0.0000000100');
  assert.equal(validateConfig(spoiled((c) => { market0(c).min_amount = '7'; })).markets[0]!.min_amount, '7');
});

test('bad engine settings are rejected', () => {
  const cases: [string, unknown][] = [
    ['fee_account', -1], ['fee_account', 2 ** 32], ['fee_account', 1.5], ['fee_account', '0'],
    ['max_users', 15], ['max_users', 2 ** 26 + 1], ['max_orders_per_market', 15], ['max_levels_per_side', 15], ['max_levels_per_side', 0.5],
  ];
  for (const [key, value] of cases) {
    invalid({ ...base(), engine: { [key]: value } }, [new RegExp(`engine\\.${key}`)], `engine.${key} = ${String(value)}`);
  }
  const config = validateConfig({ ...base(), engine: { fee_account: 2 ** 32 - 1, max_users: 16 } });
  assert.equal(config.engine.fee_account, 2 ** 32 - 1);
  assert.equal(config.engine.max_orders_per_market, 1 << 20, 'unset keys keep their defaults');
});

test('every problem is reported, each on its own line', () => {
  invalid(spoiled((c) => { c.assets[0]!.prec_save = -1; market0(c).fee_prec = 99; }), [/assets\.0\.prec_save/, /markets\.0\.fee_prec/], 'two schema problems');
  invalid(spoiled((c) => { c.assets.push({ name: 'BTC', prec_save: 8 }); market0(c).min_amount = '0'; }), [/duplicate asset/, /min_amount/], 'two reference problems');
});

test('loadConfig: a missing file and invalid JSON give a clear ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'conf-test-'));
  try {
    const missing = join(dir, 'nope.json');
    assert.throws(() => loadConfig(missing), (err: unknown) =>
      err instanceof ConfigError && err.message.includes('cannot read config file') && err.message.includes(missing));

    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"assets": [,]}');
    assert.throws(() => loadConfig(broken), (err: unknown) =>
      err instanceof ConfigError && err.message.includes('is not valid JSON') && err.message.includes(broken));

    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    assert.throws(() => loadConfig(empty), (err: unknown) => err instanceof ConfigError && err.message.includes('is not valid JSON'));

    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ ...base(), surprise: true }));
    assert.throws(() => loadConfig(wrong), (err: unknown) => err instanceof ConfigError && /"surprise"/.test(err.message));

    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(base()));
    const config = loadConfig(good);
    assert.deepEqual(config.assets.map((a) => a.name), ['BTC', 'BCH']);
    assert.ok(Object.isFrozen(config));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the embedded defaults are pinned: changing them must be deliberate', () => {
  const config = loadConfig();
  assert.deepEqual(config.assets, [
    { name: 'BCH', prec_save: 12, prec_show: 8 },
    { name: 'BTC', prec_save: 12, prec_show: 8 },
    { name: 'LTC', prec_save: 12, prec_show: 8 },
    { name: 'ETH', prec_save: 12, prec_show: 8 },
    { name: 'USDT', prec_save: 8, prec_show: 8 },
  ]);
  assert.deepEqual(config.markets, [
    { name: 'BTCBCH', stock: { name: 'BTC', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'LTCBCH', stock: { name: 'LTC', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'ETHBCH', stock: { name: 'ETH', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'BTCUSDT', stock: { name: 'BTC', prec: 6 }, money: { name: 'USDT', prec: 2 }, fee_prec: 4, min_amount: '0.0001' },
  ]);
  assert.deepEqual(config.engine, {
    fee_account: 0,
    max_users: 1 << 20,
    max_orders_per_market: 1 << 20,
    max_levels_per_side: 1 << 16,
    shards: 1,
    assignment: {},
    ring_bytes: 1 << 22,
    depth_levels: 256,
  });
  // the engine defaults are the same whether the section is omitted or given empty
  assert.deepEqual(validateConfig({ ...base(), engine: {} }).engine, config.engine);
  assert.deepEqual(validateConfig(base()).engine, config.engine);
});

test('the returned config is frozen all the way down, and the input is left alone', () => {
  const input = base();
  const config = validateConfig(input);
  for (const part of [config, config.assets, config.assets[0], config.markets, config.markets[0], config.markets[0]!.stock, config.markets[0]!.money, config.engine]) {
    assert.ok(Object.isFrozen(part));
  }
  // ESM code is strict: writes throw
  assert.throws(() => { (config.assets[0] as { prec_save: number }).prec_save = 2; }, TypeError);
  assert.throws(() => { (config.markets as unknown[]).push({}); }, TypeError);
  assert.throws(() => { (config.engine as { fee_account: number }).fee_account = 9; }, TypeError);
  assert.equal(config.assets[0]!.prec_save, 12);
  assert.ok(!Object.isFrozen(input) && !Object.isFrozen(input.assets[0]), 'the caller’s object is not frozen');
  for (const part of [loadConfig(), loadConfig().engine, loadConfig().markets[3]!.stock]) assert.ok(Object.isFrozen(part), 'defaults too');
});
