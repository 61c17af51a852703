/**
 * Names of journal files in a journal directory. A segment is `<shard>-<firstEpoch>.log`, both
 * zero-padded (3 and 16 digits), so that the lexical order of one shard's segments is their
 * epoch order. A segment holds the epochs from its first epoch up to (not including) the next
 * segment's first epoch: the writer only starts a new segment at an epoch it has not written yet.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const MAX_SHARD = 999;

const SEGMENT_NAME = /^(\d{3})-(\d{16})\.log$/;

export interface SegmentFile {
  readonly path: string;
  readonly name: string;
  readonly shard: number;
  readonly firstEpoch: number;
}

export function segmentName(shard: number, firstEpoch: number): string {
  return `${String(shard).padStart(3, '0')}-${String(firstEpoch).padStart(16, '0')}.log`;
}

/** Every segment in `dir` by shard, each shard's in epoch order. An absent directory has none. */
export function listSegments(dir: string): Map<number, SegmentFile[]> {
  const byShard = new Map<number, SegmentFile[]>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return byShard;
    throw err;
  }
  for (const name of names.sort()) {
    const m = SEGMENT_NAME.exec(name);
    if (m === null) continue;
    const shard = Number(m[1]);
    const segment: SegmentFile = { path: join(dir, name), name, shard, firstEpoch: Number(m[2]) };
    const list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, [segment]);
    else list.push(segment);
  }
  return byShard;
}

/** One shard's segments in epoch order. */
export function listShardSegments(dir: string, shard: number): SegmentFile[] {
  return listSegments(dir).get(shard) ?? [];
}
