/**
 * Fixed binary record layouts, defined once: each field's offset is chained from the previous
 * field's end, so there is no hand-written offset table to drift.
 */
export type FieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'i64';

const FIELD_SIZE: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f64: 8, i64: 8 };

export interface Layout<K extends string> {
  /** Byte offset of each field from the start of the record. */
  readonly at: { readonly [P in K]: number };
  readonly types: { readonly [P in K]: FieldType };
  /** Record size in bytes, rounded up to a multiple of 8 so that 8-byte fields stay aligned in a stream of records. */
  readonly size: number;
}

/** Builds a layout; every field is aligned to its own size. */
export function defineLayout<const K extends string>(fields: readonly (readonly [K, FieldType])[]): Layout<K> {
  const at = {} as Record<K, number>;
  const types = {} as Record<K, FieldType>;
  let offset = 0;
  for (const [name, type] of fields) {
    if (name in at) throw new Error(`duplicate field ${name}`);
    const size = FIELD_SIZE[type];
    offset = Math.ceil(offset / size) * size;
    at[name] = offset;
    types[name] = type;
    offset += size;
  }
  // Rebuilt from entries so that V8 keeps a fast (non-dictionary) shape even for many fields:
  // the hot path reads these offsets on every record.
  return Object.freeze({
    at: Object.freeze(Object.fromEntries(Object.entries(at))) as Record<K, number>,
    types: Object.freeze(types),
    size: Math.ceil(offset / 8) * 8,
  });
}
