/**
 * A backup target that is an S3 (or S3-compatible) bucket and key prefix. It promises what the folder
 * target promises, through S3's own guarantees: an artifact is one object, streamed in as a multipart
 * upload and visible only once the upload completes (`If-None-Match: *`, so never over another);
 * reads are ranged GETs pinned to the ETag first seen (a change during a read is an error, not mixed
 * bytes); nothing is ever staged on local disk.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { artifactNameCollisionsMax, backupLockAttemptsMax, targetListEntriesMax } from '../../backup/limits.js';
import { QuiverError } from '../../util/errors.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { BackupTarget, LockOptions, TargetEntry, TargetLock, TargetWriter, WriteOnceOptions } from '../target.js';
import { decodeLock, encodeLock, type LockContent, lockFileName, lockHeld, lockStaleReason } from '../target-lock.js';
import { assertTargetName, targetNameProblem } from '../target-name.js';
import { processRuns, thisWriter } from '../writer-identity.js';
import { withEnvCrashPoint } from '../crash-points.js';
import { s3AbandonedUploadAgeMs, s3AbandonedUploadsMax, s3ListPageKeys, s3ReadAheadChunks, s3ReadChunkBytes } from './limits.js';
import { describeS3Failure, s3ErrorCode, s3HttpStatus } from './s3-errors.js';
import type { S3TargetSettings } from './s3-settings.js';
import { formatS3Uri } from './s3-uri.js';
import { S3TargetWriter, type UploadRecord } from './s3-writer.js';

const artifactSuffix = '.backup';

/** Hidden "folder" under the prefix holding the databases' backup locks; no listing shows it. */
const lockFolder = '.quiver-locks/';

/** A held lock; release removes it only while it still holds this holder's token. */
class S3TargetLock implements TargetLock {
  private released = false;
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    readonly uri: string,
    private readonly token: string,
  ) {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      const bytes = r.Body ? Buffer.from(await r.Body.transformToByteArray()) : Buffer.alloc(0);
      // A holder judged stale may have lost the lock to another run: leave that one alone.
      if (decodeLock(bytes)?.token !== this.token) return;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key, ...(r.ETag ? { IfMatch: r.ETag } : {}) }));
    } catch (e) {
      if (s3HttpStatus(e) === 404 || s3HttpStatus(e) === 412) return;
      throw e;
    }
  }
}

/**
 * Hidden "folder" under the prefix holding one small record per running upload (who writes it), so
 * that a later run can tell an upload whose writer died from one still being written. It sorts
 * outside every listing: `list()` only takes direct children ending in ".backup".
 */
export const uploadRecordsFolder = '.quiver-uploads/';

interface KnownObject {
  size: number;
  etag: string | undefined;
  mtimeMs: number;
}

export interface S3TargetOptions {
  client: S3Client;
  bucket: string;
  /** "" or ending with "/". */
  prefix: string;
  settings: S3TargetSettings;
  /** Named in errors; undefined for AWS itself. */
  endpoint: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Injectable clock for the age of abandoned uploads. */
  nowMs?: () => number;
}

export class S3Target implements BackupTarget {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly settings: S3TargetSettings;
  private readonly endpoint: string | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly nowMs: () => number;
  /**
   * Size and ETag of objects seen by the last LIST, a HEAD or a commit: size() costs no request for
   * a listed artifact (inspect makes one LIST per prefix), and every read of an object is pinned to
   * the ETag first seen.
   */
  private readonly known = new Map<string, KnownObject>();

  constructor(options: S3TargetOptions) {
    if (options.prefix !== '' && !options.prefix.endsWith('/')) throw new Error(`assertion failed: S3 prefix "${options.prefix}" must end with "/"`);
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.settings = options.settings;
    this.endpoint = options.endpoint;
    this.env = options.env ?? process.env;
    this.nowMs = options.nowMs ?? Date.now;
  }

  uri(name?: string): string {
    return formatS3Uri(this, name);
  }

  /** A typed, one-line error for a failed request about `name` (or the prefix). */
  fail(e: unknown, action: string, name?: string): QuiverError {
    return describeS3Failure(e, { action, uri: this.uri(name), bucket: this.bucket, endpoint: this.endpoint, env: this.env });
  }

  /** One cheap request that fails clearly when the bucket is missing, the credentials are wrong or the endpoint is down. */
  async probe(): Promise<void> {
    try {
      // HeadBucket needs the same permission as a LIST (s3:ListBucket) and moves no keys.
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      // A HEAD answer has no body: its 404 can only mean the bucket; for any other refusal ask
      // again with a LIST, whose answer names the reason (SignatureDoesNotMatch, AccessDenied, …).
      const status = s3HttpStatus(e);
      let reason = e;
      if (status === 404) reason = Object.assign(new Error('bucket not found'), { name: 'NoSuchBucket', cause: e });
      else if (status !== undefined) {
        reason = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 })).then(() => e, (listError: unknown) => listError);
      }
      throw this.fail(reason, `cannot use "${this.uri()}" as a backup target`);
    }
  }

  async list(): Promise<TargetEntry[]> {
    const entries: TargetEntry[] = [];
    let token: string | undefined;
    let seen = 0;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', MaxKeys: s3ListPageKeys, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          if (++seen > targetListEntriesMax) {
            throw new QuiverError('TargetInvalid', `cannot list backup target "${this.uri()}": it has more than ${targetListEntriesMax} objects`);
          }
          const name = (object.Key ?? '').slice(this.prefix.length);
          if (!name.endsWith(artifactSuffix) || targetNameProblem(name) !== null) continue;
          const known = { size: object.Size ?? 0, etag: object.ETag, mtimeMs: object.LastModified?.getTime() ?? 0 };
          this.known.set(name, known);
          entries.push({ name, size: known.size, mtimeMs: known.mtimeMs });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (e) {
      throw this.fail(e, `cannot list backup target "${this.uri()}"`);
    }
    return entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  async size(name: string): Promise<number> {
    return (await this.stat(name)).size;
  }

  /** Size and ETag from the listing cache, else one HEAD. */
  private async stat(name: string): Promise<KnownObject> {
    assertTargetName(name);
    const cached = this.known.get(name);
    if (cached) return cached;
    const found = await this.head(name);
    if (found === null) {
      throw new QuiverError('IoError', `cannot read artifact "${name}": "${this.uri(name)}" does not exist`, {
        hint: 'list the prefix with --inspect-path to see which artifacts it holds',
      });
    }
    this.known.set(name, found);
    return found;
  }

  /** The object's size and ETag, or null when there is none. */
  async head(name: string): Promise<KnownObject | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
      return { size: r.ContentLength ?? 0, etag: r.ETag, mtimeMs: r.LastModified?.getTime() ?? 0 };
    } catch (e) {
      // HEAD has no body, so a missing bucket is a bare 404 too: the probe at resolve time reports that one.
      if (s3HttpStatus(e) === 404) return null;
      throw this.fail(e, `cannot read artifact "${name}"`, name);
    }
  }

  async readRange(name: string, offset: number, length: number): Promise<Buffer> {
    assertTargetName(name);
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new Error(`readRange: bad range offset=${offset} length=${length}`);
    }
    const cached = this.known.get(name);
    if (cached && offset >= cached.size) return Buffer.alloc(0);
    if (length === 0) {
      await this.stat(name);
      return Buffer.alloc(0);
    }
    const end = cached ? Math.min(offset + length, cached.size) : offset + length;
    return this.getRange(name, offset, end, cached?.etag);
  }

  /** Bytes [start, end) (fewer at the object's end), pinned to `etag` when given. */
  private async getRange(name: string, start: number, end: number, etag: string | undefined): Promise<Buffer> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + name, Range: `bytes=${start}-${end - 1}`, ...(etag ? { IfMatch: etag } : {}) }),
      );
      if (!this.known.has(name) && r.ContentRange) {
        const total = Number(/\/(\d+)$/.exec(r.ContentRange)?.[1]);
        if (Number.isSafeInteger(total)) this.known.set(name, { size: total, etag: r.ETag, mtimeMs: r.LastModified?.getTime() ?? 0 });
      }
      const bytes = r.Body ? await r.Body.transformToByteArray() : new Uint8Array(0);
      const out = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (out.length > end - start) throw new QuiverError('IoError', `cannot read artifact "${name}": the store answered ${out.length} bytes for a ${end - start}-byte range`);
      return out;
    } catch (e) {
      if (s3ErrorCode(e) === 'InvalidRange' || s3HttpStatus(e) === 416) return Buffer.alloc(0);
      throw this.fail(e, `cannot read artifact "${name}"`, name);
    }
  }

  /**
   * Starts a ranged GET of bytes [start, end) pinned to `etag` and returns its body unread: the bytes
   * wait in the socket (and the kernel's receive buffer) until the caller iterates them.
   */
  private async openRange(name: string, start: number, end: number, etag: string | undefined): Promise<Readable> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + name, Range: `bytes=${start}-${end - 1}`, ...(etag ? { IfMatch: etag } : {}) }),
      );
      if (r.Body === undefined) return Readable.from([]);
      if (!(r.Body instanceof Readable)) throw new Error(`assertion failed: GetObject body is a ${r.Body.constructor.name}, not a Node.js Readable`);
      return r.Body;
    } catch (e) {
      // The object shrank below the range: the caller reports the short read as a changed object.
      if (s3ErrorCode(e) === 'InvalidRange' || s3HttpStatus(e) === 416) return Readable.from([]);
      throw this.fail(e, `cannot read artifact "${name}"`, name);
    }
  }

  openRead(name: string): Readable {
    assertTargetName(name);
    const target = this;
    async function* pieces(): AsyncGenerator<Buffer> {
      const { size, etag } = await target.stat(name);
      // Ranged GETs in order, s3ReadAheadChunks started ahead so that their latency is hidden; each
      // body is passed on piece by piece as the socket delivers it, never gathered into one buffer
      // (limits.ts says why). A GET ahead holds its bytes in its socket until its turn.
      const pending: Promise<Readable>[] = [];
      let next = 0;
      const issue = () => {
        const start = next;
        const end = Math.min(size, start + s3ReadChunkBytes);
        next = end;
        const p = target.openRange(name, start, end, etag);
        p.catch(() => undefined); // awaited in order below; this only keeps a later failure from being unhandled meanwhile
        pending.push(p);
      };
      while (next < size && pending.length < s3ReadAheadChunks) issue();
      let delivered = 0;
      try {
        while (pending.length > 0) {
          const body = await pending.shift()!;
          if (next < size) issue();
          const expected = Math.min(s3ReadChunkBytes, size - delivered);
          let received = 0;
          try {
            for await (const piece of body as AsyncIterable<Buffer>) {
              received += piece.length;
              if (received > expected) break;
              yield piece;
            }
          } catch (e) {
            throw target.fail(e, `cannot read artifact "${name}"`, name);
          }
          if (received !== expected) {
            throw new QuiverError('IoError', `cannot read artifact "${name}": the object changed while it was being read (${received} bytes at offset ${delivered}, expected ${expected})`);
          }
          delivered += received;
        }
      } finally {
        // A read stopped early (an error, or a consumer that has what it needs) frees the sockets of the GETs ahead.
        for (const p of pending) p.then((body) => body.destroy(), () => undefined);
      }
    }
    return Readable.from(pieces(), { objectMode: false });
  }

  async createWriteOnce(requested: string, options: WriteOnceOptions = {}): Promise<TargetWriter> {
    assertTargetName(requested);
    // A multipart upload is bound to its key, so a taken name moves on to the next one here, before
    // the upload starts (a folder can still move on at commit). Writers of one database hold its
    // lock, so only a writer that ignores the lock can take the name between here and the commit;
    // the commit then fails (If-None-Match) and nothing is overwritten.
    let name = requested;
    for (let collisions = 0; (await this.head(name)) !== null; collisions++) {
      const next = collisions < artifactNameCollisionsMax ? options.nextNameOnCollision?.(name) : null;
      if (next === undefined || next === null) throw this.destinationExists(name);
      assertTargetName(next);
      name = next;
    }
    return new S3TargetWriter({
      target: this,
      client: this.client,
      name,
      key: this.prefix + name,
      settings: this.settings,
      crashHook: withEnvCrashPoint(options.crashHook),
      record: { name, ...thisWriter(), startedAtMs: this.nowMs() },
      onCommitted: (size, etag) => this.known.set(name, { size, etag, mtimeMs: this.nowMs() }),
    });
  }

  /**
   * The database's backup lock: an object under `.quiver-locks/` created with `If-None-Match: *`
   * (where the store honours it; otherwise a HEAD first, which leaves a short race window, see
   * docs/s3.md). A stale holder (target-lock.ts) is removed and the lock taken again.
   */
  async lock(database: string, options: LockOptions): Promise<TargetLock> {
    const key = `${this.prefix}${lockFolder}${lockFileName(database).slice(1)}`;
    const where = formatS3Uri(this, `${lockFolder}${lockFileName(database).slice(1)}`);
    const content: LockContent = { ...options.owner, token: randomBytes(8).toString('hex') };
    const nowMs = options.nowMs ?? Date.now;
    for (let attempt = 1; attempt <= backupLockAttemptsMax; attempt++) {
      if (await this.createLockObject(key, content, database)) return new S3TargetLock(this.client, this.bucket, key, where, content.token);
      const held = await this.readLockObject(key, database);
      if (held === null) continue; // released meanwhile
      const reason = lockStaleReason(held.content, held.mtimeMs, { host: hostname(), nowMs: nowMs(), processRuns });
      if (reason === null) throw lockHeld(database, this.uri(), held.content, where);
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (e) {
        throw this.fail(e, `cannot break the stale backup lock of database '${database}'`);
      }
      options.onStaleBroken?.({ uri: where, owner: held.content, reason });
    }
    throw lockHeld(database, this.uri(), (await this.readLockObject(key, database))?.content ?? null, where);
  }

  /** True when this call created the lock object; false when one exists. */
  private async createLockObject(key: string, content: LockContent, database: string): Promise<boolean> {
    try {
      if (!this.settings.conditionalWrites) {
        const exists = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })).then(() => true, (e: unknown) => {
          if (s3HttpStatus(e) === 404) return false;
          throw e;
        });
        if (exists) return false;
      }
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: encodeLock(content), ContentType: 'application/json', ...(this.settings.conditionalWrites ? { IfNoneMatch: '*' } : {}) }),
      );
      return true;
    } catch (e) {
      if (s3HttpStatus(e) === 412 || s3ErrorCode(e) === 'PreconditionFailed') return false;
      throw this.fail(e, `cannot take the backup lock of database '${database}' in "${this.uri()}"`);
    }
  }

  private async readLockObject(key: string, database: string): Promise<{ content: LockContent | null; mtimeMs: number } | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = r.Body ? Buffer.from(await r.Body.transformToByteArray()) : Buffer.alloc(0);
      return { content: decodeLock(bytes), mtimeMs: r.LastModified?.getTime() ?? 0 };
    } catch (e) {
      if (s3HttpStatus(e) === 404) return null;
      throw this.fail(e, `cannot read the backup lock of database '${database}' in "${this.uri()}"`);
    }
  }

  destinationExists(name: string): QuiverError {
    return new QuiverError('DestinationExists', `cannot write artifact "${name}": "${this.uri(name)}" already exists`, {
      hint: 'artifacts are never overwritten; choose another name or remove the existing object',
    });
  }

  async remove(name: string): Promise<void> {
    assertTargetName(name);
    this.known.delete(name);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + name }));
    } catch (e) {
      if (s3HttpStatus(e) === 404) return;
      throw this.fail(e, `cannot remove artifact "${name}"`, name);
    }
  }

  /** Key of the record of the upload `uploadId`. */
  uploadRecordKey(uploadId: string): string {
    return `${this.prefix}${uploadRecordsFolder}${uploadId}.json`;
  }

  async putUploadRecord(uploadId: string, record: UploadRecord): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.uploadRecordKey(uploadId), Body: JSON.stringify(record), ContentType: 'application/json' }),
    );
  }

  async removeUploadRecord(uploadId: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.uploadRecordKey(uploadId) }));
  }

  /** The record of an upload, or null when there is none (or it does not parse). */
  private async readUploadRecord(uploadId: string): Promise<UploadRecord | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.uploadRecordKey(uploadId) }));
      const parsed: unknown = JSON.parse((await r.Body?.transformToString()) ?? '');
      if (typeof parsed !== 'object' || parsed === null) return null;
      const p = parsed as Partial<UploadRecord>;
      if (typeof p.hostTag !== 'string' || typeof p.pid !== 'number' || typeof p.name !== 'string' || typeof p.startedAtMs !== 'number') return null;
      return p as UploadRecord;
    } catch (e) {
      if (s3HttpStatus(e) === 404 || e instanceof SyntaxError) return null;
      throw e;
    }
  }

  /**
   * Aborts the multipart uploads of artifacts under the prefix whose writer is gone: written from
   * this host by a process that no longer runs, or older than s3AbandonedUploadAgeMs when the writer
   * cannot be checked. Returns `<name> [multipart upload <id>]` for each.
   */
  async removeAbandoned(): Promise<string[]> {
    const me = thisWriter();
    const removed: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    let seen = 0;
    try {
      do {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const upload of page.Uploads ?? []) {
          if (++seen > s3AbandonedUploadsMax) return removed;
          const name = (upload.Key ?? '').slice(this.prefix.length);
          const uploadId = upload.UploadId;
          if (uploadId === undefined || !name.endsWith(artifactSuffix) || targetNameProblem(name) !== null) continue;
          const record = await this.readUploadRecord(uploadId);
          const ageMs = this.nowMs() - (upload.Initiated?.getTime() ?? this.nowMs());
          const gone = record !== null && record.hostTag === me.hostTag ? !processRuns(record.pid) : ageMs > s3AbandonedUploadAgeMs;
          if (!gone) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.prefix + name, UploadId: uploadId }));
          if (record !== null) await this.removeUploadRecord(uploadId);
          removed.push(`${name} [multipart upload ${uploadId}]`);
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker !== undefined);
    } catch (e) {
      throw this.fail(e, `cannot look for unfinished uploads under "${this.uri()}"`);
    }
    return removed;
  }
}
