import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isQuiverError } from '../util/errors.js';
import { FileTarget } from './file-target.js';
import { resolveArtifactPath, resolveTarget } from './resolve.js';

describe('resolveTarget', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'quiver-resolve-')); });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  async function rejectsWith(promise: Promise<unknown>, message: string): Promise<void> {
    await assert.rejects(promise, (e: unknown) => {
      assert.ok(isQuiverError(e, 'TargetInvalid'), String(e));
      assert.equal(e.message, message);
      return true;
    });
  }

  it('gives a FileTarget for an existing folder, by path or file:// URI', async () => {
    const byPath = await resolveTarget(root, { mustExist: true });
    assert.ok(byPath instanceof FileTarget);
    assert.equal(byPath.uri(), pathToFileURL(`${root}/`).href);
    const byUri = await resolveTarget(pathToFileURL(root).href, { mustExist: true });
    assert.equal(byUri.uri('x.backup'), pathToFileURL(join(root, 'x.backup')).href);
  });

  it('refuses a folder that does not exist, naming it and saying to create it', async () => {
    const missing = join(root, 'missing');
    await rejectsWith(resolveTarget(missing, { mustExist: true }), `cannot use "${missing}" as a backup target: the folder does not exist; create it first`);
    await assert.rejects(resolveTarget(missing, { mustExist: true }), (e: unknown) => isQuiverError(e) && e.hint === `mkdir -p "${missing}"`);
  });

  it('refuses a file', async () => {
    const file = join(root, 'file.txt');
    await writeFile(file, 'x');
    await rejectsWith(resolveTarget(file, { mustExist: true }), `cannot use "${file}" as a backup target: it is not a folder`);
  });

  it('refuses a folder this user cannot write', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async () => {
    const locked = join(root, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    try {
      await rejectsWith(resolveTarget(locked, { mustExist: true }), `cannot use "${locked}" as a backup target: it is not writable by this user`);
      assert.ok(await resolveTarget(locked, { mustExist: true, writable: false }));
    } finally {
      await chmod(locked, 0o755);
    }
  });

  it('refuses a malformed s3:// URI before any request, and refuses other schemes', async () => {
    await rejectsWith(resolveTarget('s3://Bucket_1/backups', { mustExist: true }), 'cannot use "s3://Bucket_1/backups": "Bucket_1" is not a valid bucket name');
    await rejectsWith(resolveTarget('gs://bucket/backups', { mustExist: true }), 'cannot use "gs://bucket/backups": "gs://" targets are not supported');
  });
});

describe('resolveArtifactPath', () => {
  let root: string;
  before(async () => { root = await mkdtemp(join(tmpdir(), 'quiver-resolve-')); });
  after(async () => { await rm(root, { recursive: true, force: true }); });

  it('gives the folder and no file name for a folder', async () => {
    const resolved = await resolveArtifactPath(root);
    assert.equal(resolved.fileName, undefined);
    assert.equal(resolved.target.uri(), pathToFileURL(`${root}/`).href);
  });

  it('gives the containing folder and the file name for a file', async () => {
    const file = join(root, 'neo4j-2024-10-07T16-05-37.backup');
    await writeFile(file, 'x');
    const resolved = await resolveArtifactPath(file);
    assert.equal(resolved.fileName, 'neo4j-2024-10-07T16-05-37.backup');
    assert.equal(resolved.target.uri(resolved.fileName), pathToFileURL(file).href);
  });

  it('refuses a path that does not exist', async () => {
    await assert.rejects(resolveArtifactPath(join(root, 'nope')), (e: unknown) => isQuiverError(e, 'TargetInvalid'));
  });
});
