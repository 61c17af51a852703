/**
 * Worker entry of a shard: wiring only. Builds the shard's engine over the shared balance table
 * and id counters, connects its rings and the depth board, and runs the batch loop until the
 * router closes the command ring. An exception escapes to the router as the worker's 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BalanceTable } from '../balance/table.js';
import { Engine } from '../engine.js';
import { SharedIds } from '../ids.js';
import { EpochControl } from '../journal/epochs.js';
import { LazyCopy } from '../journal/lazy-copy.js';
import { SegmentWriter } from '../journal/segment-writer.js';
import { CopyBuffers, reserveEngineBuffers } from '../journal/snapshot-copy.js';
import { restoreEngineImage } from '../journal/snapshot.js';
import { RingConsumer, RingProducer } from '../wire/ring.js';
import { ShardJournal } from './shard-journal.js';
import { DepthBoard } from './depth-board.js';
import { ShardLoop } from './loop.js';
import { ReplyWriter } from './reply-writer.js';
import type { ShardInit, ShardMessage } from './types.js';

const init = workerData as ShardInit;
const engine = new Engine(init.config, {
  balances: new BalanceTable(init.balances),
  markets: init.markets,
  orderIds: new SharedIds(init.ids, 0),
  dealIds: new SharedIds(init.ids, 1),
  recordDeltas: init.journal !== null,
});
if (init.balanceCopy !== null) engine.balances.lazyCopy = new LazyCopy(init.balanceCopy);
let stopping = false;
let journal: ShardJournal | null = null;
const epochs = init.journal === null ? null : new EpochControl(init.journal.control);
const snapshotBuffers = new CopyBuffers();
if (init.journal !== null) reserveEngineBuffers(engine, snapshotBuffers); // first: before recovery allocates and frees
if (init.journal !== null && epochs !== null) {
  if (init.journal.recovered !== null) restoreEngineImage(init.journal.recovered, engine);
  const writer = SegmentWriter.open(init.journal.dir, init.shard, init.journal.firstEpoch, {
    durability: init.journal.durability,
    segmentBytes: init.journal.segmentBytes,
  });
  journal = new ShardJournal(writer, epochs, init.shard, () => stopping, (generation, copy) =>
    parentPort?.postMessage({ type: 'snapshot', shard: init.shard, generation, copy } satisfies ShardMessage), snapshotBuffers);
}
const commands = new RingConsumer(init.commands);
let loop: ShardLoop | null = null;
const replies = new ReplyWriter(new RingProducer(init.replies), () => loop?.flushBeforeReplies(), () => stopping, epochs);
loop = new ShardLoop(engine, commands, replies, new DepthBoard(init.depth), journal);
parentPort?.postMessage({ type: 'ready', shard: init.shard });
loop.run();
replies.publish();
replies.drain(); // replies still held wait for their epoch (other shards' last batches) before the shard exits
stopping = true;
journal?.close();
parentPort?.postMessage({ type: 'stopped', shard: init.shard, stats: loop.stats });
