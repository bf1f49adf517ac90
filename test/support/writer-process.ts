/**
 * Runs one of the child programs in test/support (a writer that a crash point kills) to its end:
 * the .ts file through tsx when the tests run from sources, the built .js otherwise.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashPointEnvVar } from '../../src/targets/crash-points.js';

const here = dirname(fileURLToPath(import.meta.url));
const fromSources = import.meta.url.endsWith('.ts');

export interface WriterRun {
  stdout: string;
  stderr: string;
  signal: NodeJS.Signals | null;
  code: number | null;
  /** The transaction id of the writer's `ack <txId>` line, 0 when it printed none. */
  ackTxId: number;
}

/** Runs `test/support/<program>` with `args`, the named crash point armed from the start when given. */
export function runWriterProcess(program: string, args: string[], crashPoint?: string): Promise<WriterRun> {
  const script = fromSources ? ['--import', 'tsx', join(here, `${program}.ts`)] : [join(here, `${program}.js`)];
  const env = crashPoint === undefined ? process.env : { ...process.env, [crashPointEnvVar]: crashPoint };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const m = /^ack (\d+)$/m.exec(stdout);
      resolve({ stdout, stderr, signal, code, ackTxId: m ? Number(m[1]) : 0 });
    });
  });
}
