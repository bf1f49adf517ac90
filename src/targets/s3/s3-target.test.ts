import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { extname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isQuiverError } from '../../util/errors.js';
import { patterned, runTargetContract } from '../target-contract.js';
import { s3AbandonedUploadAgeMs, s3ReadChunkBytes, s3SocketsMax } from './limits.js';
import { createS3Client } from './s3-client.js';
import { defaultS3Settings, type S3TargetSettings } from './s3-settings.js';
import { S3Target } from './s3-target.js';
import { TestS3Server } from './s3-test-server.js';

const bucket = 'quiver-test';
let server: TestS3Server;

before(async () => {
  server = await TestS3Server.start({ buckets: [bucket] });
  // The SDK's credential chain reads this process's environment.
  Object.assign(process.env, server.clientEnv());
});
after(async () => {
  await server?.close();
});

/** Small parts (S3's 5 MiB minimum) so that a few MiB make a real multipart upload. */
function testSettings(extra: Partial<S3TargetSettings> = {}): S3TargetSettings {
  return { ...defaultS3Settings(), partSizeBytes: 5 * 1024 * 1024, uploadConcurrency: 2, requestTimeoutMs: 10_000, ...extra };
}

function newTarget(extra: Partial<S3TargetSettings> = {}, nowMs?: () => number): S3Target {
  const settings = testSettings(extra);
  const { client, endpoint } = createS3Client(settings, server.clientEnv());
  const prefix = `t-${randomBytes(6).toString('hex')}/`;
  return new S3Target({ client, bucket, prefix, settings, endpoint, env: server.clientEnv(), ...(nowMs ? { nowMs } : {}) });
}

runTargetContract('S3Target (s3rver with conditional writes)', async () => ({ target: newTarget(), nameMovesAtCommit: false, cleanup: async () => undefined }));

describe('S3Target on a store without conditional writes', () => {
  // The same contract with the store ignoring If-None-Match (as s3rver itself does) and the target
  // told not to rely on it: the check just before completion must still refuse a taken name.
  runTargetContract('S3Target (conditional writes off)', async () => {
    server.conditionalWrites = false;
    return {
      target: newTarget({ conditionalWrites: false }),
      nameMovesAtCommit: false,
      cleanup: async () => {
        server.conditionalWrites = true;
      },
    };
  });
});

describe('S3Target', () => {
  it('streams an artifact as a multipart upload, invisible until completed, and reads it back with ranged GETs', async () => {
    const target = newTarget();
    const bytes = patterned(2 * testSettings().partSizeBytes + 12345);
    server.resetCounts();
    const writer = await target.createWriteOnce('big.backup');
    for (let offset = 0; offset < bytes.length; offset += 1024 * 1024) await writer.write(bytes.subarray(offset, offset + 1024 * 1024));
    assert.deepEqual(await server.objectKeys(bucket, `${target.prefix}big`), []);
    await writer.commit();
    assert.ok(server.count('UploadPart') >= 3, `parts: ${server.count('UploadPart')}`);
    assert.equal(server.count('CompleteMultipartUpload'), 1);
    assert.equal(server.count('PutObject'), 1, 'only the writer record is a plain PUT');
    assert.deepEqual(await server.objectKeys(bucket, target.prefix), [`${target.prefix}big.backup`], 'the writer record is gone');
    server.resetCounts();
    const chunks: Buffer[] = [];
    for await (const c of target.openRead('big.backup')) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.equal(server.count('GetObject'), 0, 'no whole-object GET');
    assert.equal(server.count('GetObjectRange'), Math.ceil(bytes.length / s3ReadChunkBytes));
  });

  it('frees the GETs it started ahead when a read stops early, so that later reads still get sockets', async () => {
    const target = newTarget();
    const bytes = patterned(6 * s3ReadChunkBytes + 100);
    await writeObject(target, 'a.backup', bytes);
    // More abandoned reads than the client has sockets (s3SocketsMax), each with GETs started ahead.
    for (let i = 0; i < s3SocketsMax + 4; i++) {
      for await (const piece of target.openRead('a.backup')) {
        assert.ok((piece as Buffer).length > 0);
        break;
      }
    }
    const chunks: Buffer[] = [];
    for await (const c of target.openRead('a.backup')) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(bytes));
  });

  it('aborts the multipart upload on abort, leaving no object and no upload', async () => {
    const target = newTarget();
    const writer = await target.createWriteOnce('a.backup');
    await writer.write(patterned(11 * 1024 * 1024));
    await waitFor(async () => (await server.uploads(bucket, target.prefix)).length === 1);
    await writer.abort();
    assert.deepEqual(await server.uploads(bucket, target.prefix), []);
    assert.deepEqual(await server.objectKeys(bucket, target.prefix), []);
  });

  it('retries a storm of 503 SlowDown and 500 answers and still writes and reads correctly', async () => {
    const target = newTarget();
    const bytes = patterned(7 * 1024 * 1024);
    server.faults.push({ count: 3, status: 503, code: 'SlowDown' }, { match: (op) => op === 'UploadPart', count: 2, status: 500, code: 'InternalError' });
    const writer = await target.createWriteOnce('a.backup');
    await writer.write(bytes);
    await writer.commit();
    server.faults.push({ match: (op) => op === 'GetObjectRange', count: 2, status: 503, code: 'SlowDown' });
    assert.ok((await target.readRange('a.backup', 0, bytes.length)).equals(bytes));
    assert.ok(server.faults.every((f) => f.count === 0), 'every injected fault was hit');
  });

  it('gives up on a request the store does not answer within backup.s3.request_timeout, and retries it', async () => {
    const target = newTarget({ requestTimeoutMs: 2_000 });
    const bytes = patterned(100_000);
    await writeObject(target, 'a.backup', bytes);
    server.resetCounts();
    server.faults.push({ match: (op) => op === 'GetObjectRange', count: 1, status: 503, code: 'SlowDown', stallMs: 30_000 });
    const startedMs = Date.now();
    assert.ok((await target.readRange('a.backup', 0, bytes.length)).equals(bytes));
    const tookMs = Date.now() - startedMs;
    assert.equal(server.count('GetObjectRange'), 2, 'the stalled request and its retry');
    assert.ok(tookMs < 20_000, `answered by the retry, not by the stalled request (${tookMs} ms)`);
  });

  it('gives up after backup.s3.max_attempts with a one-line error naming the endpoint', async () => {
    const target = newTarget({ maxAttempts: 2 });
    server.faults.push({ count: 2, status: 503, code: 'SlowDown' });
    await assert.rejects(target.list(), (e: unknown) => {
      assert.ok(isQuiverError(e, 'IoError'));
      assert.match(e.message, new RegExp(`^cannot list backup target "s3://${bucket}/t-[0-9a-f]+/": endpoint "http://127\\.0\\.0\\.1:\\d+" kept failing after every retry \\(SlowDown: `));
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  });

  it('reports an object replaced during a read (ETag mismatch)', async () => {
    const target = newTarget();
    const other = new S3Target({ ...targetInternals(target), prefix: target.prefix });
    await writeObject(target, 'a.backup', patterned(100));
    assert.equal((await target.list()).length, 1); // pins the ETag
    await other.remove('a.backup');
    await writeObject(other, 'a.backup', patterned(200).subarray(100));
    await assert.rejects(target.readRange('a.backup', 0, 10), (e: unknown) => {
      assert.ok(isQuiverError(e, 'IoError'));
      assert.match(e.message, /^cannot read artifact "a\.backup": the object changed while it was being read \(its ETag no longer matches\)$/);
      return true;
    });
  });

  it('removes the upload of a writer that was killed, and only that one', async () => {
    const target = newTarget();
    // A child process writes 6 MiB (one part uploaded) and dies by SIGKILL just before completing.
    const module = new URL(`./s3-target${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
    const clientModule = new URL(`./s3-client${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
    const settingsJson = JSON.stringify(testSettings());
    const script = `
      const { S3Target } = await import(${JSON.stringify(module)});
      const { createS3Client } = await import(${JSON.stringify(clientModule)});
      const settings = ${settingsJson};
      const { client, endpoint } = createS3Client(settings, process.env);
      const t = new S3Target({ client, bucket: ${JSON.stringify(bucket)}, prefix: ${JSON.stringify(target.prefix)}, settings, endpoint });
      const w = await t.createWriteOnce('killed.backup');
      await w.write(Buffer.alloc(6 * 1024 * 1024, 1));
      await w.commit();
      console.log('not reached');`;
    // Not spawnSync: the S3 server runs in this process and must keep serving the child.
    const result = await run(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { ...process.env, QUIVER_CRASH_POINT: 'backup.beforeRename' });
    assert.equal(result.signal, 'SIGKILL', result.stderr);
    assert.doesNotMatch(result.stdout, /not reached/);
    const left = await server.uploads(bucket, target.prefix);
    assert.equal(left.length, 1);
    assert.deepEqual(await target.list(), [], 'no artifact object');

    // A live writer's upload in the same prefix must survive the cleanup.
    const live = await target.createWriteOnce('live.backup');
    await live.write(patterned(6 * 1024 * 1024));
    await waitFor(async () => (await server.uploads(bucket, target.prefix)).length === 2);

    assert.deepEqual(await target.removeAbandoned(), [`killed.backup [multipart upload ${left[0]!.uploadId}]`]);
    assert.deepEqual((await server.uploads(bucket, target.prefix)).map((u) => u.key), [`${target.prefix}live.backup`]);
    await live.commit();
    assert.deepEqual(await target.removeAbandoned(), []);
    assert.deepEqual(await server.objectKeys(bucket, target.prefix), [`${target.prefix}live.backup`], 'no writer record is left');
  });

  it('removes an upload with no writer record only once it is older than the abandoned-upload age', async () => {
    let now = Date.now();
    const target = newTarget({}, () => now);
    const { client } = createS3Client(testSettings(), server.clientEnv());
    const { CreateMultipartUploadCommand } = await import('@aws-sdk/client-s3');
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${target.prefix}foreign.backup` }));
    assert.deepEqual(await target.removeAbandoned(), []);
    now += s3AbandonedUploadAgeMs + 60_000;
    assert.deepEqual(await target.removeAbandoned(), [`foreign.backup [multipart upload ${created.UploadId}]`]);
  });

  it('names the bucket when it does not exist', async () => {
    const target = new S3Target({ ...targetInternals(newTarget()), bucket: 'no-such-bucket', prefix: 'x/' });
    await assert.rejects(target.probe(), (e: unknown) => {
      assert.ok(isQuiverError(e, 'TargetInvalid'));
      assert.match(e.message, /^cannot use "s3:\/\/no-such-bucket\/x\/" as a backup target: bucket "no-such-bucket" does not exist at endpoint "http:\/\/127\.0\.0\.1:\d+"$/);
      assert.match(e.hint ?? '', /create the bucket first/);
      return true;
    });
  });

  it('says the clock is off when the store answers RequestTimeTooSkewed', async () => {
    const target = newTarget({ maxAttempts: 1 });
    server.faults.push({ count: 5, status: 403, code: 'RequestTimeTooSkewed' });
    await assert.rejects(target.list(), (e: unknown) => {
      assert.ok(isQuiverError(e, 'IoError'));
      assert.match(e.message, /this machine's clock differs too much from the store's \(RequestTimeTooSkewed\)$/);
      return true;
    });
    server.faults.length = 0;
  });
});

function targetInternals(t: S3Target): ConstructorParameters<typeof S3Target>[0] {
  const settings = testSettings();
  const { client, endpoint } = createS3Client(settings, server.clientEnv());
  return { client, bucket: t.bucket, prefix: t.prefix, settings, endpoint, env: server.clientEnv() };
}

async function writeObject(target: S3Target, name: string, bytes: Buffer): Promise<void> {
  const w = await target.createWriteOnce(name);
  await w.write(bytes);
  await w.commit();
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { signal, stdout, stderr };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
