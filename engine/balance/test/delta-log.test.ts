/**
 * DeltaLog coalesces a command's balance changes per (row, asset): whatever the order and number
 * of additions (past its initial capacity, with sums beyond 2^53), its entries hold the same sums
 * as a plain Map, each cell once, in first-touch order; reset() starts an empty log.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DeltaLog } from '../delta-log.js';

type Add = { row: number; asset: number; available: bigint; frozen: bigint };

// Up to 2^54 each: sums of a few hundred pass 2^53 (the bigint path) and stay within int64, as balances do.
const amount = fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }).map(BigInt), fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }));
const add = (rows: number): fc.Arbitrary<Add> =>
  fc.record({ row: fc.integer({ min: 0, max: rows - 1 }), asset: fc.integer({ min: 0, max: 4 }), available: amount, frozen: amount });
const command = fc.oneof(fc.array(add(4), { maxLength: 8 }), fc.array(add(2_000), { minLength: 100, maxLength: 600 }));

function entries(log: DeltaLog): string[] {
  const out: string[] = [];
  for (let i = 0; i < log.count; i++) out.push(`${log.rows[i]}/${log.assets[i]}: ${log.available[i]} ${log.frozen[i]}`);
  return out;
}

test('sums per (row, asset) equal a Map’s, in first-touch order, across resets and growth', () => {
  fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 5 }), (commands) => {
    const log = new DeltaLog(4);
    for (const adds of commands) {
      log.reset();
      const expected = new Map<string, [bigint, bigint]>();
      for (const a of adds) {
        const key = `${a.row}/${a.asset}`;
        const sums = expected.get(key) ?? [0n, 0n];
        expected.set(key, [sums[0] + a.available, sums[1] + a.frozen]);
        if ((a.row + a.asset) % 2 === 0 && a.available >= -(2n ** 53n) && a.available < 2n ** 53n && a.frozen >= -(2n ** 53n) && a.frozen < 2n ** 53n) {
          log.addUnits(a.row, a.asset, Number(a.available), Number(a.frozen)); // the number path too
        } else {
          log.add(a.row, a.asset, a.available, a.frozen);
        }
      }
      assert.deepEqual(entries(log), [...expected].map(([key, [av, fr]]) => `${key}: ${av} ${fr}`));
    }
  }), { numRuns: 200 });
});

test('a capacity that is not a power of two is refused', () => {
  assert.throws(() => new DeltaLog(48), RangeError);
});
