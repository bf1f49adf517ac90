/**
 * What the S3 store receives from a real `quiver-admin database backup`: over https, every artifact
 * body (UploadPart, PutObject) goes with `x-amz-content-sha256: UNSIGNED-PAYLOAD`, still a signed
 * header, so the client never SHA-256s the parts; over http, each part's signed payload hash is the
 * SHA-256 of exactly the bytes the store kept for that part. The https store has a certificate from
 * a CA made by openssl at run time, trusted by the client through NODE_EXTRA_CA_CERTS. Both artifacts
 * restore to the same graph, the https one after a failed part was sent again.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { type SeenRequest, TestS3Server } from '../src/targets/s3/s3-test-server.js';
import { TestPki } from '../src/tls/test-pki.js';
import { describeRun, finishedArtifacts, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { runAdmin, startTestServer, tempDir, type CliResult, type TestServer } from './support/harness.js';

const bucket = 'quiver-payload';
const partSizeBytes = 5 * 1024 * 1024;

describe('the payload hash of S3 uploads', () => {
  let server: TestServer;
  let pki: TestPki;
  let caCert: string;
  let https: TestS3Server;
  let http: TestS3Server;
  let conf: string;
  const seen = new Map<TestS3Server, SeenRequest[]>();

  const admin = (s3: TestS3Server, args: string[], home = server.home): Promise<CliResult> =>
    runAdmin([...args, `--additional-config=${conf}`], { home, env: { ...(s3.clientEnv() as Record<string, string>), NODE_EXTRA_CA_CERTS: caCert } });
  const backupTo = async (s3: TestS3Server): Promise<string> => {
    const r = await admin(s3, ['database', 'backup', `--from=${server.backupAddress}`, `--to-path=s3://${bucket}/prod`, '--type=FULL', 'neo4j']);
    assert.equal(r.code, 0, describeRun(r));
    const [name] = finishedArtifacts(r.stdout, 'neo4j');
    assert.ok(name, describeRun(r));
    return name;
  };
  const restoreFrom = async (s3: TestS3Server, name: string): Promise<string> => {
    const root = tempDir('quiver-s3-payload-restore-');
    const home = join(root, 'home');
    mkdirSync(home);
    const r = await admin(s3, ['database', 'restore', `--from-path=s3://${bucket}/prod/${name}`, `--to-path-data=${join(root, 'data')}`, `--to-path-txn=${join(root, 'txn')}`, 'restored'], home);
    assert.equal(r.code, 0, describeRun(r));
    return join(root, 'data', 'databases', 'restored');
  };
  const requests = (s3: TestS3Server, ...ops: SeenRequest['op'][]) => (seen.get(s3) ?? []).filter((r) => ops.includes(r.op));
  const signedHeaders = (r: SeenRequest) => /SignedHeaders=([^,]+)/.exec(String(r.headers['authorization']))?.[1]?.split(';') ?? [];
  /** The bytes s3rver keeps for an object. */
  const storedObject = (s3: TestS3Server, key: string) => readFileSync(join(s3.directory, bucket, `${key}._S3rver_object`));

  before(async () => {
    pki = new TestPki();
    const ca = pki.ca('S3 CA');
    caCert = ca.cert;
    const cert = ca.issue('s3-store'); // names DNS:localhost and IP:127.0.0.1
    https = await TestS3Server.start({ buckets: [bucket], tls: { keyPath: cert.key, certPath: cert.cert } });
    http = await TestS3Server.start({ buckets: [bucket] });
    for (const s3 of [https, http]) {
      seen.set(s3, []);
      s3.onRequest = (_op, _range, request) => seen.get(s3)!.push(request);
    }
    conf = join(tempDir('quiver-s3-payload-conf-'), 'admin.conf');
    writeFileSync(conf, `backup.s3.part_size=5M\nbackup.s3.force_path_style=true\nbackup.s3.max_attempts=3\n`);
    server = await startTestServer();
    // About 8 MiB of barely compressible data: an artifact of two parts or more.
    await writeBarelyCompressibleNodes(server, 'neo4j', 40);
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
    await https?.close();
    await http?.close();
    pki?.cleanup();
  });

  it('over https sends every part and object body UNSIGNED-PAYLOAD, as a signed header, and still signs the other requests', async () => {
    assert.match(https.endpoint, /^https:\/\//);
    // Parts go to the TLS socket as a stream of slices: a failed part must be sent whole again.
    https.faults.push({ match: (op) => op === 'UploadPart', count: 1, status: 500, code: 'InternalError' });
    const name = await backupTo(https);
    assert.equal(https.faults[0]!.count, 0, 'the injected part failure was hit (and retried)');
    const bodies = requests(https, 'UploadPart', 'PutObject');
    assert.ok(requests(https, 'UploadPart').length >= 2, `a multipart upload (${requests(https, 'UploadPart').length} parts)`);
    for (const r of bodies) {
      assert.equal(r.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD', r.op);
      assert.ok(signedHeaders(r).includes('x-amz-content-sha256'), `${r.op} signs the header: ${String(r.headers['authorization'])}`);
    }
    const others = requests(https, 'CreateMultipartUpload', 'CompleteMultipartUpload', 'HeadObject', 'ListObjectsV2');
    assert.ok(others.length >= 3);
    for (const r of others) assert.match(String(r.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/, r.op);
    assert.ok(storedObject(https, `prod/${name}`).length > partSizeBytes);
  });

  it('over http signs the SHA-256 of each part, which matches the bytes the store kept', async () => {
    const name = await backupTo(http);
    const object = storedObject(http, `prod/${name}`);
    const expected = new Set<string>();
    for (let offset = 0; offset < object.length; offset += partSizeBytes) {
      expected.add(createHash('sha256').update(object.subarray(offset, offset + partSizeBytes)).digest('hex'));
    }
    const parts = requests(http, 'UploadPart');
    assert.equal(parts.length, expected.size, 'one request per part, none retried');
    assert.deepEqual(new Set(parts.map((r) => r.headers['x-amz-content-sha256'])), expected);
    for (const r of requests(http, 'UploadPart', 'PutObject')) {
      assert.match(String(r.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/, r.op);
      assert.ok(signedHeaders(r).includes('x-amz-content-sha256'));
    }
  });

  it('restores the same graph from the artifact sent over https as from the one sent over http', async () => {
    const artifactOf = async (s3: TestS3Server) => {
      const keys = (await s3.objectKeys(bucket, 'prod/')).filter((k) => k.endsWith('.backup'));
      assert.equal(keys.length, 1, keys.join(', '));
      return keys[0]!.slice('prod/'.length);
    };
    const viaHttps = await restoreFrom(https, await artifactOf(https));
    const viaHttp = await restoreFrom(http, await artifactOf(http));
    assert.deepEqual(logicalDigestOfStore(viaHttps), logicalDigestOfStore(viaHttp));
  });
});
