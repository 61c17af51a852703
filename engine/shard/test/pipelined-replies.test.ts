/**
 * Pipelined epochs in a shard (loop.ts, reply-writer.ts, shard-journal.ts), driven batch by batch
 * in one thread, with a second shard simulated on the same epoch cells: a batch's replies and
 * events stay invisible on the reply ring — while the shard goes on with later batches — until
 * DURABLE covers the batch's epoch; then they appear in the order they were written. And the
 * journal says the same: the shard's CLOSE lists the other shard, so recovery takes those epochs
 * only once that shard's log proves it wrote everything of its own epoch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine } from '../../engine.js';
import { closedEpoch } from '../../journal/closes.js';
import { EpochControl } from '../../journal/epochs.js';
import { SegmentWriter } from '../../journal/segment-writer.js';
import { journalConfig, tempDir } from '../../journal/test/workload.js';
import { CommandWriter } from '../../router/command-writer.js';
import { readRequestId } from '../../router/replies.js';
import { ReplyKind, REPLY_HEAD } from '../../wire/commands.js';
import { NIL, RingBuffer, RingConsumer, RingProducer } from '../../wire/ring.js';
import { DepthBoard } from '../depth-board.js';
import { ShardLoop } from '../loop.js';
import { ReplyWriter } from '../reply-writer.js';
import { ShardJournal } from '../shard-journal.js';

const T0 = 1_700_000_000;

/** Shard 0 of two, over a journal in `dir`; shard 1 is played by the test through `epochs`. */
class PipelinedShard {
  readonly epochs: EpochControl;
  readonly engine: Engine;
  readonly writer: CommandWriter;
  readonly replies: ReplyWriter;
  private readonly commands: RingConsumer;
  private readonly replyReader: RingConsumer;
  private readonly loop: ShardLoop;
  private readonly segments: SegmentWriter;
  private request = 1;

  constructor(dir: string) {
    const config = journalConfig();
    this.epochs = new EpochControl(EpochControl.allocate(2, 1));
    this.engine = new Engine(config, { recordDeltas: true });
    const commands = RingBuffer.allocate(1 << 14);
    this.writer = new CommandWriter(new RingProducer(commands));
    this.commands = new RingConsumer(commands);
    const replyRing = RingBuffer.allocate(1 << 16);
    this.replyReader = new RingConsumer(replyRing);
    let loop: ShardLoop | null = null;
    this.replies = new ReplyWriter(new RingProducer(replyRing), () => loop?.flushBeforeReplies(), () => false, this.epochs);
    this.segments = SegmentWriter.open(dir, 0, 1, { durability: 'none' });
    const journal = new ShardJournal(this.segments, this.epochs, 0, () => false, () => undefined);
    loop = new ShardLoop(this.engine, this.commands, this.replies, new DepthBoard(DepthBoard.allocate(config.markets.length, 8)), journal);
    this.loop = loop;
  }

  /** One batch of deposits of user 7 (request ids in order), run as the shard loop runs one. */
  depositBatch(count: number): number[] {
    const requests: number[] = [];
    for (let i = 0; i < count; i++) {
      const request = this.request++;
      requests.push(request);
      assert.ok(this.writer.balanceUpdate(request, T0, 7, 0, 'deposit', request, 1000n, ''));
    }
    this.runBatch();
    return requests;
  }

  /** A batch of one query (changes nothing: enters no epoch). */
  queryBatch(): number {
    const request = this.request++;
    assert.ok(this.writer.queryPending(request, 7, 0, 0, 10));
    this.runBatch();
    return request;
  }

  /** What the router would read now: RESULT request ids, and 'E' for each EVENTS record. */
  visible(): (number | 'E')[] {
    const out: (number | 'E')[] = [];
    this.replyReader.poll((view, at) => {
      out.push(view.getUint8(at + REPLY_HEAD.at.kind) === ReplyKind.EVENTS ? 'E' : readRequestId(view, at));
    });
    return out;
  }

  close(): void {
    this.segments.close();
  }

  private runBatch(): void {
    assert.ok(this.commands.available() > 0);
    for (let at = this.commands.next(); at !== NIL; at = this.commands.next()) this.loop.execute(this.commands.view, at);
    this.commands.release();
    this.replies.publish();
  }
}

test('a batch\'s replies and events stay invisible until DURABLE covers its epoch, while the shard runs on; then they come in order', (t) => {
  const dir = tempDir(t);
  const shard = new PipelinedShard(dir);
  const { epochs } = shard;
  const busy: number[] = [];

  // Shard 1 runs a batch in epoch 1 and has not written it yet when shard 0 starts.
  assert.equal(epochs.enter(1), 1);
  assert.equal(epochs.endExecution(1, 1, busy), true); // shard 1 closed epoch 1 (its frames still unwritten)

  const first = shard.depositBatch(3); // epoch 2
  assert.equal(epochs.durable, 0);
  assert.deepEqual(shard.visible(), [], 'nothing of epoch 2 is visible: epoch 1 (shard 1) is not durable');
  const second = shard.depositBatch(2); // epoch 3: the shard did not wait
  const query = shard.queryBatch(); // no epoch: it follows the batch before it
  assert.equal(shard.replies.held, 2, 'two batches held (the query joined the last)');
  assert.deepEqual(shard.visible(), []);
  // Recovery agrees: shard 0 closed epochs 2 and 3 listing shard 1 (ACTIVE in epoch 1), which has written nothing yet.
  assert.equal(closedEpoch(dir), -1, 'shard 1 has not proved it wrote epoch 1');
  const s1 = SegmentWriter.open(dir, 1, 1, { durability: 'none' });
  s1.seal(1);
  s1.close(); // shard 1 wrote and synced its epoch-1 batch (a seal: it changed nothing) …
  assert.equal(closedEpoch(dir), 3, '… which proves epochs 2 and 3');

  epochs.leave(1); // … and leaves
  assert.equal(epochs.durable, 3);
  assert.deepEqual(shard.visible(), [], 'released by the shard, not by DURABLE itself');
  const third = shard.depositBatch(1); // epoch 4; the shard releases what is durable as it ends it
  assert.deepEqual(shard.visible(), [...first, 'E', ...second, 'E', query, ...third, 'E']);
  assert.equal(shard.replies.held, 0);
  shard.close();
  assert.equal(closedEpoch(dir), 4, 'epoch 4 was closed with no other shard writing');
});

test('a batch whose epoch is durable at once (no other shard writing) is visible as it ends', (t) => {
  const shard = new PipelinedShard(tempDir(t));
  const requests = shard.depositBatch(2);
  assert.equal(shard.epochs.durable, 1);
  assert.deepEqual(shard.visible(), [...requests, 'E']);
  const query = shard.queryBatch();
  assert.deepEqual(shard.visible(), [query]);
  shard.close();
});
