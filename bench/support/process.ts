/**
 * Runs one child process and measures it: wall time from spawn to exit, and peak memory read from
 * /proc/<pid>/status (VmHWM, the kernel's own high-water mark of the resident set, sampled until
 * the process exits, so the last sample is the peak up to at most one sampling interval), and CPU
 * time read from /proc/<pid>/stat the same way (so it misses at most the last interval's).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Sampling interval of /proc/<pid>/status: short enough to catch the end of a one-second run. */
const rssSampleIntervalMs = 50;

export interface TimedRun {
  command: string;
  code: number | null;
  ms: number;
  /** Highest VmHWM seen, in bytes (0 when /proc could not be read). */
  peakRssBytes: number;
  /** CPU time (user + system) at the last sample before exit, in ms (0 when /proc could not be read). */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

export interface TimedRunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
}

function vmHwmBytes(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // exited between samples
  }
}

/** USER_HZ: 100 on every Linux build Node supports (getconf CLK_TCK). */
const clockTicksPerSecond = 100;

/** CPU time (user + system) of a live process from /proc/<pid>/stat, in ms; 0 when it cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return 0; // exited between samples
  }
}

/** Spawns `bin args`, resolves when it exits (never rejects on a non-zero exit; check `code`). */
export function runTimed(bin: string, args: string[], options: TimedRunOptions = {}): Promise<TimedRun> {
  const command = [bin, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRssBytes = 0;
    let cpuMs = 0;
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const sampler = setInterval(() => {
      if (child.pid === undefined) return;
      peakRssBytes = Math.max(peakRssBytes, vmHwmBytes(child.pid));
      cpuMs = Math.max(cpuMs, processCpuMs(child.pid));
    }, rssSampleIntervalMs);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`"${command}" did not finish within ${options.timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 3_600_000);
    child.once('error', (e) => {
      clearInterval(sampler);
      clearTimeout(timer);
      reject(new Error(`cannot start "${command}": ${e.message}`, { cause: e }));
    });
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      clearInterval(sampler);
      clearTimeout(timer);
      resolve({ command, code, ms, peakRssBytes, cpuMs, stdout, stderr });
    });
  });
}

/** Like runTimed, but throws with the output when the exit code is not 0. */
export async function runTimedOk(bin: string, args: string[], options: TimedRunOptions = {}): Promise<TimedRun> {
  const r = await runTimed(bin, args, options);
  if (r.code !== 0) throw new Error(`"${r.command}" exited with code ${r.code}\nstdout:\n${r.stdout.slice(-4000)}\nstderr:\n${r.stderr.slice(-4000)}`);
  return r;
}

/** Runs a shell pipeline with `set -o pipefail`, so a failure in any stage fails the run. */
export function runPipeline(script: string, options: TimedRunOptions = {}): Promise<TimedRun> {
  return runTimedOk('/bin/bash', ['-c', `set -euo pipefail; ${script}`], options);
}

/**
 * Reads `path` once so that both sides of a comparison start with a warm page cache. The VM may
 * still empty the cache from outside at any time (reference/deps.md), which is one source of noise.
 */
export function warmPageCache(path: string): Promise<TimedRun> {
  return runPipeline(`cat ${shellQuote(path)} > /dev/null`);
}

/**
 * Writes dirty pages back and empties the page cache (root only, /proc/sys/vm/drop_caches), so that
 * every timed run starts from the same memory state. On the reference VM, writing 2 GiB into a new
 * file took 0.7 s right after 2 GiB had been freed and 5.4 s when nothing had been (pages the VM has
 * to back first): without this, the order of the steps decided the ratio. Returns false when not
 * permitted (the run then goes on without it, and says so).
 */
export async function dropPageCache(): Promise<boolean> {
  const r = await runTimed('sh', ['-c', 'sync && echo 1 > /proc/sys/vm/drop_caches']);
  return r.code === 0;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
