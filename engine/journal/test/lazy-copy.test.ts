/**
 * Lazy snapshot copies (lazy-copy.ts): armed at a moment, copied chunk by chunk while the engine
 * goes on trading, cancelling, reusing freed slots and funding new users, the copies make byte for
 * byte the snapshot file an in-place capture at that moment makes. Any write to a book column or a
 * balance row that skipped its guard shows up as a different file, and so does the shard's paging
 * in of its copy buffers between batches if it wrote over a copy. Chunks as small as one unit, so
 * that a few hundred orders span many chunks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LazyCopy } from '../lazy-copy.js';
import { encodeSnapshot } from '../snapshot-codec.js';
import { armBalancesCopy, armEngineCopy, balanceCopySpec, warmEngineBuffers } from '../snapshot-copy.js';
import { captureSnapshot, composeSnapshot, CopyBuffers, engineImageOf, namesOf } from '../snapshot.js';
import { finishCopies } from '../snapshot-writer.js';
import { journalConfig, RandomTrader, Rng, shardedEngines, T0 } from './workload.js';

test('a lazy copy finished while the engines go on is the snapshot of the moment it was armed', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 1 << 30 }), // workload seed
    fc.integer({ min: 0, max: 4 }), // log2 of the units per chunk
    fc.integer({ min: 1, max: 2 }), // shards over one balance table
    fc.integer({ min: 50, max: 600 }), // commands before the first copy
    fc.double({ min: 0, max: 1, noNaN: true }), // share of commands after which the "writer thread" copies a random chunk
    (seed, shift, shards, before, copyRate) => {
      const config = journalConfig();
      const engines = shardedEngines(config, shards);
      const trader = new RandomTrader(new Rng(seed), engines);
      const steer = new Rng(seed ^ 0x5bd1e995);
      const engineBuffers = engines.map(() => new CopyBuffers());
      const run = (commands: number, between: () => void): void => {
        for (let i = 0; i < commands; i++) {
          const cmd = trader.next();
          const e = trader.engineFor(cmd);
          trader.run(e, cmd, T0 + trader.drawn * 1000);
          engines[e]!.events.reset();
          // As a shard between batches: pages in its copy buffers a little (never over a copy under way).
          warmEngineBuffers(engines[e]!, engineBuffers[e]!, steer.int(0, 3) * 64);
          between();
        }
      };
      // As the router does: one balance copy, a LazyCopy over it in every engine's table.
      const tableBuffers = new CopyBuffers();
      const balanceSpec = balanceCopySpec(engines[0]!.balances, tableBuffers, shift);
      for (const engine of engines) engine.balances.lazyCopy = new LazyCopy(balanceSpec);
      run(before, () => undefined);
      for (let round = 0; round < 2; round++) { // the same buffers and states every round
        const expected = encodeSnapshot(captureSnapshot(engines, 7));
        const parts = engines.map((engine, i) => armEngineCopy(engine, engineBuffers[i]!, shift));
        const balances = armBalancesCopy(engines[0]!.balances, new LazyCopy(balanceSpec), tableBuffers);
        // The snapshot writer's side: its own LazyCopy objects over the same memory.
        const writerSide = [balanceSpec, ...parts.flatMap((p) => p.pending)].map((spec) => new LazyCopy(spec));
        run(300, () => {
          if (steer.u32() / 4294967296 >= copyRate) return;
          const lazy = steer.pick(writerSide);
          if (lazy.guardBelow > 0) lazy.ensure(steer.int(0, lazy.guardBelow - 1));
        });
        finishCopies({ parts, pending: [balanceSpec] });
        for (const lazy of writerSide) assert.equal(lazy.guardBelow, 0, 'finished copies turn the guards off');
        const image = composeSnapshot(7, namesOf(engines[0]!.specs), balances, parts.map(engineImageOf));
        assert.deepEqual(encodeSnapshot(image), expected, `round ${round}`);
      }
    },
  ), { numRuns: 60 });
});

test('a writer that finds a chunk not copied copies it first; later writes to it do not copy again', () => {
  const from = new Float64Array(new SharedArrayBuffer(8 * 10));
  const to = new Float64Array(new SharedArrayBuffer(8 * 10));
  from.forEach((_, i) => (from[i] = i));
  const lazy = new LazyCopy({ columns: [{ from, to, per: 1 }], state: new CopyBuffers().lazyState('x', 10, 2), shift: 2 });
  lazy.arm(9); // chunks [0,4) [4,8) [8,9)
  assert.equal(lazy.guardBelow, 9);
  lazy.ensure(5);
  assert.deepEqual([...to], [0, 0, 0, 0, 4, 5, 6, 7, 0, 0]);
  from[5] = 50;
  lazy.ensure(6); // chunk already copied: keeps the value of the moment it was armed
  assert.equal(to[5], 5);
  assert.equal(lazy.chunksCopied, 1);
  assert.equal(lazy.finish(), 2);
  assert.deepEqual([...to], [0, 1, 2, 3, 4, 5, 6, 7, 8, 0], 'units past the armed ones are not copied');
  assert.equal(lazy.guardBelow, 0);
  assert.throws(() => lazy.arm(20), /capacity/);
});
