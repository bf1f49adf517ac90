import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

/** Scheduling policy (stat field 41) and nice value (field 19) of a thread, from /proc. */
const probe = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { readFileSync, readlinkSync } = require('node:fs');
  import(workerData.module).then((m) => {
    m.lowerThreadPriority(workerData.mode);
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parentPort.postMessage({ nice: Number(fields[16]), policy: Number(fields[38]) });
  });
`;

function threadAfter(mode: string): Promise<{ nice: number; policy: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(probe, { eval: true, workerData: { mode, module: new URL('./cpu-priority.js', import.meta.url).href } });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const linux = process.platform === 'linux';
let chrt = false;
try {
  execFileSync('chrt', ['--version'], { stdio: 'ignore' });
  chrt = true;
} catch {
  chrt = false;
}

describe('lowerThreadPriority', { skip: !linux && 'needs Linux /proc' }, () => {
  it('moves only the calling thread to SCHED_IDLE for idle', { skip: !chrt && 'util-linux chrt is not installed' }, async () => {
    const SCHED_IDLE = 5;
    assert.deepEqual(await threadAfter('idle'), { nice: 0, policy: SCHED_IDLE });
    const main = readFileSync('/proc/thread-self/stat', 'utf8');
    assert.equal(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[38]), 0, 'the calling process keeps SCHED_OTHER');
  });

  it('sets nice 10 for low and leaves normal alone', async () => {
    assert.deepEqual(await threadAfter('low'), { nice: 10, policy: 0 });
    assert.deepEqual(await threadAfter('normal'), { nice: 0, policy: 0 });
  });
});
