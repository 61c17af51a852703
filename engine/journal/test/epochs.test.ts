/**
 * The epoch protocol of journal/epochs.ts, shard by shard in one thread (and one worker for the
 * barrier): who closes an epoch and whom it lists, how far DURABLE goes while shards still write,
 * and that a batch of a newer epoch never executes alongside one of an older epoch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { EpochControl } from '../epochs.js';
import type { EpochsWorkerTask } from './epochs-worker.js';

test('the first shard to end an epoch closes it and lists every shard still writing in it or before', () => {
  const c = new EpochControl(EpochControl.allocate(3, 5));
  assert.equal(c.shards, 3);
  assert.deepEqual([c.epoch, c.durable], [5, 4]);
  assert.equal(c.enter(0), 5);
  assert.equal(c.enter(1), 5);
  const busy: number[] = [];
  assert.equal(c.endExecution(0, 5, busy), true, 'shard 0 closes epoch 5');
  assert.deepEqual(busy, [0, 5, 1, 5], 'both shards still have epoch-5 work unwritten; shard 2 is idle');
  assert.equal(c.epoch, 6);
  assert.equal(c.endExecution(1, 5, busy), false, 'epoch 5 is closed already');
  c.leave(0);
  assert.equal(c.durable, 4, 'shard 1 has not written its epoch-5 frames yet');
  c.leave(1);
  assert.equal(c.durable, 5, 'the last shard to leave publishes the epoch');
});

test('DURABLE stops below the lowest ACTIVE shard, never goes back, and an idle shard holds nothing back', () => {
  const c = new EpochControl(EpochControl.allocate(3, 1));
  const busy: number[] = [];
  assert.equal(c.enter(2), 1); // shard 2 starts a long batch in epoch 1
  c.endExecution(2, 1, busy); // its commands ran (closing 1); its frames are not written yet
  for (let epoch = 2; epoch <= 4; epoch++) {
    assert.equal(c.enter(0), epoch);
    assert.equal(c.endExecution(0, epoch, busy), true);
    assert.deepEqual(busy, [0, epoch, 2, 1], `epoch ${epoch}'s close lists shard 2, which still writes epoch 1`);
    c.leave(0);
    assert.equal(c.durable, 0, 'nothing is durable while shard 2 may still write epoch 1');
  }
  c.leave(2);
  assert.equal(c.durable, 4);
  assert.equal(c.enter(1), 5, 'shard 1 was idle all along');
  assert.equal(c.durable, 4, 'entering changes nothing durable');
  c.endExecution(1, 5, busy);
  c.leave(1);
  assert.equal(c.durable, 5);
  c.publishDurable();
  assert.equal(c.durable, 5);
});

test('a batch of a newer epoch does not start executing while a batch of an older epoch executes', async () => {
  const c = new EpochControl(EpochControl.allocate(3, 1));
  const busy: number[] = [];
  assert.equal(c.enter(0), 1); // shard 0 executes in epoch 1 …
  assert.equal(c.enter(2), 1);
  assert.equal(c.endExecution(2, 1, busy), true); // … while shard 2 ends its batch and closes epoch 1
  c.leave(2);
  const result = new SharedArrayBuffer(8);
  const cells = new Int32Array(result);
  const task: EpochsWorkerTask = { control: c.buffer, shard: 1, result };
  const worker = new Worker(new URL('./epochs-worker.js', import.meta.url), { workerData: task });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  // Shard 1 takes epoch 2 and must wait for shard 0's epoch-1 batch: it could read its effects.
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(Atomics.load(cells, 0), 0, 'shard 1 is still waiting');
  assert.equal(c.endExecution(0, 1, busy), false, 'epoch 1 was closed by shard 2');
  assert.equal(await exited, 0);
  assert.equal(Atomics.load(cells, 0), 2, 'shard 1 then runs in epoch 2');
  c.leave(0);
  assert.equal(c.durable, 1, 'epoch 1 is durable; shard 1 still writes epoch 2');
});
