/**
 * The `ws` config section: defaults pinned (auth closed), unknown keys and bad values rejected by
 * key path; and depth.subscribe's limit and interval rules over the configured lists.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, validateConfig } from '../../../conf/load.js';
import { defaultConfig } from '../../../conf/defaults.js';
import { buildSpecs } from '../../../engine/money/specs.js';
import { InvalidParams } from '../../rpc/params.js';
import { DepthRules } from '../depth-params.js';

const withWs = (ws: unknown): unknown => ({ ...defaultConfig, ws });

describe('ws config', () => {
  it('defaults: port 8090, the original limits, auth closed', () => {
    assert.deepEqual(validateConfig(defaultConfig).ws, {
      host: '0.0.0.0', port: 8090, protocol: 'chat', origin: '',
      max_message_bytes: 102400, max_backpressure_bytes: 1048576, idle_timeout_ms: 3_600_000,
      max_requests_per_second: 100, max_subscriptions: 256,
      depth_limits: [1, 5, 10, 20, 30, 50, 100],
      depth_merge: ['0', '0.00000001', '0.0000001', '0.000001', '0.00001', '0.0001', '0.001', '0.01', '0.1'],
      depth_interval_ms: 100,
      auth: { tokens: {}, keys: [], tonce_window_ms: 30_000, timeout_ms: 1000 },
    });
  });

  it('rejects unknown keys and bad values, naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [{ prot: 1 }, /ws\b.*"prot"/],
      [{ auth: { token: {} } }, /ws\.auth\b.*"token"/],
      [{ port: 70000 }, /ws\.port/],
      [{ max_backpressure_bytes: 100 }, /ws\.max_backpressure_bytes/],
      [{ depth_limits: [0] }, /ws\.depth_limits\.0/],
      [{ depth_limits: [] }, /ws\.depth_limits/],
      [{ depth_merge: ['-1'] }, /ws\.depth_merge\.0/],
      [{ depth_merge: ['1e-3'] }, /ws\.depth_merge\.0/],
      [{ auth: { tokens: { short: 1 } } }, /ws\.auth\.tokens/],
      [{ auth: { tokens: { 'a-long-enough-token-1': 0 } } }, /ws\.auth\.tokens/],
      [{ auth: { keys: [{ access_id: 'k', secret_key: 'short', user_id: 1 }] } }, /ws\.auth\.keys\.0\.secret_key/],
      [{ auth: { keys: [{ access_id: 'k', secret_key: 'a-long-enough-secret', user_id: 1 }, { access_id: 'k', secret_key: 'another-long-secret!', user_id: 2 }] } }, /ws\.auth\.keys\.1\.access_id: duplicate access_id k/],
      [{ auth: { auth_url: 'ftp://example.com/auth' } }, /ws\.auth\.auth_url/],
      [{ auth: { sign_url: 'not a url' } }, /ws\.auth\.sign_url/],
    ];
    for (const [ws, pattern] of cases) {
      assert.throws(() => validateConfig(withWs(ws)), (err: unknown) => err instanceof ConfigError && pattern.test(err.message), JSON.stringify(ws));
    }
  });
});

describe('DepthRules', () => {
  const config = validateConfig(defaultConfig);
  const specs = buildSpecs(config);
  const rules = new DepthRules(config.ws.depth_limits, [...config.ws.depth_merge, '10']);
  const invalid = (params: unknown[]): void => assert.throws(() => rules.parse(specs, params), InvalidParams, JSON.stringify(params));

  it('limit and interval must be in the lists; intervals compare as decimals', () => {
    assert.deepEqual(rules.parse(specs, ['BTCBCH', 10, '0']).interval, 0);
    assert.equal(rules.parse(specs, ['BTCBCH', 10, '0.1']).interval, 10_000_000, 'in ticks of 1e-8');
    assert.equal(rules.parse(specs, ['BTCBCH', 10, '0.10000']).interval, 10_000_000);
    assert.equal(rules.parse(specs, ['BTCBCH', 10, '1e-1']).interval, 10_000_000);
    assert.equal(rules.parse(specs, ['BTCBCH', 100, '10']).interval, 1_000_000_000);
    assert.equal(rules.parse(specs, ['BTCBCH', 100, '10']).market.name, 'BTCBCH');
    invalid(['BTCBCH', 7, '0']);
    invalid(['BTCBCH', 10, '0.5']);
    invalid(['BTCBCH', 10, 0.1]);
    invalid(['BTCBCH', '10', '0']);
    invalid(['NOPE', 10, '0']);
    invalid(['BTCBCH', 10]);
  });

  it('an interval finer than the market\'s price tick merges nothing', () => {
    // BTCUSDT prices have 2 decimals: 0.001 divides the tick 0.01
    assert.equal(rules.parse(specs, ['BTCUSDT', 10, '0.001']).interval, 0);
    assert.equal(rules.parse(specs, ['BTCUSDT', 10, '0.1']).interval, 10);
    const odd = new DepthRules([10], ['0.003']);
    assert.throws(() => odd.parse(specs, ['BTCUSDT', 10, '0.003']), InvalidParams, '0.003 does not divide 0.01');
  });
});
