/**
 * The open loops' clock: it ticks once started, reaches its callback only after run(), and never
 * after stop(). (How often it ticks is the machine's business: only "many times" is checked.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pacer } from '../pacer.js';

test('ticks reach the callback between run() and stop(), not after', async () => {
  const pacer = await Pacer.start();
  await sleep(20); // ticks before run() reach no one
  let ticks = 0;
  pacer.run(() => ticks++);
  for (let waited = 0; ticks < 20 && waited < 5_000; waited += 10) await sleep(10);
  pacer.stop();
  assert.ok(ticks >= 20, `only ${ticks} ticks in 5 s`);
  const atStop = ticks;
  await sleep(50);
  assert.equal(ticks, atStop, 'no tick after stop()');
});

test('due mode: one wake once the due time has passed, none while nothing is due', async () => {
  const pacer = await Pacer.start();
  try {
    const wakes: number[] = [];
    pacer.due(null);
    pacer.run(() => wakes.push(performance.now()));
    await sleep(20); // a tick notified before due mode began may still arrive
    const settled = wakes.length;
    await sleep(30);
    assert.equal(wakes.length, settled, 'no wake while nothing is due');
    const due = performance.now() + 30;
    pacer.due(due);
    for (let waited = 0; wakes.length === settled && waited < 5_000; waited += 10) await sleep(10);
    await sleep(30);
    assert.equal(wakes.length, settled + 1, 'one wake per due time');
    assert.ok(wakes[settled]! >= due - 1, `woken ${(due - wakes[settled]!).toFixed(2)} ms early`);
    pacer.due(performance.now()); // already due
    for (let waited = 0; wakes.length === settled + 1 && waited < 5_000; waited += 10) await sleep(10);
    assert.equal(wakes.length, settled + 2);
  } finally {
    pacer.stop();
  }
});
