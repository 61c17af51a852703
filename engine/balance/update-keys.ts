/**
 * The applied balance.update keys of one engine (engine.ts `updateKey` format): a Set for the
 * repeat check, and the same keys, in the order they were added, appended to a log of encoded
 * bytes — per key a u16 little-endian length and the UTF-8, exactly as a snapshot's UPDATES
 * section stores them — in chunks on SharedArrayBuffers.
 *
 * Keys are never removed and logged bytes are never rewritten, so a snapshot takes a mark
 * (`encoded()`: the chunks and how far they are filled, O(chunks)) instead of copying a million
 * strings while its shard is paused; another thread may write the marked bytes out later while
 * the shard goes on appending (the chunks are shared, not copied, when posted).
 */

/** Keys in the UPDATES encoding, as byte runs (each a whole number of keys) in order. */
export interface EncodedKeys {
  readonly count: number;
  readonly runs: readonly Uint8Array[];
}

/** balance.update keys as strings (decoded snapshots, in-process captures) or encoded (a mark of the log). */
export type UpdateKeys = readonly string[] | EncodedKeys;

const CHUNK_BYTES = 1 << 20;
/** A key longer than this cannot be stored (the length is a u16). */
const MAX_KEY_BYTES = 0xffff;

export class AppliedUpdates {
  private readonly set = new Set<string>();
  /** Filled chunks: their buffers and the bytes used in each. */
  private readonly chunks: Buffer[] = [];
  private readonly ends: number[] = [];
  /** The chunk being filled (the last of `chunks`) and its fill. */
  private current: Buffer | null = null;
  private used = 0;

  get size(): number {
    return this.set.size;
  }

  has(key: string): boolean {
    return this.set.has(key);
  }

  /** Adds a key (once; a known key changes nothing). */
  add(key: string): void {
    if (this.set.has(key)) return;
    const bytes = Buffer.byteLength(key);
    if (bytes > MAX_KEY_BYTES) throw new RangeError('a balance.update key is longer than 65535 bytes');
    let chunk = this.current;
    if (chunk === null || this.used + 2 + bytes > chunk.byteLength) {
      if (chunk !== null) this.ends[this.ends.length - 1] = this.used;
      chunk = Buffer.from(new SharedArrayBuffer(CHUNK_BYTES));
      this.chunks.push(chunk);
      this.ends.push(0);
      this.current = chunk;
      this.used = 0;
    }
    chunk.writeUInt16LE(bytes, this.used);
    chunk.write(key, this.used + 2, bytes, 'utf8');
    this.used += 2 + bytes;
    this.set.add(key);
  }

  /** The keys, in the order they were added. Allocates. */
  keys(): string[] {
    return Array.from(this.set);
  }

  /** A mark of the log: every key added so far, encoded, as views of the shared chunks. O(chunks). */
  encoded(): EncodedKeys {
    const last = this.chunks.length - 1;
    const runs = this.chunks.map((c, i) => new Uint8Array(c.buffer, c.byteOffset, i === last ? this.used : this.ends[i]!));
    return { count: this.set.size, runs };
  }
}

/** Whether `keys` is encoded (else strings). */
export function isEncoded(keys: UpdateKeys): keys is EncodedKeys {
  return !Array.isArray(keys);
}

export function keyCount(keys: UpdateKeys): number {
  return isEncoded(keys) ? keys.count : keys.length;
}

/** The keys as strings (decodes encoded runs). Allocates. */
export function keyStrings(keys: UpdateKeys): readonly string[] {
  if (!isEncoded(keys)) return keys;
  const out: string[] = [];
  for (const run of keys.runs) {
    const b = Buffer.from(run.buffer, run.byteOffset, run.byteLength); // Buffer, not TextDecoder: runs may be on shared memory
    for (let at = 0; at < b.byteLength;) {
      const length = b.readUInt16LE(at);
      out.push(b.toString('utf8', at + 2, at + 2 + length));
      at += 2 + length;
    }
  }
  if (out.length !== keys.count) throw new RangeError(`encoded keys hold ${out.length} keys, ${keys.count} expected`);
  return out;
}

/** Encodes strings into one run. Allocates. */
export function encodeKeys(keys: readonly string[]): EncodedKeys {
  let size = 0;
  for (const key of keys) size += 2 + Buffer.byteLength(key);
  const run = Buffer.alloc(size);
  let at = 0;
  for (const key of keys) {
    const bytes = run.write(key, at + 2, 'utf8');
    if (bytes > MAX_KEY_BYTES) throw new RangeError('a balance.update key is longer than 65535 bytes');
    run.writeUInt16LE(bytes, at);
    at += 2 + bytes;
  }
  return { count: keys.length, runs: [new Uint8Array(run.buffer, run.byteOffset, run.byteLength)] };
}

/** The keys of several engines in turn: strings when all are strings, else encoded runs. */
export function concatKeys(parts: readonly UpdateKeys[]): UpdateKeys {
  if (!parts.some(isEncoded)) return (parts as readonly (readonly string[])[]).flat();
  let count = 0;
  const runs: Uint8Array[] = [];
  for (const part of parts) {
    const encoded = isEncoded(part) ? part : encodeKeys(part);
    count += encoded.count;
    for (const run of encoded.runs) if (run.byteLength > 0) runs.push(run);
  }
  return { count, runs };
}
