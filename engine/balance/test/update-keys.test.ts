/**
 * The applied balance.update keys: the repeat check, and the append-only encoded log that a
 * snapshot marks instead of copying (chunks filled and rolled, marks that stay valid while more
 * keys are appended, the UPDATES section's encoding).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppliedUpdates, concatKeys, encodeKeys, keyCount, keyStrings } from '../update-keys.js';
import { updateKey } from '../../engine.js';

test('keys are checked once and logged in order across chunk boundaries; a mark stays what it was', () => {
  const applied = new AppliedUpdates();
  const keys: string[] = [];
  // ~45 bytes a key: 30,000 keys fill more than one 1 MiB chunk.
  for (let i = 0; i < 30_000; i++) keys.push(updateKey(i + 1, i % 5, i % 3 === 0 ? 'deposit' : 'üb-ειδικό-bonus', 1e12 + i));
  for (const key of keys.slice(0, 20_000)) applied.add(key);
  applied.add(keys[5]!); // a repeat changes nothing
  assert.equal(applied.size, 20_000);
  assert.ok(applied.has(keys[19_999]!) && !applied.has(keys[20_000]!));

  const mark = applied.encoded();
  assert.equal(mark.count, 20_000);
  assert.ok(mark.runs.length >= 1);
  assert.ok(mark.runs.every((r) => r.buffer instanceof SharedArrayBuffer), 'runs are views of the shared log');
  for (const key of keys.slice(20_000)) applied.add(key);
  const all = applied.encoded();
  assert.ok(all.runs.length > 1, 'the log rolled to another chunk');
  assert.deepEqual(keyStrings(mark), keys.slice(0, 20_000), 'an older mark still reads as it was');
  assert.deepEqual(keyStrings(all), keys);
  assert.deepEqual(applied.keys(), keys);
  // The runs are exactly what encodeKeys makes of the strings (the snapshot's UPDATES encoding).
  const bytes = (k: { runs: readonly Uint8Array[] }): number[] => k.runs.flatMap((r) => [...r]);
  assert.deepEqual(bytes(all), bytes(encodeKeys(keys)));
});

test('concatKeys keeps strings as strings and mixes encoded and string parts in order', () => {
  assert.deepEqual(concatKeys([['a', 'b'], ['c']]), ['a', 'b', 'c']);
  const log = new AppliedUpdates();
  log.add('x');
  log.add('y');
  const mixed = concatKeys([log.encoded(), ['z'], new AppliedUpdates().encoded()]);
  assert.equal(keyCount(mixed), 3);
  assert.deepEqual(keyStrings(mixed), ['x', 'y', 'z']);
});
