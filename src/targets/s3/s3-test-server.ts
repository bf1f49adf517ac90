/**
 * A local S3 server for tests, on a loopback port, over http or (given a key and certificate) https:
 * s3rver (in this process, data in a temporary folder) with a thin front layer that adds what s3rver lacks and the S3 target relies on, plus
 * fault injection. Test support only; nothing outside tests and bench/ imports it.
 *
 * Added over s3rver 3.7.1, on s3rver's own on-disk state, so that the code paths run for real:
 * - ListMultipartUploads (s3rver answers NotImplemented) from its uploads folder;
 * - AbortMultipartUpload (s3rver answers MethodNotAllowed) by removing that upload's folder;
 * - `If-None-Match: *` on PutObject and CompleteMultipartUpload (s3rver ignores it): 412 when the key
 *   exists, checked and written under a per-key lock; `conditionalWrites: false` emulates a store
 *   that ignores the header, as s3rver itself does;
 * - `If-Match: <etag>` on GetObject/HeadObject (s3rver ignores it): 412 when the object's ETag differs.
 * Not emulated: SigV4 signature checks (s3rver 3.7.1 accepts any secret for its known key id; an
 * unknown key id is refused), storage classes and SSE (accepted, not enforced), versioning, and
 * ListObjectsV2 pages smaller than the whole listing (s3rver answers InternalError to MaxKeys=1 with a delimiter).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** The credentials s3rver accepts (its built-in account). */
export const testS3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export type S3Operation =
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'HeadObject'
  | 'GetObject'
  | 'GetObjectRange'
  | 'PutObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'DeleteObject'
  | 'Other';

export interface InjectedFault {
  /** Which requests it hits (default: all). */
  match?: (op: S3Operation) => boolean;
  /** How many matching requests fail. */
  count: number;
  status: number;
  code: string;
  /** Answer only after this many ms (a store that hangs); a client that gave up meanwhile gets nothing. */
  stallMs?: number;
}

export interface TestS3ServerOptions {
  buckets: string[];
  /** Honour `If-None-Match: *` on writes (default true); false behaves like a store without conditional writes. */
  conditionalWrites?: boolean;
  /** Reuse a port (to restart a stopped server where clients expect it). */
  port?: number;
  /** Reuse a data folder (to restart a stopped server with its objects). */
  directory?: string;
  /** Serve https with this PEM key and certificate (clients must trust its issuer, e.g. NODE_EXTRA_CA_CERTS). */
  tls?: { keyPath: string; certPath: string };
}

/** What the front layer saw of one request. */
export interface SeenRequest {
  op: S3Operation;
  /** Request headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
}

export class TestS3Server {
  readonly directory: string;
  readonly port: number;
  /** Requests seen, by operation (after faults; faulted requests count too). */
  readonly counts = new Map<S3Operation, number>();
  readonly faults: InjectedFault[] = [];
  /** Called for every request before it is served; may stop the server (a fault mid-upload). */
  onRequest: ((op: S3Operation, range: string, request: SeenRequest) => void) | undefined;
  conditionalWrites: boolean;
  private readonly httpServer: Server;
  private readonly sockets = new Set<Socket>();
  private readonly keyLocks = new Map<string, Promise<void>>();
  private readonly store: { getMetadata(bucket: string, key: string): Promise<{ etag: string }> };
  private stopped = false;
  readonly scheme: 'http' | 'https';

  private constructor(directory: string, httpServer: Server, store: TestS3Server['store'], conditionalWrites: boolean, scheme: 'http' | 'https') {
    this.store = store;
    this.scheme = scheme;
    this.directory = directory;
    this.httpServer = httpServer;
    this.port = (httpServer.address() as AddressInfo).port;
    this.conditionalWrites = conditionalWrites;
    httpServer.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: TestS3ServerOptions): Promise<TestS3Server> {
    const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'quiver-s3rver-')));
    const server = new S3rver({
      port: options.port ?? 0,
      address: '127.0.0.1',
      directory,
      silent: true,
      configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
      ...(options.tls ? { key: readFileSync(options.tls.keyPath), cert: readFileSync(options.tls.certPath) } : {}),
    });
    let self: TestS3Server | undefined;
    // First in the chain: Koa composes `middleware` when the server starts listening.
    (server as unknown as { middleware: unknown[] }).middleware.unshift((ctx: KoaContext, next: () => Promise<void>) => {
      if (!self) return next();
      return self.handle(ctx, next);
    });
    await server.run();
    const http = (server as unknown as { httpServer: Server }).httpServer;
    self = new TestS3Server(directory, http, (server as unknown as { store: TestS3Server['store'] }).store, options.conditionalWrites ?? true, options.tls ? 'https' : 'http');
    return self;
  }

  get endpoint(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  /** Environment for a client (in this process or a child) of this server. */
  clientEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      AWS_ACCESS_KEY_ID: testS3Credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: testS3Credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/quiver-test/credentials',
      AWS_CONFIG_FILE: '/nonexistent/quiver-test/config',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...extra,
    };
  }

  count(op: S3Operation): number {
    return this.counts.get(op) ?? 0;
  }

  resetCounts(): void {
    this.counts.clear();
  }

  /** Objects under `prefix` in `bucket` (uploads in progress are not objects). */
  async objectKeys(bucket: string, prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (e.name.endsWith('._S3rver_object')) keys.push(keyPrefix + e.name.slice(0, -'._S3rver_object'.length));
        else if (e.isDirectory() && !e.name.startsWith('._S3rver_')) await walk(join(dir, e.name), `${keyPrefix}${e.name}/`);
      }
    };
    await walk(join(this.directory, bucket), '');
    return keys.filter((k) => k.startsWith(prefix)).sort();
  }

  /** Multipart uploads in progress in `bucket`: key and upload id. */
  async uploads(bucket: string, prefix = ''): Promise<{ key: string; uploadId: string; initiated: Date }[]> {
    const dir = join(this.directory, bucket, '._S3rver_uploads');
    let ids: string[];
    try {
      ids = await readdir(dir);
    } catch {
      return [];
    }
    const out: { key: string; uploadId: string; initiated: Date }[] = [];
    for (const uploadId of ids) {
      try {
        const key = await readFile(join(dir, uploadId, 'key'), 'utf8');
        const st = await stat(join(dir, uploadId, 'key'));
        if (key.startsWith(prefix)) out.push({ key, uploadId, initiated: st.mtime });
      } catch {
        // completed or aborted meanwhile
      }
    }
    return out.sort((a, b) => (a.key === b.key ? compare(a.uploadId, b.uploadId) : compare(a.key, b.key)));
  }

  /** Stops listening and drops every open connection, as a crashed or unplugged server would. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closed = new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stops and removes the data folder. */
  async close(): Promise<void> {
    await this.stop();
    await rm(this.directory, { recursive: true, force: true });
  }

  private async handle(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
    const op = operationOf(ctx.method, ctx.path, ctx.query, ctx.get('range'));
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
    this.onRequest?.(op, ctx.get('range'), { op, headers: { ...ctx.headers } });
    const fault = this.faults.find((f) => f.count > 0 && (f.match ?? (() => true))(op));
    if (fault) {
      fault.count -= 1;
      if (fault.stallMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.stallMs).unref());
      return xmlError(ctx, fault.status, fault.code, 'injected by the test server');
    }
    const [bucket, key] = splitPath(ctx.path);
    if (op === 'ListMultipartUploads' && bucket) return this.listUploads(ctx, bucket);
    if (op === 'AbortMultipartUpload' && bucket) return this.abortUpload(ctx, bucket, String(ctx.query['uploadId']));
    if ((op === 'PutObject' || op === 'CompleteMultipartUpload') && bucket && key && this.conditionalWrites && ctx.get('if-none-match') === '*') {
      return this.withKeyLock(`${bucket}/${key}`, async () => {
        if (await this.objectExists(bucket, key)) return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        await next();
      });
    }
    const ifMatch = ctx.get('if-match');
    if ((op === 'GetObject' || op === 'GetObjectRange' || op === 'HeadObject') && bucket && key && ifMatch) {
      const etag = await this.store.getMetadata(bucket, key).then((m) => m.etag, () => undefined);
      if (etag !== undefined && etag !== ifMatch) return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    return next();
  }

  private async objectExists(bucket: string, key: string): Promise<boolean> {
    const keys = await this.objectKeys(bucket, key);
    return keys.includes(key);
  }

  private async withKeyLock(lockKey: string, fn: () => Promise<void>): Promise<void> {
    const before = this.keyLocks.get(lockKey) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = before.then(() => mine);
    this.keyLocks.set(lockKey, chained);
    await before;
    try {
      await fn();
    } finally {
      release();
      if (this.keyLocks.get(lockKey) === chained) this.keyLocks.delete(lockKey);
    }
  }

  private async listUploads(ctx: KoaContext, bucket: string): Promise<void> {
    const prefix = String(ctx.query['prefix'] ?? '');
    const uploads = await this.uploads(bucket, prefix);
    const body = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Bucket>${escapeXml(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><Prefix>${escapeXml(prefix)}</Prefix>`,
      '<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>',
      ...uploads.map(
        (u) => `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
      ),
      '</ListMultipartUploadsResult>',
    ].join('');
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = body;
  }

  private async abortUpload(ctx: KoaContext, bucket: string, uploadId: string): Promise<void> {
    if (!/^[0-9a-f]+$/.test(uploadId)) return xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist');
    const dir = join(this.directory, bucket, '._S3rver_uploads', uploadId);
    try {
      await stat(dir);
    } catch {
      return xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist');
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  }
}

/** The small part of Koa's context the front layer uses. */
interface KoaContext {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  path: string;
  query: Record<string, string | string[] | undefined>;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}

function splitPath(path: string): [string | undefined, string | undefined] {
  const trimmed = path.replace(/^\//, '');
  const slash = trimmed.indexOf('/');
  if (trimmed === '') return [undefined, undefined];
  if (slash < 0) return [trimmed, undefined];
  return [trimmed.slice(0, slash), decodeURIComponent(trimmed.slice(slash + 1)) || undefined];
}

export function operationOf(method: string, path: string, query: Record<string, unknown>, range: string): S3Operation {
  const [bucket, key] = splitPath(path);
  const has = (q: string) => Object.hasOwn(query, q);
  if (!bucket) return 'Other';
  if (!key) {
    if (method === 'GET' && has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET') return 'ListObjectsV2';
    return 'Other';
  }
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'GET') return range ? 'GetObjectRange' : 'GetObject';
  if (method === 'PUT') return has('uploadId') ? 'UploadPart' : 'PutObject';
  if (method === 'POST') return has('uploads') ? 'CreateMultipartUpload' : has('uploadId') ? 'CompleteMultipartUpload' : 'Other';
  if (method === 'DELETE') return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return 'Other';
}

function xmlError(ctx: KoaContext, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
