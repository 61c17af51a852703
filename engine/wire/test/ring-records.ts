/**
 * Seeded record contents for the ring tests and their worker. Stateless: a record's length and
 * every byte derive from (seed, sequence number, byte index), so a verifier on another thread
 * recomputes what the producer wrote without sharing anything but the seed.
 */
import type { RingBuffers } from '../ring.js';

/** splitmix32's finalizer: a well-mixed 32-bit hash. */
export function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** A small seeded generator (xorshift32 over a mixed seed) for choices inside a test. */
export class TestRng {
  private state: number;

  constructor(seed: number) {
    this.state = mix32(seed) || 1;
  }

  u32(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }
}

function recordHash(seed: number, seq: number): number {
  return mix32((seed ^ Math.imul(seq, 0x9e3779b1)) + 0x632be5ab);
}

/** Payload length of record `seq`: uniform in [0, maxLength]. */
export function recordLength(seed: number, seq: number, maxLength: number): number {
  return recordHash(seed, seq) % (maxLength + 1);
}

function recordByte(hash: number, index: number): number {
  return mix32(hash + index) & 0xff;
}

/** Writes record `seq`'s payload of `length` bytes at `offset`. */
export function writeRecord(view: DataView, offset: number, seed: number, seq: number, length: number): void {
  const hash = recordHash(seed, seq);
  for (let i = 0; i < length; i++) view.setUint8(offset + i, recordByte(hash, i));
}

/** Index of the first wrong byte of record `seq` at `offset`, or -1 when it is intact. */
export function firstBadByte(view: DataView, offset: number, seed: number, seq: number, length: number): number {
  const hash = recordHash(seed, seq);
  for (let i = 0; i < length; i++) if (view.getUint8(offset + i) !== recordByte(hash, i)) return i;
  return -1;
}

/** Folds a record's bytes into a running FNV-1a checksum. */
export function checksum(view: DataView, offset: number, length: number, acc: number): number {
  let h = acc;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ view.getUint8(offset + i), 0x01000193);
  return h >>> 0;
}

export const CHECKSUM_START = 0x811c9dc5;

/** Guard bytes around a ring's data region: a pattern that no record byte sequence is likely to reproduce. */
export const GUARD_BYTES = 64;

export function guardByte(i: number): number {
  return (i * 151 + 89) & 0xff;
}

/** Fills `[from, from + GUARD_BYTES)` of `bytes` with the guard pattern. */
export function fillGuard(bytes: Uint8Array, from: number): void {
  for (let i = 0; i < GUARD_BYTES; i++) bytes[from + i] = guardByte(i);
}

/** Number of guard bytes in `[from, from + GUARD_BYTES)` that differ from the pattern. */
export function damagedGuardBytes(bytes: Uint8Array, from: number): number {
  let damaged = 0;
  for (let i = 0; i < GUARD_BYTES; i++) if (bytes[from + i] !== guardByte(i)) damaged++;
  return damaged;
}

/** Messages the ring test worker posts back. */
export type WorkerReport =
  | { kind: 'ready' }
  | { kind: 'record'; seq: number; length: number; intact: boolean }
  | { kind: 'verified'; count: number; mismatches: number; firstMismatch: string; checksum: number; batches: number }
  | { kind: 'produced'; count: number; checksum: number };

/** What the ring test worker is asked to do. */
export interface WorkerTask {
  readonly mode: 'verify' | 'produce' | 'echo';
  readonly buffers: RingBuffers;
  readonly seed: number;
  /** Records to produce ('produce'); verifiers stop when the ring is closed and drained. */
  readonly count: number;
  readonly maxLength: number;
  /** Timeout of each wait in ms. */
  readonly waitMs: number;
  /** Spins before each wait: 0 sends every wait to sleep, to exercise the wake-up races. */
  readonly spins: number;
}
