/**
 * Bolt message framing. A `Dechunker` takes byte slices as they arrive (split anywhere) and yields
 * whole messages; `chunk` frames one message for the wire. Both are pure: no sockets, no timers.
 */
import { QuiverError } from '../util/errors.js';
import { boltChunkBytesMax, boltMessageBytesMax } from './limits.js';

/**
 * Reassembles messages from `[u16 size][bytes]…[00 00]`. An empty chunk between messages is a NOOP
 * keep-alive and is skipped. A message growing beyond `messageBytesMax` throws BoltMessageMalformed;
 * the stream cannot be resynchronised after that, so the connection must close.
 */
export class Dechunker {
  private header = 0;
  private headerBytes = 0;
  /** Bytes still to read for the current chunk; 0 while reading a header. */
  private chunkRemaining = 0;
  private parts: Uint8Array[] = [];
  private messageBytes = 0;

  constructor(private readonly messageBytesMax = boltMessageBytesMax) {}

  /** Feeds bytes; returns the messages completed by them, in order. */
  push(bytes: Uint8Array): Uint8Array[] {
    const messages: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      if (this.chunkRemaining > 0) {
        const n = Math.min(this.chunkRemaining, bytes.length - at);
        // Copy: the caller may reuse its buffer once push returns.
        this.parts.push(bytes.slice(at, at + n));
        this.chunkRemaining -= n;
        at += n;
        continue;
      }
      this.header = (this.header << 8) | (bytes[at++] as number);
      if (++this.headerBytes < 2) continue;
      const size = this.header;
      this.header = 0;
      this.headerBytes = 0;
      if (size === 0) {
        if (this.messageBytes > 0) messages.push(this.finishMessage());
        continue; // else NOOP
      }
      if (this.messageBytes + size > this.messageBytesMax) {
        throw new QuiverError('BoltMessageMalformed', `request message exceeds ${this.messageBytesMax} bytes`, {
          hint: 'send large data in several queries, or raise boltMessageBytesMax',
        });
      }
      this.messageBytes += size;
      this.chunkRemaining = size;
    }
    return messages;
  }

  /** True when no partial message or header is buffered (a clean place for the stream to end). */
  get idle(): boolean {
    return this.messageBytes === 0 && this.headerBytes === 0;
  }

  private finishMessage(): Uint8Array {
    const message = this.parts.length === 1 ? (this.parts[0] as Uint8Array) : concat(this.parts, this.messageBytes);
    this.parts = [];
    this.messageBytes = 0;
    return message;
  }
}

/** Frames one message: chunks of at most `chunkBytesMax` bytes, then the `00 00` end marker. */
export function chunk(message: Uint8Array, chunkBytesMax = boltChunkBytesMax): Uint8Array {
  if (message.length === 0) throw new QuiverError('Internal', 'cannot frame an empty Bolt message');
  const chunks = Math.ceil(message.length / chunkBytesMax);
  const out = new Uint8Array(message.length + chunks * 2 + 2);
  let at = 0;
  for (let from = 0; from < message.length; from += chunkBytesMax) {
    const size = Math.min(chunkBytesMax, message.length - from);
    out[at++] = size >> 8;
    out[at++] = size & 0xff;
    out.set(message.subarray(from, from + size), at);
    at += size;
  }
  // The trailing 00 00 is already there: Uint8Array starts zeroed.
  return out;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
