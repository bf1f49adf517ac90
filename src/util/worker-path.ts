/**
 * Starts a worker script that sits next to the calling module, both when running compiled
 * JavaScript (dist/) and TypeScript through tsx (development). Under tsx, Node 20 does not apply
 * `--import tsx` from a worker's execArgv to the worker's entry module, so a tiny ESM bootstrap
 * registers tsx inside the worker first and then imports the TypeScript worker.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(callerUrl: string, baseName: string, options: WorkerOptions = {}): Worker {
  const extension = extname(fileURLToPath(callerUrl));
  const workerUrl = new URL(`./${baseName}${extension}`, callerUrl);
  if (extension !== '.ts') return new Worker(workerUrl, options);
  const bootstrap = [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `await import(${JSON.stringify(workerUrl.href)});`,
  ].join('\n');
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}
