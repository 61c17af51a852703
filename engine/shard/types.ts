/** What a shard worker is started with (structured-cloneable: shared buffers and plain data). */
import type { Config } from '../../conf/schema.js';
import type { BalanceTableBuffers } from '../balance/table.js';
import type { RingBuffers } from '../wire/ring.js';
import type { DepthBoardBuffers } from './depth-board.js';

export interface ShardInit {
  readonly shard: number;
  readonly config: Readonly<Config>;
  /** Indexes of the markets this shard holds. */
  readonly markets: readonly number[];
  readonly balances: BalanceTableBuffers;
  /** Shared order-id (cell 0) and deal-id (cell 1) counters. */
  readonly ids: SharedArrayBuffer;
  readonly depth: DepthBoardBuffers;
  /** Router → shard commands; shard → router replies and events. */
  readonly commands: RingBuffers;
  readonly replies: RingBuffers;
}

/** Messages a shard posts to the router (rare control plane). */
export type ShardMessage =
  | { readonly type: 'ready'; readonly shard: number }
  | { readonly type: 'stopped'; readonly shard: number; readonly stats: { batches: number; commands: number } };
