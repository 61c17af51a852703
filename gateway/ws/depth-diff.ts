/**
 * depth.update contents: the original accessws's diff of two depth snapshots (get_list_diff in
 * aw_depth.c), and the choice between a diff and a full snapshot. Pure functions over engine
 * depth levels (prices in ticks, amounts in lots), so they can be tested on their own.
 */
import type { Depth, DepthLevel } from '../../engine/queries.js';

/** Sort direction of a side, best first: asks ascending, bids descending. */
export const ASKS = 1;
export const BIDS = -1;
type Direction = typeof ASKS | typeof BIDS;

/** A full snapshot is sent instead of a diff once this long passed since the last full one. */
export const FULL_SNAPSHOT_MS = 60_000;

/**
 * Changes from `old` to `next` on one side (both best first, each at most `limit` long):
 * a price in both with another amount → the new level; a price only in `next` → the new level;
 * a price only in `old` → `[price, 0]`. Old levels past the end of `next` count as removed only
 * when `next` is shorter than `limit`: a level pushed out of the window by a better one is not
 * reported (clients truncate to `limit`). Allocates.
 */
export function diffSide(old: readonly DepthLevel[], next: readonly DepthLevel[], limit: number, direction: Direction): DepthLevel[] {
  const out: DepthLevel[] = [];
  let i = 0;
  let j = 0;
  while (i < old.length && j < next.length) {
    const before = old[i]!;
    const after = next[j]!;
    const order = (before.price - after.price) * direction;
    if (order === 0) {
      i++;
      j++;
      if (before.amount !== after.amount) out.push(after);
    } else if (order > 0) {
      j++;
      out.push(after);
    } else {
      i++;
      out.push({ price: before.price, amount: 0n });
    }
  }
  for (; next.length < limit && i < old.length; i++) out.push({ price: old[i]!.price, amount: 0n });
  for (; j < next.length; j++) out.push(next[j]!);
  return out;
}

/** The changed sides only; a side without changes is absent. */
export interface DepthDiff {
  readonly asks?: DepthLevel[];
  readonly bids?: DepthLevel[];
}

/** The diff of two snapshots, or null when nothing changed. */
export function diffDepth(old: Depth, next: Depth, limit: number): DepthDiff | null {
  const asks = diffSide(old.asks, next.asks, limit, ASKS);
  const bids = diffSide(old.bids, next.bids, limit, BIDS);
  if (asks.length === 0 && bids.length === 0) return null;
  return { ...(asks.length > 0 ? { asks } : {}), ...(bids.length > 0 ? { bids } : {}) };
}

export type DepthPush = { readonly clean: true; readonly depth: Depth } | { readonly clean: false; readonly diff: DepthDiff };

/**
 * What subscribers who hold `last` get when the book reads `next`: nothing when unchanged, a full
 * snapshot when FULL_SNAPSHOT_MS passed since the last full one (`lastCleanMs`), a diff otherwise.
 */
export function nextPush(last: Depth, next: Depth, limit: number, lastCleanMs: number, nowMs: number): DepthPush | null {
  const diff = diffDepth(last, next, limit);
  if (diff === null) return null;
  return nowMs - lastCleanMs >= FULL_SNAPSHOT_MS ? { clean: true, depth: next } : { clean: false, diff };
}
