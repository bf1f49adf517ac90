/**
 * Backup and restore on s3:// end to end: a real Quiver server, the real `quiver-admin` processes,
 * and a local S3 server (s3rver plus the test front layer, src/targets/s3/s3-test-server.ts) on a
 * loopback port in this process. FULL → DIFF → inspect → restore → aggregate → check → verify all
 * on one S3 prefix, the restored stores compared with a restore of the same database from a folder;
 * then the failures an operator meets: a missing bucket, wrong or no credentials, an unreachable
 * endpoint, a backup killed mid-upload (no artifact object; the next run cleans up and succeeds),
 * and the S3 server stopping mid-upload and mid-restore (a one-line error, exit 1).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logicalDigestOfStore } from '../src/storage/digest.js';
import { TestS3Server } from '../src/targets/s3/s3-test-server.js';
import { describeRun, finishedArtifacts, logLine, parseInspectTable, tempFolders, writeBarelyCompressibleNodes } from './support/backup-helpers.js';
import { freePort, runAdmin, startTestServer, tempDir, type CliResult, type TestServer } from './support/harness.js';

const bucket = 'quiver-e2e';

describe('backup and restore on s3://', () => {
  let server: TestServer;
  let s3: TestS3Server;
  let conf: string;
  const folders = tempFolders();
  const prefix = `s3://${bucket}/prod`;
  let fullName: string;
  let diffName: string;

  /** quiver-admin with the S3 server's environment and the test's backup.s3.* settings. */
  const admin = (args: string[], env: Record<string, string> = {}, home = server.home): Promise<CliResult> =>
    runAdmin([...args, `--additional-config=${conf}`], { home, env: { ...(s3.clientEnv() as Record<string, string>), ...env } });
  const backupTo = (to: string, env: Record<string, string> = {}) => admin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${to}`, 'neo4j'], env);
  const restoreFrom = async (from: string, env: Record<string, string> = {}) => {
    const root = tempDir('quiver-s3-restore-');
    const home = join(root, 'home');
    mkdirSync(home);
    const result = await admin(['database', 'restore', `--from-path=${from}`, `--to-path-data=${join(root, 'data')}`, `--to-path-txn=${join(root, 'txn')}`, 'restored'], env, home);
    return { result, storeDir: join(root, 'data', 'databases', 'restored') };
  };

  before(async () => {
    s3 = await TestS3Server.start({ buckets: [bucket] });
    conf = join(tempDir('quiver-s3-conf-'), 'admin.conf');
    // Small parts so that a few MiB make a real multipart upload; path style as MinIO-like stores need.
    writeFileSync(conf, 'backup.s3.part_size=5M\nbackup.s3.force_path_style=true\nbackup.s3.max_attempts=3\n');
    server = await startTestServer();
    await writeBarelyCompressibleNodes(server, 'neo4j', 40);
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
    await s3?.close();
    folders.removeAll();
  });

  it('streams a FULL backup into a multipart upload: one object, no upload or writer record left', async () => {
    const r = await backupTo(prefix);
    assert.equal(r.code, 0, describeRun(r));
    [fullName] = finishedArtifacts(r.stdout, 'neo4j') as [string];
    assert.ok(fullName, describeRun(r));
    assert.deepEqual(await s3.objectKeys(bucket, 'prod/'), [`prod/${fullName}`]);
    assert.deepEqual(await s3.uploads(bucket), []);
    assert.ok(s3.count('UploadPart') >= 2, `a multipart upload (${s3.count('UploadPart')} parts)`);
  });

  it('takes a DIFF (AUTO plans from the S3 prefix)', async () => {
    const driver = server.driver();
    try {
      const session = driver.session({ database: 'neo4j' });
      await session.run('UNWIND range(1, 50) AS i CREATE (:D {i: i})');
      await session.close();
    } finally {
      await driver.close();
    }
    const r = await backupTo(prefix);
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, logLine('INFO', "Start differential backup of database 'neo4j'."));
    [diffName] = finishedArtifacts(r.stdout, 'neo4j') as [string];
    assert.deepEqual(await s3.objectKeys(bucket, 'prod/'), [`prod/${fullName}`, `prod/${diffName}`].sort());
  });

  it('inspects with one LIST and ranged GETs of header and trailer only', async () => {
    s3.resetCounts();
    const r = await admin(['database', 'backup', `--inspect-path=${prefix}/`]);
    assert.equal(r.code, 0, describeRun(r));
    const { rows } = parseInspectTable(r.stdout);
    assert.deepEqual(rows.map((row) => row.FILE).sort(), [`${prefix}/${fullName}`, `${prefix}/${diffName}`].sort());
    assert.equal(s3.count('ListObjectsV2'), 1, 'one listing of the prefix');
    assert.equal(s3.count('GetObject'), 0, 'no whole-object read');
    assert.equal(s3.count('HeadObject'), 0, 'sizes come from the listing');
    assert.ok(s3.count('GetObjectRange') <= 4, `${s3.count('GetObjectRange')} ranged GETs for 2 artifacts`);
  });

  it('restores from S3 exactly what a restore from a folder backup of the same state gives', async () => {
    const folder = folders.folder();
    const viaFolder = await admin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${folder}`, 'neo4j']);
    assert.equal(viaFolder.code, 0, describeRun(viaFolder));
    const fromS3 = await restoreFrom(prefix);
    assert.equal(fromS3.result.code, 0, describeRun(fromS3.result));
    const fromFolder = await restoreFrom(folder);
    assert.equal(fromFolder.result.code, 0, describeRun(fromFolder.result));
    assert.deepEqual(logicalDigestOfStore(fromS3.storeDir), logicalDigestOfStore(fromFolder.storeDir));
  });

  it('aggregates the chain on S3 into one FULL, then check and verify pass on it', async () => {
    const before = await restoreFrom(prefix);
    const agg = await admin(['database', 'aggregate-backup', `--from-path=${prefix}`, 'neo4j']);
    assert.equal(agg.code, 0, describeRun(agg));
    assert.match(agg.stdout, new RegExp(`Successfully aggregated backup chain of database 'neo4j', new artifact: 's3://${bucket}/prod/neo4j-[^']+\\.backup'\\.`));
    const keys = await s3.objectKeys(bucket, 'prod/');
    assert.equal(keys.length, 1, keys.join(', '));
    assert.deepEqual(await s3.uploads(bucket), []);
    const after = await restoreFrom(`s3://${bucket}/${keys[0]!}`);
    assert.equal(after.result.code, 0, describeRun(after.result));
    assert.deepEqual(logicalDigestOfStore(after.storeDir), logicalDigestOfStore(before.storeDir));
    const check = await admin(['database', 'check', `--from-path=${prefix}`, `--report-path=${tempDir('quiver-s3-report-')}`, 'neo4j']);
    assert.equal(check.code, 0, describeRun(check));
    const verify = await admin(['backup', 'verify', `--from-path=${prefix}`]);
    assert.equal(verify.code, 0, describeRun(verify));
    assert.match(verify.stdout, /^1 of 1 artifact\(s\) verified, no problems found\.$/m);
  });

  it('names a missing bucket, wrong and missing credentials, and an unreachable endpoint in one line each, exit 1', async () => {
    const missing = await backupTo(`s3://no-such-bucket/x`);
    assert.equal(missing.code, 1, describeRun(missing));
    assert.match(missing.stderr, /cannot use "s3:\/\/no-such-bucket\/x\/" as a backup target: bucket "no-such-bucket" does not exist at endpoint "http:\/\/127\.0\.0\.1:\d+"/);

    // s3rver 3.7.1 does not check SigV4 signatures (it accepts any secret for a known key id): the
    // store's answer to a wrong secret is injected, to check how the CLI reports it.
    s3.faults.push({ count: 2, status: 403, code: 'SignatureDoesNotMatch' });
    const wrongSecret = await backupTo(prefix, { AWS_SECRET_ACCESS_KEY: 'wrong' });
    assert.equal(wrongSecret.code, 1, describeRun(wrongSecret));
    assert.match(wrongSecret.stderr, /rejected the request signature \(SignatureDoesNotMatch\): the secret key is wrong/);

    const wrongKey = await backupTo(prefix, { AWS_ACCESS_KEY_ID: 'NOBODY' });
    assert.equal(wrongKey.code, 1, describeRun(wrongKey));
    assert.match(wrongKey.stderr, /does not know the access key id \(InvalidAccessKeyId\)/);

    const none = await backupTo(prefix, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    assert.equal(none.code, 1, describeRun(none));
    assert.match(none.stderr, /no AWS credentials found; the default chain looked in the environment \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\), the shared files "\/nonexistent\/quiver-test\/credentials"/);

    const port = await freePort();
    const unreachable = await backupTo(prefix, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` });
    assert.equal(unreachable.code, 1, describeRun(unreachable));
    assert.match(unreachable.stderr, new RegExp(`endpoint "http://127\\.0\\.0\\.1:${port}" is unreachable \\(ECONNREFUSED`));
    for (const r of [missing, wrongSecret, wrongKey, none, unreachable]) assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('error')).length, 1, describeRun(r));
  });

  it('leaves no artifact object when the backup is killed mid-upload; the next run aborts the upload, says so, and succeeds', async () => {
    const killedPrefix = `s3://${bucket}/killed`;
    // SIGKILL after the last part is stored and just before the upload completes: the moment that
    // would leave a visible artifact if anything were written in place (QUIVER_CRASH_POINT, crash-points.ts).
    const killed = await admin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=${killedPrefix}`, '--type=FULL', 'neo4j'], { QUIVER_CRASH_POINT: 'backup.beforeRename' });
    assert.equal(killed.code, null, describeRun(killed));
    assert.deepEqual(await s3.objectKeys(bucket, 'killed/neo4j'), [], 'no artifact object');
    const left = await s3.uploads(bucket, 'killed/');
    assert.equal(left.length, 1, 'the killed writer left its multipart upload');
    const next = await backupTo(killedPrefix);
    assert.equal(next.code, 0, describeRun(next));
    assert.match(next.stdout, logLine('INFO', `Removed the unfinished file "${left[0]!.key.slice('killed/'.length)} [multipart upload ${left[0]!.uploadId}]" of an interrupted earlier backup.`));
    assert.deepEqual(await s3.uploads(bucket, 'killed/'), []);
    assert.deepEqual((await s3.objectKeys(bucket, 'killed/')).length, 1, 'one artifact, no writer record');
  });

  it('fails with one clear line and exit 1 when the S3 server stops mid-upload, leaving no artifact object', async () => {
    const other = await TestS3Server.start({ buckets: [bucket] });
    try {
      other.onRequest = (op) => {
        if (op === 'UploadPart') void other.stop();
      };
      const r = await runAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=s3://${bucket}/stopped`, '--type=FULL', `--additional-config=${conf}`, 'neo4j'], {
        home: server.home,
        env: other.clientEnv() as Record<string, string>,
      });
      assert.equal(r.code, 1, describeRun(r));
      assert.match(r.stdout, new RegExp(`neo4j: FAILED cannot write artifact "neo4j-[^"]+\\.backup": endpoint "http://127\\.0\\.0\\.1:${other.port}" is unreachable \\(`), describeRun(r));
      assert.deepEqual((await other.objectKeys(bucket, 'stopped/')).filter((k) => k.endsWith('.backup')), []);
    } finally {
      await other.close();
    }
  });

  it('fails with one clear line and exit 1 when the S3 server stops mid-restore', async () => {
    const other = await TestS3Server.start({ buckets: [bucket] });
    try {
      const made = await runAdmin(['database', 'backup', `--from=${server.backupAddress}`, `--to-path=s3://${bucket}/r`, '--type=FULL', `--additional-config=${conf}`, 'neo4j'], {
        home: server.home,
        env: other.clientEnv() as Record<string, string>,
      });
      assert.equal(made.code, 0, describeRun(made));
      // Stop when the block stream asks for its first chunk (the catalog's reads of at most 64 KiB come first).
      other.onRequest = (op, range) => {
        const [start, end] = (/^bytes=(\d+)-(\d+)$/.exec(range) ?? []).slice(1).map(Number);
        if (op === 'GetObjectRange' && start === 0 && end !== undefined && end >= 65536) void other.stop();
      };
      const root = tempDir('quiver-s3-restore-');
      const r = await runAdmin(['database', 'restore', `--from-path=s3://${bucket}/r`, `--to-path-data=${join(root, 'data')}`, `--to-path-txn=${join(root, 'txn')}`, `--additional-config=${conf}`, 'restored'], {
        home: root,
        env: other.clientEnv() as Record<string, string>,
      });
      assert.equal(r.code, 1, describeRun(r));
      assert.match(r.stderr, new RegExp(`cannot read artifact "neo4j-[^"]+\\.backup": endpoint "http://127\\.0\\.0\\.1:${other.port}" is unreachable \\(`), describeRun(r));
    } finally {
      await other.close();
    }
  });
});
