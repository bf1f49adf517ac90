import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileTarget } from './file-target.js';
import { patterned, runTargetContract } from './target-contract.js';

async function tempFolder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'quiver-file-target-'));
}

runTargetContract('FileTarget', async () => {
  const folder = await tempFolder();
  return { target: new FileTarget(folder), cleanup: () => rm(folder, { recursive: true, force: true }) };
});

describe('FileTarget', () => {
  it('makes a committed file read-only (mode 0444)', async () => {
    const folder = await tempFolder();
    try {
      const target = new FileTarget(folder);
      const writer = await target.createWriteOnce('a.backup');
      await writer.write(patterned(10));
      await writer.commit();
      assert.equal((await stat(join(folder, 'a.backup'))).mode & 0o777, 0o444);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('writes under a hidden temporary name and leaves no file at all after abort', async () => {
    const folder = await tempFolder();
    try {
      const target = new FileTarget(folder);
      const writer = await target.createWriteOnce('a.backup');
      await writer.write(patterned(10));
      const during = await readdir(folder);
      assert.equal(during.length, 1);
      assert.match(during[0] ?? '', /^\.a\.backup\.partial-[0-9a-f]{8}-\d+-[0-9a-f]{16}$/);
      await writer.abort();
      assert.deepEqual(await readdir(folder), []);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('leaves only the final file after commit', async () => {
    const folder = await tempFolder();
    try {
      const target = new FileTarget(folder);
      const writer = await target.createWriteOnce('a.backup');
      await writer.write(patterned(10));
      await writer.commit();
      assert.deepEqual(await readdir(folder), ['a.backup']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('removes temporary files of writers on this host that no longer run, and only those', async () => {
    const folder = await tempFolder();
    try {
      const target = new FileTarget(folder);
      const live = await target.createWriteOnce('live.backup');
      await live.write(patterned(10));
      const [liveName] = await readdir(folder);
      const tag = /partial-([0-9a-f]{8})-/.exec(liveName ?? '')![1]!;
      // A pid far above pid_max runs nowhere: its writer is gone.
      const dead = `.dead.backup.partial-${tag}-4194999-0011223344556677`;
      const otherHost = `.other.backup.partial-${tag === '00000000' ? '11111111' : '00000000'}-4194999-0011223344556677`;
      const foreign = '.x.backup.partial-0011223344556677';
      for (const name of [dead, otherHost, foreign]) await writeFile(join(folder, name), 'partial');
      assert.deepEqual(await target.removeAbandoned(), [dead]);
      assert.deepEqual((await readdir(folder)).sort(), [liveName, otherHost, foreign].sort());
      await live.commit();
      assert.deepEqual(await target.removeAbandoned(), []);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('ignores temporary files, folders and other files when listing', async () => {
    const folder = await tempFolder();
    try {
      await writeFile(join(folder, '.x.backup.partial-0011223344556677'), 'partial');
      await writeFile(join(folder, 'readme.txt'), 'hello');
      await writeFile(join(folder, 'real.backup'), 'abc');
      await mkdir(join(folder, 'dir.backup'));
      assert.deepEqual((await new FileTarget(folder).list()).map((e) => e.name), ['real.backup']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('gives file:// URIs with the absolute path', () => {
    const target = new FileTarget('/backups/prod');
    assert.equal(target.uri(), 'file:///backups/prod/');
    assert.equal(target.uri('neo4j-2023-06-29T13-46-27.backup'), 'file:///backups/prod/neo4j-2023-06-29T13-46-27.backup');
  });

  it('leaves the temporary file but no artifact when the process dies at QUIVER_CRASH_POINT=backup.beforeRename', async () => {
    const folder = await tempFolder();
    try {
      // The module next to this test, .ts under tsx or .js when compiled; execArgv carries the tsx loader.
      const module = new URL(`./file-target${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;
      const script = `
        const { FileTarget } = await import(${JSON.stringify(module)});
        const w = await new FileTarget(${JSON.stringify(folder)}).createWriteOnce('a.backup');
        await w.write(Buffer.from('complete bytes'));
        await w.commit();
        console.log('not reached');`;
      const result = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], {
        env: { ...process.env, QUIVER_CRASH_POINT: 'backup.beforeRename' },
        encoding: 'utf8',
      });
      assert.equal(result.signal, 'SIGKILL', result.stderr);
      assert.doesNotMatch(result.stdout, /not reached/);
      const left = await readdir(folder);
      assert.equal(left.length, 1);
      assert.match(left[0] ?? '', /^\.a\.backup\.partial-/);
      assert.deepEqual(await new FileTarget(folder).list(), []);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
