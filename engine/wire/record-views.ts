/**
 * Typed-array views over one buffer of binary records, for writing and reading fields without
 * DataView calls (DataView's 64-bit accessors cost ~13 ns each on Node 20; a typed-array store is
 * a few). Records are 8-byte aligned and every field is aligned to its own size (wire/layout.ts),
 * so a field at byte `p` is element `p >> log2(size)` of the view of its type.
 *
 * Typed arrays use the platform's byte order while the DataView readers use little-endian, so
 * this module refuses to load on a big-endian machine.
 */
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('binary records are little-endian: this platform is not');

export class RecordViews {
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly i64: BigInt64Array;

  constructor(buffer: ArrayBufferLike) {
    const words = Math.floor(buffer.byteLength / 8);
    this.u8 = new Uint8Array(buffer, 0, words * 8);
    this.u16 = new Uint16Array(buffer, 0, words * 4);
    this.u32 = new Uint32Array(buffer, 0, words * 2);
    this.i32 = new Int32Array(buffer, 0, words * 2);
    this.f64 = new Float64Array(buffer, 0, words);
    this.i64 = new BigInt64Array(buffer, 0, words);
  }
}
