/**
 * The request formatter's command filter: workload http-limit sends the standard stream's limit
 * orders — all of them, in stream order, with the bodies the mixed workload sends for them — and
 * nothing else; the mixed workload sends every command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultConfig } from '../../../conf/defaults.js';
import { validateConfig } from '../../../conf/load.js';
import { generateWorkload, Op } from '../../gen/workload.js';
import { RequestFormatter } from '../protocol.js';

const config = validateConfig(defaultConfig);
const w = generateWorkload(config, { commands: 20_000, seed: 7 });

test('filter "all": every command is sent', () => {
  const fmt = new RequestFormatter(w);
  for (let i = 0; i < w.commands; i++) assert.equal(fmt.sends(i), true);
});

test('filter "limit": exactly the limit orders, in stream order, as order.put_limit with the mixed workload\'s bodies', () => {
  const limit = new RequestFormatter(w, 'limit');
  const all = new RequestFormatter(w);
  const counts = { [Op.LIMIT]: 0, [Op.MARKET]: 0, [Op.CANCEL]: 0 };
  const sides = new Set<number>();
  for (let i = 0; i < w.commands; i++) {
    const op = w.op[i] as 1 | 2 | 3;
    counts[op]++;
    assert.equal(limit.sends(i), op === Op.LIMIT, `command ${i} (op ${op})`);
    if (!limit.sends(i)) continue;
    sides.add(w.side[i]!);
    const body = limit.body(i, i + 1, 'src');
    assert.ok(body !== null);
    assert.equal((JSON.parse(body) as { method: string }).method, 'order.put_limit');
    assert.equal(limit.method(i), 'order.put_limit');
    assert.equal(body, all.body(i, i + 1, 'src'));
  }
  // The standard mix (~70 % limit orders) has all three kinds; only limits pass, on both sides.
  assert.ok(counts[Op.LIMIT] > 0.6 * w.commands && counts[Op.MARKET] > 0 && counts[Op.CANCEL] > 0);
  assert.deepEqual([...sides].sort(), [1, 2]);
});
