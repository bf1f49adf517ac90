/**
 * `bin/quiver start` after a crash: a pid file left behind names a process that is not a running
 * Quiver of this home (a zombie, another program that reused the pid, a dead pid), so start replaces
 * it with a warning, and stop never signals that process; a running Quiver still blocks a second start.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createServer_, quiverBin, runProcess, type TestServer } from './support/harness.js';

const cleanups: Array<() => void> = [];
after(() => cleanups.forEach((c) => c()));

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^\s*(\S)/.exec(stat.slice(stat.lastIndexOf(')') + 1))?.[1];
  } catch {
    return undefined;
  }
}

function writePidFile(server: TestServer, pid: number): void {
  mkdirSync(join(server.home, 'run'), { recursive: true });
  writeFileSync(join(server.home, 'run', 'quiver.pid'), `${pid}\n`);
}

/** Starts with a stale pid file in place, checks the warning and the new server, then stops it. */
async function startReplacesStalePidFile(server: TestServer, stalePid: number, reason: RegExp): Promise<void> {
  const env = { QUIVER_HOME: server.home };
  const start = await runProcess(quiverBin, ['start'], { env });
  assert.equal(start.code, 0, start.stdout + start.stderr);
  assert.match(start.stdout, /WARN {2}replacing stale pid file ".*quiver\.pid": /);
  assert.match(start.stdout, reason);
  const m = /started \(pid (\d+)\)/.exec(start.stdout);
  assert.ok(m, start.stdout);
  assert.notEqual(Number(m[1]), stalePid);
  assert.equal(Number(readFileSync(join(server.home, 'run', 'quiver.pid'), 'utf8')), Number(m[1]));
  const stop = await runProcess(quiverBin, ['stop'], { env });
  assert.equal(stop.code, 0, stop.stderr);
}

test('a pid file naming another live program is stale: stop leaves that program alone and start replaces the file', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  cleanups.push(() => sleeper.kill('SIGKILL'));
  writePidFile(server, sleeper.pid!);
  const env = { QUIVER_HOME: server.home };

  const status = await runProcess(quiverBin, ['status'], { env });
  assert.equal(status.code, 3, status.stdout);
  const stop = await runProcess(quiverBin, ['stop'], { env });
  assert.equal(stop.code, 0);
  assert.match(stop.stdout, /Quiver is not running/);
  assert.equal(sleeper.exitCode, null);
  assert.equal(sleeper.signalCode, null, 'stop must not signal a process that is not Quiver');

  writePidFile(server, sleeper.pid!);
  await startReplacesStalePidFile(server, sleeper.pid!, /is not a Quiver server \(command line: "sleep 60"\)/);
  assert.equal(sleeper.signalCode, null);
});

test('a pid file naming a zombie is stale and start replaces it', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  // The shell starts a child, then becomes `sleep 60`, which never reaps it: the child, exiting
  // after the exec (a shell may reap a child that exits before), stays a zombie.
  const parent: ChildProcess = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(() => parent.kill('SIGKILL'));
  const zombie = await new Promise<number>((res) => parent.stdout!.once('data', (b: Buffer) => res(Number(b.toString().trim()))));
  for (let i = 0; i < 100 && procState(zombie) !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(procState(zombie), 'Z', `pid ${zombie} should be a zombie`);
  writePidFile(server, zombie);
  await startReplacesStalePidFile(server, zombie, new RegExp(`pid ${zombie} is a zombie \\(state Z\\)`));
});

test('a pid file naming a dead pid is stale and start replaces it', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  writePidFile(server, gone.pid!);
  await startReplacesStalePidFile(server, gone.pid!, new RegExp(`pid ${gone.pid} is not running`));
});

test('a running Quiver blocks a second start and console; another home does not take its pid for its own', async () => {
  const server = await createServer_();
  cleanups.push(() => server.cleanup());
  await server.start();
  try {
    const env = { QUIVER_HOME: server.home };
    const pid = Number(readFileSync(join(server.home, 'run', 'quiver.pid'), 'utf8'));
    assert.equal(pid, server.pid);
    const again = await runProcess(quiverBin, ['start'], { env });
    assert.equal(again.code, 0);
    assert.equal(again.stdout.trim(), `Quiver is already running (pid ${pid}).`);
    const console_ = await runProcess(quiverBin, ['console'], { env });
    assert.equal(console_.code, 1);
    assert.match(console_.stdout + console_.stderr, new RegExp(`Quiver is already running \\(pid ${pid}\\)`));

    const other = await createServer_();
    cleanups.push(() => other.cleanup());
    writePidFile(other, pid);
    const status = await runProcess(quiverBin, ['status'], { env: { QUIVER_HOME: other.home } });
    assert.equal(status.code, 3, status.stdout);
  } finally {
    await server.stop();
  }
});
