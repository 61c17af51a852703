/**
 * Reassembles a request body from the chunks uWS hands over (every chunk, not just the last one,
 * which is what the original kept), up to a size limit. uWS neuters each chunk's ArrayBuffer when
 * the callback returns, so chunks are copied unless the body arrives whole in its last chunk.
 */

/** A body that arrived whole in one chunk, as text (the common case: nothing copied); null when over `maxBytes`. */
export function wholeBody(chunk: ArrayBuffer, maxBytes: number): string | null {
  return chunk.byteLength <= maxBytes ? Buffer.from(chunk).toString('utf8') : null;
}

export class BodyReader {
  private readonly parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk that is not the last; false when the body is now over the limit. Copies the chunk. */
  add(chunk: ArrayBuffer): boolean {
    this.size += chunk.byteLength;
    if (this.size > this.maxBytes) return false;
    if (chunk.byteLength > 0) this.parts.push(Buffer.from(new Uint8Array(chunk)));
    return true;
  }

  /** The whole body as text, given the last chunk (read before the callback returns); null when over the limit. */
  finish(last: ArrayBuffer): string | null {
    if (this.parts.length === 0) return wholeBody(last, this.maxBytes - this.size);
    this.size += last.byteLength;
    if (this.size > this.maxBytes) return null;
    if (last.byteLength > 0) this.parts.push(Buffer.from(last));
    return Buffer.concat(this.parts, this.size).toString('utf8');
  }
}
