/**
 * Writes one artifact front to back (header, blocks, trailer) through a write-once target writer,
 * compressing blocks in worker threads, and commits it only after asserting what the trailer
 * promises. A failed or aborted write leaves no file that looks like an artifact.
 */
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import type { BackupTarget, CrashHook, TargetWriter } from '../../targets/target.js';
import { blockFlagZstd, blockHeaderBytes, blockHeaderProblem, decodeBlockHeader, encodeBlockHeader } from './artifact-block.js';
import { encodeHeader, headerProblem, type ArtifactHeader } from './artifact-header.js';
import { expectedFileBytes, sealProblem } from './artifact-invariants.js';
import { artifactSuffix, nextArtifactName } from './artifact-name.js';
import { encodeTrailer, type ArtifactTrailer } from './artifact-trailer.js';
import { sharedCompressionPool, type CompressionPool, type StoredBlock } from '../compression/compression.js';
import { OrderedQueue } from '../compression/compression-queue.js';
import { blockRawBytesDefault, blocksInFlightMax } from '../limits.js';

/** The header fields a producer chooses; the writer adds compression and block size. */
export type ArtifactHeaderInput = Omit<ArtifactHeader, 'compressed' | 'compression' | 'blockRawBytes'>;

/** The trailer fields a producer knows at the end; the writer adds block counts, sizes and digest. */
export type ArtifactTrailerInput = Pick<ArtifactTrailer, 'lowestTx' | 'highestTx' | 'highestTxCommitTimeMs' | 'lastTxChecksum' | 'txCount'>;

export interface ArtifactWriterOptions {
  compress: boolean;
  /** Raw bytes per block; default 1 MiB. Smaller values make multi-block tests cheap. */
  blockRawBytes?: number;
  /** Default: the process-wide pool. */
  pool?: CompressionPool;
  /** Stops at the commit's crash points (`backup.beforeRename`, `backup.afterRename`). */
  crashHook?: CrashHook;
  /**
   * Commits under the next `_NNN` name (artifact-name.ts) when the name is taken by the time the
   * artifact is started or committed, instead of failing with DestinationExists.
   */
  nextNameOnCollision?: boolean;
}

export interface ArtifactWritten {
  name: string;
  uri: string;
  /** Size of the artifact file. */
  bytesStored: number;
  /** Payload bytes given to `write`. */
  bytesRaw: number;
  blockCount: number;
}

type WriterState = 'open' | 'busy' | 'committed' | 'failed';

export class ArtifactWriter {
  private state: WriterState = 'open';
  private block: Buffer;
  private blockFilled = 0;
  private readonly queue = new OrderedQueue<StoredBlock>(blocksInFlightMax);
  private readonly sha256: Hash = createHash('sha256');
  private bytesWritten = 0;
  private blockCount = 0;
  private payloadRawBytes = 0;
  private payloadStoredBytes = 0;
  /** An encoded block shorter than a full block was written: it must be the last. */
  private shortBlockWritten = false;
  private encodedBlocksWritten = false;

  private constructor(
    private readonly target: BackupTarget,
    readonly name: string,
    readonly header: ArtifactHeader,
    private readonly headerBytes: number,
    private readonly headerCrc32: number,
    private readonly output: TargetWriter,
    private readonly pool: CompressionPool | undefined,
  ) {
    this.block = Buffer.allocUnsafeSlow(header.blockRawBytes);
  }

  /** Starts an artifact: validates the header, opens the target writer and writes the header. */
  static async create(target: BackupTarget, name: string, input: ArtifactHeaderInput, options: ArtifactWriterOptions): Promise<ArtifactWriter> {
    assert.ok(name.endsWith(artifactSuffix), `artifact name "${name}" must end with ${artifactSuffix}`);
    const header: ArtifactHeader = {
      ...input,
      compressed: options.compress,
      compression: options.compress ? 'zstd' : 'none',
      blockRawBytes: options.blockRawBytes ?? blockRawBytesDefault,
    };
    const problem = headerProblem(header);
    assert.equal(problem, null, `cannot write artifact "${name}": ${problem}`);
    const encoded = encodeHeader(header);
    const output = await target.createWriteOnce(name, {
      ...(options.crashHook ? { crashHook: options.crashHook } : {}),
      ...(options.nextNameOnCollision ? { nextNameOnCollision: nextArtifactName } : {}),
    });
    const pool = options.compress ? (options.pool ?? sharedCompressionPool()) : undefined;
    const writer = new ArtifactWriter(target, name, header, encoded.bytes.length, encoded.crc32, output, pool);
    await writer.guard(() => writer.emit(encoded.bytes));
    return writer;
  }

  /**
   * Appends payload bytes. The chunk may be reused once the promise resolves. Await each call before
   * the next: the promise is the back-pressure (it waits while blocks are being compressed).
   */
  async write(chunk: Uint8Array): Promise<void> {
    await this.guard(async () => {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(chunk.length - offset, this.block.length - this.blockFilled);
        this.block.set(chunk.subarray(offset, offset + take), this.blockFilled);
        this.blockFilled += take;
        offset += take;
        if (this.blockFilled === this.block.length) await this.sealBlock();
      }
    });
  }

  /**
   * Appends a block encoded elsewhere (the store image workers): written as it is, without
   * recompressing. The caller has checked its CRC (image-stream.ts) or made it in this process.
   * The caller hands `encoded` over and never changes it afterwards: the target may hold it until
   * its part is uploaded. Cannot be mixed with `write` in one artifact.
   */
  async writeEncodedBlock(encoded: Buffer): Promise<void> {
    await this.guard(async () => {
      assert.equal(this.blockFilled + this.queue.length, 0, `artifact "${this.name}": writeEncodedBlock cannot follow write`);
      assert.ok(!this.shortBlockWritten, `artifact "${this.name}": only the last block may be shorter than ${this.header.blockRawBytes} bytes`);
      const block = decodeBlockHeader(encoded);
      assert.equal(encoded.length, blockHeaderBytes + block.storedBytes, `artifact "${this.name}": encoded block length disagrees with its header`);
      const problem = blockHeaderProblem(block, this.header, true);
      assert.equal(problem, null, `artifact "${this.name}": encoded block ${problem}`);
      await this.emit(encoded);
      this.encodedBlocksWritten = true;
      this.shortBlockWritten = block.rawBytes < this.header.blockRawBytes;
      this.blockCount += 1;
      this.payloadRawBytes += block.rawBytes;
      this.payloadStoredBytes += block.storedBytes;
    });
  }

  /** Writes the last block and the trailer, asserts the artifact's promises, and commits it. */
  async finish(input: ArtifactTrailerInput): Promise<ArtifactWritten> {
    return this.guard(async () => {
      if (this.blockFilled > 0) await this.sealBlock();
      while (this.queue.length > 0) await this.writeBlock(await this.queue.shift());
      const trailer: ArtifactTrailer = {
        lowestTx: input.lowestTx,
        highestTx: input.highestTx,
        highestTxCommitTimeMs: input.highestTxCommitTimeMs,
        lastTxChecksum: input.lastTxChecksum,
        txCount: input.txCount,
        payloadRawBytes: this.payloadRawBytes,
        payloadStoredBytes: this.payloadStoredBytes,
        blockCount: this.blockCount,
        headerCrc32: this.headerCrc32,
        headerBytes: this.headerBytes,
        sha256Hex: this.sha256.digest('hex'),
      };
      const problem = sealProblem(this.header, trailer);
      assert.equal(problem, null, `cannot seal artifact "${this.name}": ${problem}`);
      await this.emit(encodeTrailer(trailer), false);
      assert.equal(this.bytesWritten, expectedFileBytes(trailer), `artifact "${this.name}": wrote ${this.bytesWritten} bytes, the trailer accounts for ${expectedFileBytes(trailer)}`);
      const committedName = await this.output.commit();
      this.state = 'committed';
      return {
        name: committedName,
        uri: this.target.uri(committedName),
        bytesStored: this.bytesWritten,
        bytesRaw: this.payloadRawBytes,
        blockCount: this.blockCount,
      };
    });
  }

  /** Discards the artifact. Safe to call at any time and more than once; a no-op once committed. */
  async abort(): Promise<void> {
    if (this.state === 'committed') return;
    this.state = 'failed';
    await this.output.abort();
  }

  /** Runs one public operation: refuses overlapping or late calls, and aborts the artifact if it fails. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    const why = { busy: 'busy: await each call before the next', committed: 'already committed', failed: 'failed or aborted', open: '' }[this.state];
    assert.equal(this.state, 'open', `artifact writer "${this.name}" is ${why}`);
    this.state = 'busy';
    try {
      const result = await operation();
      if (this.state === 'busy') this.state = 'open';
      return result;
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Hands the full (or last) block to compression, and writes the oldest blocks while too many are in flight. */
  private async sealBlock(): Promise<void> {
    assert.ok(!this.encodedBlocksWritten, `artifact "${this.name}": write cannot follow writeEncodedBlock`);
    const raw = this.block.subarray(0, this.blockFilled);
    this.block = Buffer.allocUnsafeSlow(this.header.blockRawBytes);
    this.blockFilled = 0;
    this.queue.push(this.pool ? this.pool.compress(raw) : Promise.resolve({ stored: raw, compressed: false, rawBytes: raw.length }));
    while (this.queue.full) await this.writeBlock(await this.queue.shift());
  }

  private async writeBlock(block: StoredBlock): Promise<void> {
    const blockHeader = encodeBlockHeader(block.rawBytes, block.compressed ? blockFlagZstd : 0, block.stored);
    await this.emit(blockHeader);
    await this.emit(block.stored);
    this.blockCount += 1;
    this.payloadRawBytes += block.rawBytes;
    this.payloadStoredBytes += block.stored.length;
  }

  /**
   * Writes bytes to the target; everything before the trailer also goes into the digest. Every
   * buffer emitted is fresh (a header or trailer encoded for it, a block sealed into a new buffer, an
   * encoded block the caller hands over), so the target may keep it without a copy.
   */
  private async emit(bytes: Uint8Array, digested = true): Promise<void> {
    if (digested) this.sha256.update(bytes);
    await this.output.write(bytes, { handOver: true });
    this.bytesWritten += bytes.length;
  }
}
