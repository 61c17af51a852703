/** What a shard worker is started with (structured-cloneable: shared buffers and plain data). */
import type { Config } from '../../conf/schema.js';
import type { BalanceTableBuffers } from '../balance/table.js';
import type { RingBuffers } from '../wire/ring.js';
import type { LazyCopySpec } from '../journal/lazy-copy.js';
import type { EngineCopy } from '../journal/snapshot-copy.js';
import type { EngineImage } from '../journal/snapshot-image.js';
import type { DepthBoardBuffers } from './depth-board.js';

/** A shard's journal: where and how it writes, and the state recovered for it at start-up. */
export interface ShardJournalInit {
  readonly dir: string;
  readonly durability: 'fsync' | 'none';
  readonly segmentBytes: number;
  /** The first epoch this run writes (above everything on disk). */
  readonly firstEpoch: number;
  /** The shared epoch cells (journal/epochs.ts). */
  readonly control: SharedArrayBuffer;
  /** This shard's books, labels and idempotency keys as recovered; balances are already in the table. */
  readonly recovered: EngineImage | null;
}

export interface ShardInit {
  readonly shard: number;
  readonly config: Readonly<Config>;
  /** Indexes of the markets this shard holds. */
  readonly markets: readonly number[];
  readonly balances: BalanceTableBuffers;
  /** The balance table's lazy snapshot copy (journal/lazy-copy.ts), null without a journal. */
  readonly balanceCopy: LazyCopySpec | null;
  /** Shared order-id (cell 0) and deal-id (cell 1) counters. */
  readonly ids: SharedArrayBuffer;
  readonly depth: DepthBoardBuffers;
  /** Router → shard commands; shard → router replies and events. */
  readonly commands: RingBuffers;
  readonly replies: RingBuffers;
  /** Null: no journal. */
  readonly journal: ShardJournalInit | null;
}

/** Messages a shard posts to the router (rare control plane). */
export type ShardMessage =
  | { readonly type: 'ready'; readonly shard: number }
  /** The shard's raw snapshot copies (journal/snapshot-copy.ts), on shared memory: shared, not copied. */
  | { readonly type: 'snapshot'; readonly shard: number; readonly generation: number; readonly copy: EngineCopy }
  | { readonly type: 'stopped'; readonly shard: number; readonly stats: { batches: number; commands: number } };
