/**
 * Entry point of `bin/quiver`: console (foreground), start (background, waits until ready), stop,
 * status, version. Only this file exits the process.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultHome, layoutOf, loadServerConfig } from '../server/home.js';
import { consoleLogger } from '../server/logger.js';
import { pidFileState, runningPid } from '../server/pid-file.js';
import { reloadCertificates } from '../server/certificate-reload.js';
import { startServer } from '../server/server.js';
import { toolVersion } from '../util/version.js';
import { reportError } from './output.js';

const startTimeoutMs = 120_000;
const stopTimeoutMs = 120_000;

const usage = `usage: quiver <command> [--expand-commands] [--additional-config=<file>] [--verbose]

commands:
  console   run the server in the foreground (Ctrl-C or SIGTERM stops it cleanly; SIGHUP reloads certificates)
  start     start the server in the background and wait until it is ready
  stop      stop the background server (clean shutdown with a final checkpoint)
  status    tell whether the server runs (exit code 3 when it does not)
  version   print Quiver's version
`;

interface Flags {
  expandCommands: boolean;
  additionalConfig: string | undefined;
  verbose: boolean;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = { expandCommands: false, additionalConfig: undefined, verbose: false };
  for (const a of args) {
    if (a === '--expand-commands') flags.expandCommands = true;
    else if (a === '--verbose') flags.verbose = true;
    else if (a.startsWith('--additional-config=')) flags.additionalConfig = a.slice('--additional-config='.length);
    else throw Object.assign(new Error(`unknown option "${a}"`), { usage: true });
  }
  return flags;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function staleMessage(pidFile: string, reason: string): string {
  return `replacing stale pid file "${pidFile}": ${reason}`;
}

async function consoleCommand(flags: Flags): Promise<number> {
  const log = consoleLogger();
  const config = loadServerConfig(defaultHome(), { ...flags, onWarning: (m) => log('warn', m) });
  const layout = layoutOf(config);
  const pidFile = pidFileState(layout.pidFile, config.home);
  if (pidFile.kind === 'running' && pidFile.pid !== process.pid) {
    log('error', `Quiver is already running (pid ${pidFile.pid}).`);
    return 1;
  }
  if (pidFile.kind === 'stale') log('warn', staleMessage(layout.pidFile, pidFile.reason));
  log('info', `Starting Quiver ${toolVersion} in ${config.home}...`);
  const server = await startServer(config, log);
  // Before the pid file exists: SIGHUP's default action ends the process, and quiver-admin signals the pid in it.
  let stopping = false;
  process.on('SIGHUP', () => {
    if (!stopping) reloadCertificates(server, layout, log, 'SIGHUP');
  });
  mkdirSync(layout.runDir, { recursive: true });
  writeFileSync(layout.pidFile, `${process.pid}\n`);
  log('info', 'Started.');
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log('info', `Received ${sig}: stopping...`);
      server
        .stop()
        .catch((e) => log('error', `shutdown: ${(e as Error).message}`))
        .finally(() => {
          rmSync(layout.pidFile, { force: true });
          log('info', 'Stopped.');
          resolve();
        });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

async function startCommand(flags: Flags, rawArgs: string[]): Promise<number> {
  const config = loadServerConfig(defaultHome(), { ...flags, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
  const layout = layoutOf(config);
  const pidFile = pidFileState(layout.pidFile, config.home);
  if (pidFile.kind === 'running') {
    process.stdout.write(`Quiver is already running (pid ${pidFile.pid}).\n`);
    return 0;
  }
  if (pidFile.kind === 'stale') {
    process.stdout.write(`WARN  ${staleMessage(layout.pidFile, pidFile.reason)}\n`);
    rmSync(layout.pidFile, { force: true });
  }
  mkdirSync(layout.logsDir, { recursive: true });
  const logFile = join(layout.logsDir, 'quiver.log');
  const out = openSync(logFile, 'a');
  const entry = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, entry, 'console', ...rawArgs], {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, QUIVER_HOME: config.home },
  });
  closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited !== null) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      process.stderr.write(`Quiver failed to start (exit code ${exited}). Last lines of ${logFile}:\n${tail}\n`);
      return 1;
    }
    if (runningPid(layout.pidFile, config.home) === child.pid) {
      process.stdout.write(`Quiver ${toolVersion} started (pid ${child.pid}). Log: ${logFile}\n`);
      return 0;
    }
    await sleep(100);
  }
  process.stderr.write(`Quiver did not become ready within ${startTimeoutMs / 1000} s; see ${logFile}\n`);
  return 1;
}

async function stopCommand(flags: Flags): Promise<number> {
  const config = loadServerConfig(defaultHome(), { ...flags, onWarning: () => undefined });
  const layout = layoutOf(config);
  // A stale pid file never leads to a signal: its pid may belong to another program by now.
  const pid = runningPid(layout.pidFile, config.home);
  if (!pid) {
    process.stdout.write('Quiver is not running.\n');
    rmSync(layout.pidFile, { force: true });
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(layout.pidFile, { force: true });
      process.stdout.write('Stopped.\n');
      return 0;
    }
    await sleep(100);
  }
  process.stderr.write(`Quiver (pid ${pid}) did not stop within ${stopTimeoutMs / 1000} s.\n`);
  return 1;
}

function statusCommand(flags: Flags): number {
  const config = loadServerConfig(defaultHome(), { ...flags, onWarning: () => undefined });
  const pid = runningPid(layoutOf(config).pidFile, config.home);
  if (pid) {
    process.stdout.write(`Quiver is running at pid ${pid}\n`);
    return 0;
  }
  process.stdout.write('Quiver is not running\n');
  return 3;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  let flags: Flags;
  try {
    flags = parseFlags(rest);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n${usage}`);
    return 64;
  }
  try {
    switch (command) {
      case 'console':
        return await consoleCommand(flags);
      case 'start':
        return await startCommand(flags, rest);
      case 'stop':
        return await stopCommand(flags);
      case 'status':
        return statusCommand(flags);
      case 'version':
      case '--version':
        process.stdout.write(`quiver ${toolVersion}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage);
        return command === undefined ? 64 : 0;
      default:
        process.stderr.write(`error: unknown command "${command}"\n${usage}`);
        return 64;
    }
  } catch (e) {
    return reportError(e, flags.verbose);
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
