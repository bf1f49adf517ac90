/**
 * One artifact being written to S3: the bytes stream into a multipart upload (`@aws-sdk/lib-storage`)
 * as they are written, a part at a time, never staged on disk. Nothing is visible under the name
 * until the upload completes, with `If-None-Match: *` so it never replaces an object; a failed or
 * aborted write aborts its multipart upload. While the upload runs, a small record under the prefix
 * names its writer (host, pid) so that a later run can clean up after a writer that was killed.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { QuiverError } from '../../util/errors.js';
import type { CrashHook, TargetWriter, WriteOptions } from '../target.js';
import { s3PartsMax } from './limits.js';
import { s3ErrorCode, s3HttpStatus } from './s3-errors.js';
import type { S3TargetSettings } from './s3-settings.js';
import type { S3Target } from './s3-target.js';

/** Who writes an upload; stored as JSON beside it while it runs. */
export interface UploadRecord {
  name: string;
  hostTag: string;
  pid: number;
  startedAtMs: number;
}

export interface S3WriterOptions {
  target: S3Target;
  client: S3Client;
  name: string;
  key: string;
  settings: S3TargetSettings;
  crashHook: CrashHook;
  record: UploadRecord;
  onCommitted: (sizeBytes: number, etag: string | undefined) => void;
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

/** Buffered between write() and the uploader: the uploader cuts parts of its own size from this stream. */
const bodyHighWaterMarkBytes = 1024 * 1024;

export class S3TargetWriter implements TargetWriter {
  private state: WriterState = 'open';
  private readonly body = new PassThrough({ highWaterMark: bodyHighWaterMarkBytes });
  private readonly upload: Upload;
  private readonly finished: Promise<{ etag: string | undefined }>;
  private failure: unknown;
  private uploadId: string | undefined;
  private recordWritten = false;
  /** Every request the uploader has in flight, so abort can wait for them before aborting the upload. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private bytesWritten = 0;
  /** The object exists under the final name (the upload completed). */
  private completed = false;

  constructor(private readonly o: S3WriterOptions) {
    const s = o.settings;
    const params: PutObjectCommandInput = {
      Bucket: o.target.bucket,
      Key: o.key,
      Body: this.body,
      ContentType: 'application/octet-stream',
      ...(s.storageClass !== undefined ? { StorageClass: s.storageClass as PutObjectCommandInput['StorageClass'] } : {}),
      ...(s.serverSideEncryption === 'SSE-S3' ? { ServerSideEncryption: 'AES256' } : {}),
      ...(s.serverSideEncryption === 'SSE-KMS' ? { ServerSideEncryption: 'aws:kms', ...(s.sseKmsKeyId ? { SSEKMSKeyId: s.sseKmsKeyId } : {}) } : {}),
      // lib-storage passes this on to CompleteMultipartUpload (or the single PutObject of a small artifact).
      ...(s.conditionalWrites ? { IfNoneMatch: '*' } : {}),
    };
    // The uploader sends through this writer, which sees each request: it records the upload id,
    // writes the writer record before any part, and runs the crash hook just before completion.
    const client = { config: o.client.config, send: (command: unknown) => this.send(command) } as unknown as S3Client;
    this.upload = new Upload({
      client,
      params,
      partSize: s.partSizeBytes,
      queueSize: s.uploadConcurrency,
      // We abort the upload ourselves (abort()), after its requests settle, and report the real error.
      leavePartsOnError: true,
    });
    this.finished = this.upload.done().then(
      (r) => ({ etag: 'ETag' in r ? r.ETag : undefined }),
      (e: unknown) => {
        this.failure = e;
        throw e;
      },
    );
    this.finished.catch(() => undefined); // observed by write/commit/abort
  }

  private async send(command: unknown): Promise<unknown> {
    const completing = command instanceof CompleteMultipartUploadCommand || command instanceof PutObjectCommand;
    if (completing) {
      await this.o.crashHook('backup.beforeRename');
      // Without conditional writes, the store would replace an object committed meanwhile: check last.
      if (!this.o.settings.conditionalWrites && (await this.o.target.head(this.o.name)) !== null) throw this.o.target.destinationExists(this.o.name);
    }
    const request = this.o.client.send(command as CreateMultipartUploadCommand);
    this.inFlight.add(request);
    try {
      const result = await request;
      if (command instanceof CreateMultipartUploadCommand) {
        this.uploadId = result.UploadId;
        if (this.uploadId !== undefined) {
          await this.o.target.putUploadRecord(this.uploadId, this.o.record);
          this.recordWritten = true;
        }
      }
      if (completing) this.completed = true;
      return result;
    } finally {
      this.inFlight.delete(request);
    }
  }

  async write(bytes: Uint8Array, options: WriteOptions = {}): Promise<void> {
    if (this.state !== 'open') throw new Error(`write to artifact "${this.o.name}" after ${this.state}`);
    if (this.failure !== undefined) throw this.writeError(this.failure);
    this.bytesWritten += bytes.length;
    if (this.bytesWritten > this.o.settings.partSizeBytes * s3PartsMax) {
      throw new QuiverError('IoError', `cannot write artifact "${this.o.name}": it is larger than ${s3PartsMax} parts of ${this.o.settings.partSizeBytes} bytes`, {
        hint: 'raise backup.s3.part_size',
      });
    }
    // The uploader holds chunks until a part is full, so a buffer the caller may reuse once we return
    // is copied. A handed-over one (every artifact byte: ArtifactWriter never reuses what it emits) is
    // not: the uploader's own Buffer.concat of each part is then the only copy on the way to the socket.
    if (!this.body.write(options.handOver === true ? bytes : Buffer.from(bytes))) {
      await Promise.race([once(this.body, 'drain'), this.finished]).catch((e: unknown) => {
        throw this.writeError(e);
      });
    }
    if (this.failure !== undefined) throw this.writeError(this.failure);
  }

  async commit(): Promise<string> {
    if (this.state !== 'open') throw new Error(`commit of artifact "${this.o.name}" after ${this.state}`);
    this.state = 'committing';
    try {
      this.body.end();
      let etag: string | undefined;
      try {
        etag = (await this.finished).etag;
      } catch (e) {
        if (s3HttpStatus(e) === 412 || s3ErrorCode(e) === 'PreconditionFailed') throw this.o.target.destinationExists(this.o.name);
        throw this.writeError(e);
      }
      await this.o.crashHook('backup.afterRename');
      if (this.recordWritten && this.uploadId !== undefined) await this.o.target.removeUploadRecord(this.uploadId).catch(() => undefined);
      this.state = 'committed';
      this.o.onCommitted(this.bytesWritten, etag);
      return this.o.name;
    } catch (e) {
      // A commit that fails leaves nothing: no upload, and no object if this writer created one.
      await this.discard();
      this.state = 'aborted';
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    await this.discard();
    this.state = 'aborted';
  }

  /**
   * Stops the uploader, waits for its requests to settle (a part still in flight would otherwise
   * land after the abort), then aborts the multipart upload and removes the writer record. Cleanup
   * errors are swallowed: the caller is already reporting the failure that caused the cleanup, and
   * what is left is found by the next removeAbandoned.
   */
  private async discard(): Promise<void> {
    await this.upload.abort();
    this.body.destroy();
    await this.finished.catch(() => undefined);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const { client, target, key } = this.o;
    if (this.completed) {
      await client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key })).catch(() => undefined);
    } else if (this.uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: this.uploadId })).catch(() => undefined);
    }
    if (this.recordWritten && this.uploadId !== undefined) await target.removeUploadRecord(this.uploadId).catch(() => undefined);
  }

  private writeError(e: unknown): QuiverError {
    return this.o.target.fail(e, `cannot write artifact "${this.o.name}"`, this.o.name);
  }
}
