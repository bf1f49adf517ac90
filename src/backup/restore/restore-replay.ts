/**
 * Decoding a differential artifact's transactions for replay: records framed and validated (ids,
 * body and chain checksums), those the store already has skipped, the --restore-until limit
 * applied, and command bodies decoded. `ReplayDecoder` is the one implementation of everything but
 * the command decoding; `--parallel-recovery` runs it on a worker thread, so that framing and
 * validating the next chunks overlaps with the main thread decoding and applying the current ones.
 *
 * What runs where, and why: LMDB has one writer, so applying stays serial and in order on the main
 * thread. Decoded commands are object graphs (Maps, strings, bigints); handing them across threads
 * means structured cloning, which costs the receiving thread more than decoding the bytes itself
 * (measured: decode plus hand-over took about 3x as long as decoding here, docs/restore.md). So the
 * worker sends validated record bodies back
 * as one transferred buffer per chunk, and the main thread decodes them. The result is the same
 * store either way; only the wall time differs.
 */
import type { Worker } from 'node:worker_threads';
import { type Command, decodeCommands } from '../../txlog/commands.js';
import { RecordStreamParser } from '../../txlog/record-stream.js';
import { type ErrorCode, QuiverError } from '../../util/errors.js';
import { startWorker } from '../../util/worker-path.js';
import { isPastLimit, type RestoreUntil } from '../plan/restore-until.js';

/** Payload chunks (about one 1 MiB block each) handed to the worker ahead of the one being applied. */
export const decodeChunksInFlightMax = 4;

export interface DecodedTx {
  txId: number;
  checksum: number;
  commitTimeMs: number;
  commands: Command[];
}

/** A record that passed every check and is to be applied; its body is not decoded yet. */
export interface ValidatedRecord {
  txId: number;
  checksum: number;
  commitTimeMs: number;
  body: Buffer;
}

/** Everything a decoder needs to know, plain data so that it can be sent to a worker. */
export interface ReplayDecoderInit {
  artifactName: string;
  /** First transaction of the artifact, and the chain checksum of the one before it. */
  lowestTx: number;
  parentChecksum: number;
  /** Highest transaction the artifact's trailer promises. */
  highestTx: number;
  /** Where the store being restored stands. */
  storeLastTxId: number;
  storeLastChecksum: number;
  until: RestoreUntil | null;
}

export interface ValidatedChunk {
  records: ValidatedRecord[];
  /** A transaction at or past --restore-until was met: nothing after it is wanted. */
  reachedLimit: boolean;
}

export class ReplayDecoder {
  private readonly parser: RecordStreamParser;
  /** The last transaction accepted (or that the store already had). */
  private current: number;
  reachedLimit = false;

  constructor(private readonly init: ReplayDecoderInit) {
    this.parser = new RecordStreamParser(init.lowestTx, init.parentChecksum);
    this.current = init.storeLastTxId;
  }

  /** Validates the records completed by `chunk` and keeps those to apply. Throws on the first bad record. */
  push(chunk: Buffer): ValidatedChunk {
    const records: ValidatedRecord[] = [];
    if (this.reachedLimit) return { records, reachedLimit: true };
    for (const { record } of this.parser.push(chunk)) {
      if (record.txId <= this.current) {
        // Overlap with what the store already has: it must be the same history.
        if (record.txId === this.init.storeLastTxId && record.chainCrc !== this.init.storeLastChecksum) {
          throw new QuiverError('ChainBroken', `artifact "${this.init.artifactName}" disagrees with the restored store about tx ${record.txId}`);
        }
        continue;
      }
      if (isPastLimit(this.init.until, record.txId, record.commitTimeMs)) {
        this.reachedLimit = true;
        break;
      }
      records.push({ txId: record.txId, checksum: record.chainCrc, commitTimeMs: record.commitTimeMs, body: record.body });
      this.current = record.txId;
    }
    return { records, reachedLimit: this.reachedLimit };
  }

  /** After the last chunk (when the limit was not reached): the stream must end on a record boundary, at the trailer's highest tx. */
  end(): void {
    this.parser.end();
    if (this.parser.nextTxId - 1 !== this.init.highestTx) {
      throw new QuiverError('ArtifactCorrupt', `artifact "${this.init.artifactName}" holds transactions up to ${this.parser.nextTxId - 1}, but its trailer says ${this.init.highestTx}`);
    }
  }
}

/** The one place record bodies become commands, whichever thread validated them. */
export function decodeRecord(r: ValidatedRecord): DecodedTx {
  return { txId: r.txId, checksum: r.checksum, commitTimeMs: r.commitTimeMs, commands: decodeCommands(r.body) };
}

// ---- records between threads: one transferred buffer of bodies plus their positions ----

/** Validated records packed for postMessage without copying object graphs. */
export interface PackedRecords {
  /** txId, checksum, commitTimeMs per record (all exact in a float64). */
  meta: Float64Array;
  /** Body lengths, in order; bodies lie back to back in `bodies`. */
  lengths: Uint32Array;
  bodies: ArrayBuffer;
}

export function packRecords(records: ValidatedRecord[]): { packed: PackedRecords; transfer: ArrayBuffer[] } {
  const meta = new Float64Array(records.length * 3);
  const lengths = new Uint32Array(records.length);
  let total = 0;
  for (const r of records) total += r.body.length;
  const bodies = new Uint8Array(total);
  let at = 0;
  records.forEach((r, i) => {
    meta[i * 3] = r.txId;
    meta[i * 3 + 1] = r.checksum;
    meta[i * 3 + 2] = r.commitTimeMs;
    lengths[i] = r.body.length;
    bodies.set(r.body, at);
    at += r.body.length;
  });
  return { packed: { meta, lengths, bodies: bodies.buffer }, transfer: [meta.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer, bodies.buffer] };
}

export function unpackRecords(p: PackedRecords): ValidatedRecord[] {
  const out: ValidatedRecord[] = [];
  let at = 0;
  for (let i = 0; i < p.lengths.length; i++) {
    const length = p.lengths[i]!;
    out.push({ txId: p.meta[i * 3]!, checksum: p.meta[i * 3 + 1]!, commitTimeMs: p.meta[i * 3 + 2]!, body: Buffer.from(p.bodies, at, length) });
    at += length;
  }
  return out;
}

// ---- the worker side of --parallel-recovery, seen from the main thread ----

/** Worker protocol. Requests are answered one by one, in order. */
export type DecodeRequest = { type: 'chunk'; seq: number; data: ArrayBuffer } | { type: 'end'; seq: number };
export type DecodeReply =
  | { type: 'validated'; seq: number; records: PackedRecords; reachedLimit: boolean }
  | { type: 'ended'; seq: number }
  | { type: 'failed'; seq: number; code: ErrorCode | null; message: string; hint: string | null };

/** A ReplayDecoder running on a worker thread. */
export class WorkerReplayDecoder {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: DecodeReply) => void; reject: (e: Error) => void }>();
  private nextSeq = 1;
  private failure: Error | null = null;

  constructor(init: ReplayDecoderInit) {
    this.worker = startWorker(import.meta.url, 'restore-replay-worker', { workerData: init });
    this.worker.on('message', (reply: DecodeReply) => {
      const p = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      p?.resolve(reply);
    });
    const failAll = (e: Error) => {
      this.failure ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', (e) => failAll(new Error(`the replay decode worker failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => failAll(new Error(`the replay decode worker exited (code ${code})`)));
  }

  private request(message: DecodeRequest, transfer: ArrayBuffer[]): Promise<DecodeReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<DecodeReply>((resolve, reject) => {
      this.pending.set(message.seq, { resolve, reject });
      this.worker.postMessage(message, transfer);
    }).then((reply) => {
      if (reply.type === 'failed') throw reply.code ? new QuiverError(reply.code, reply.message, reply.hint ? { hint: reply.hint } : undefined) : new Error(reply.message);
      return reply;
    });
  }

  async push(chunk: Buffer): Promise<ValidatedChunk> {
    // Copy into a buffer of its own: the chunk may share memory with other data, and transferring moves all of it.
    const data = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer;
    const reply = await this.request({ type: 'chunk', seq: this.nextSeq++, data }, [data]);
    if (reply.type !== 'validated') throw new Error(`assertion: decode worker answered a chunk with "${reply.type}"`);
    return { records: unpackRecords(reply.records), reachedLimit: reply.reachedLimit };
  }

  async end(): Promise<void> {
    const reply = await this.request({ type: 'end', seq: this.nextSeq++ }, []);
    if (reply.type !== 'ended') throw new Error(`assertion: decode worker answered the end with "${reply.type}"`);
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    for (const p of this.pending.values()) p.reject(new Error('the replay decode worker was stopped'));
    this.pending.clear();
    await this.worker.terminate();
  }
}
