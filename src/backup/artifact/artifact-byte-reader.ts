/**
 * Exact-length reads from a stream of byte chunks of any sizes, so the artifact scanner can ask for
 * "the next 16 bytes" without caring where the stream split them. Tracks the file offset it reached.
 */

export class ByteReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  /** Offset in the stream of the next byte `read` returns. */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** The next `length` bytes, or null when the stream ends first (the bytes that were left are dropped). */
  async read(length: number): Promise<Buffer | null> {
    while (this.buffered < length && !this.ended) await this.pull();
    if (this.buffered < length) {
      this.offset += this.buffered;
      this.chunks.length = 0;
      this.buffered = 0;
      return null;
    }
    const out = this.take(length);
    this.buffered -= length;
    this.offset += length;
    return out;
  }

  /** True when every byte has been read and the stream has ended. */
  async atEnd(): Promise<boolean> {
    while (this.buffered === 0 && !this.ended) await this.pull();
    return this.buffered === 0;
  }

  /** Stops the underlying stream early (closing its file). */
  async close(): Promise<void> {
    if (!this.ended) await this.source.return?.();
    this.ended = true;
  }

  private async pull(): Promise<void> {
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return;
    }
    const value = next.value;
    if (value.length === 0) return;
    this.chunks.push(Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    this.buffered += value.length;
  }

  private take(length: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0];
      if (chunk === undefined) throw new Error('ByteReader: buffered count out of step with chunks');
      const part = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
