/**
 * Benchmark output: plain progress lines on stdout, a description of the machine and its load
 * (the VM is noisy and shared, so every report says what else was running), and one final JSON
 * line with every figure for scripts.
 */
import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

export interface Environment {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  loadAverage1m: number;
  /** Other processes using more than 10% CPU when the benchmark started (the VM is shared). */
  busyProcesses: string[];
}

export function describeEnvironment(): Environment {
  let busy: string[] = [];
  try {
    // ps reports CPU use averaged over each process's lifetime; this benchmark itself is left out.
    busy = execFileSync('ps', ['-eo', 'pid,pcpu,args', '--sort=-pcpu', '--no-headers'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, pcpu]) => pid !== undefined && Number(pid) !== process.pid && Number(pcpu) > 10)
      .map(([, pcpu, ...args]) => `${pcpu}% ${args.join(' ').slice(0, 80)}`);
  } catch {
    busy = ['(ps failed)'];
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    freeMemoryGiB: Math.round(freemem() / 2 ** 30),
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    busyProcesses: busy,
  };
}

export function printEnvironment(env: Environment): void {
  say(`date ${env.date}, node ${env.node}, ${env.cpus} vCPU (${env.cpuModel}), ${env.memoryGiB} GiB RAM (${env.freeMemoryGiB} free), load ${env.loadAverage1m}`);
  say(`other busy processes at start: ${env.busyProcesses.length ? env.busyProcesses.join('; ') : 'none'}`);
}

/** The last line of a run: every figure, for scripts and for docs/performance.md. */
export function printJson(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
