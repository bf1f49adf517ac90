/**
 * `quiver-admin database backup`: option parsing and output for the backup client. Exactly the
 * syntax of Neo4j's command, plus --temp-path and --format=json (a machine-readable summary).
 */
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import type { IncludeMetadata } from '../backup/artifact/artifact-header.js';
import { runBackup, type BackupRunResult } from '../backup/client/backup-client.js';
import type { RequestedType } from '../backup/plan/backup-plan.js';
import { inspectPathReport } from '../backup/catalog/inspect.js';
import { loadClientTls } from '../tls/client-tls.js';
import { resolveTarget } from '../targets/resolve.js';
import { QuiverError } from '../util/errors.js';
import { formatBytes, formatDuration } from '../util/format.js';
import { lowerProcessPriority } from '../util/cpu-priority.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig, parseBool, parseServerList, parseSize, targetSettingsOf } from './options.js';
import { adminLogger } from './output.js';

/** Exit code of a run stopped by a signal: 128 + the signal's number, as shells report it. */
const signalExitCode = { SIGINT: 130, SIGTERM: 143 } as const;

export const backupBooleanFlags = ['--compress', '--keep-failed', '--parallel-recovery'];

interface BackupCliOptions extends CommonAdminOptions {
  from?: string[];
  toPath?: string;
  type: string;
  compress: boolean;
  keepFailed: boolean;
  parallelRecovery: boolean;
  pagecache?: number;
  includeMetadata: IncludeMetadata;
  inspectPath?: string;
  tempPath?: string;
  format: 'text' | 'json';
}

export function backupCommand(run: (code: number) => void): Command {
  const cmd = new Command('backup')
    .description("Perform an online backup from a running Quiver server. Quiver's backup service must be enabled on the server.")
    .argument('[database...]', 'Name(s) of the remote database(s) to backup. Supports globbing inside of double quotes, for example, "data*". "*" backs up every database, system included.')
    // Collected as given; parseServerList checks every entry (an empty one is an error, not a default).
    .option('--from <host:port>', 'Comma-separated list of host and port of Quiver servers, each of which are tried in order (repeatable).', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--to-path <path>', 'Directory to place backup in (required unless --inspect-path is used). It must exist.')
    .addOption(new Option('--type <type>', 'Type of backup to perform: FULL, DIFF or AUTO. AUTO makes a differential when a chain exists, else a full.').default('AUTO'))
    .option('--compress <true|false>', 'Request backup artifact to be compressed (zstd).', parseBool, true)
    .option('--keep-failed <true|false>', 'Keep the received data of a failed backup (in a .<artifact>.failed folder) for analysis.', parseBool, false)
    .option('--parallel-recovery <true|false>', 'Accepted for compatibility: artifacts are written without a recovery step, so there is nothing to parallelise.', parseBool, false)
    .option('--pagecache <size>', 'Memory for the backup process store cache (accepted; the backup streams with bounded buffers).', parseSize)
    .addOption(new Option('--include-metadata <what>', 'Include users and roles commands in the artifact (not for the system database).').choices(['none', 'all', 'users', 'roles']).default('all'))
    .option('--inspect-path <path>', 'List and show the metadata of the backup artifact(s). Accepts a folder or a file.')
    .option('--temp-path <path>', 'Folder for temporary files (kept failed payloads).')
    .addOption(new Option('--format <format>', 'Output format of the final summary or of --inspect-path.').choices(['text', 'json']).default('text'));
  addCommonOptions(cmd);
  cmd.action(async (databases: string[], o: BackupCliOptions) => {
    const json = o.format === 'json';
    const log = adminLogger(json);
    const config = loadAdminConfig('quiver-admin-database-backup.conf', o, (m) => log('warn', m));
    if (o.inspectPath) {
      const r = await inspectPathReport(o.inspectPath, { format: json ? 'json' : 'table', verbose: Boolean(o.verbose), targetSettings: targetSettingsOf(config) });
      process.stdout.write(r.output.endsWith('\n') ? r.output : r.output + '\n');
      return run(r.problems > 0 ? 1 : 0);
    }
    // Backups yield the CPU to the database they copy (which often runs on this same machine):
    // this process takes the priority the server's backup threads take (util/cpu-priority.ts).
    lowerProcessPriority(config.get('server.backup.cpu_priority'));
    if (!o.toPath) throw new QuiverError('UsageInvalid', 'missing required option --to-path', { hint: 'give the folder to place backups in, for example --to-path=/backups' });
    const type = o.type.toUpperCase();
    if (type !== 'FULL' && type !== 'DIFF' && type !== 'AUTO') {
      throw new QuiverError('UsageInvalid', `invalid value "${o.type}" for --type`, { hint: 'use FULL, DIFF or AUTO' });
    }
    // A malformed address is a usage error (exit 64), not an unreachable server (exit 1).
    const from = parseServerList(o.from, 'localhost:6362');
    // The client always uses the backup policy, whichever port it dials (as Neo4j's does).
    const tls = loadClientTls(config.getSslPolicy('backup'), (w) => log('warn', w));
    const target = await resolveTarget(o.toPath, { mustExist: true, ...targetSettingsOf(config) });
    // SIGINT and SIGTERM stop the run cleanly: transfers cut, unfinished artifacts removed, locks
    // released; the exit code is then 128 + the signal's number, as a shell reports it.
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) return;
      log('warn', `Received ${signal}: stopping the backup, removing unfinished artifacts and releasing locks.`);
      stop.abort(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let result: BackupRunResult;
    try {
      result = await runBackup({
        databases: databases.length ? databases : ['neo4j'],
        from,
        target,
        type: type as RequestedType,
        compress: o.compress,
        keepFailed: o.keepFailed,
        tempPath: o.tempPath,
        includeMetadata: o.includeMetadata,
        verbose: Boolean(o.verbose),
        log,
        command: ['quiver-admin', ...process.argv.slice(2)].join(' '),
        timeouts: { connectTimeoutMs: config.get('backup.client.connect_timeout'), idleTimeoutMs: config.get('backup.client.idle_timeout') },
        signal: stop.signal,
        tls,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (json) process.stdout.write(JSON.stringify(summaryJson(result), null, 2) + '\n');
    else printSummary(result);
    run(stop.signal.aborted ? signalExitCode[stop.signal.reason as 'SIGINT' | 'SIGTERM'] : result.exitCode);
  });
  return cmd;
}

/** The --format=json summary (docs/backup.md): each outcome plus `path`, the artifact's local file path. */
function summaryJson(r: BackupRunResult) {
  const databases = r.outcomes.map(({ database, databaseId, server, outcome, type, empty, artifact, uri, ...rest }) => {
    const path = uri !== null && uri.startsWith('file:') ? fileURLToPath(uri) : null;
    return { database, databaseId, server, outcome, type, empty, artifact, uri, path, ...rest };
  });
  return { exitCode: r.exitCode, unreachableServers: r.unreachableServers, databases };
}

function printSummary(r: BackupRunResult): void {
  const lines = ['', 'Backup summary:'];
  for (const o of r.outcomes) {
    if (o.outcome === 'ok') {
      const range = o.empty ? 'empty differential (no new transactions)' : `tx ${o.lowestTx}..${o.highestTx}`;
      lines.push(`  ${o.database}: OK ${o.type} ${o.artifact} ${range}, ${formatBytes(o.bytesStored ?? 0)} in ${formatDuration(o.durationMs)} from ${o.server}${o.fallbackReason ? ` (fell back to FULL: ${o.fallbackReason})` : ''}`);
    } else {
      lines.push(`  ${o.database}: FAILED ${o.error}${o.hint ? ` (${o.hint})` : ''}`);
    }
  }
  for (const u of r.unreachableServers) lines.push(`  server ${u.server}: UNREACHABLE ${u.error}`);
  const ok = r.outcomes.filter((o) => o.outcome === 'ok').length;
  lines.push(`${ok} of ${r.outcomes.length} database(s) backed up${r.unreachableServers.length ? `; ${r.unreachableServers.length} server(s) could not be reached` : ''}.`);
  process.stdout.write(lines.join('\n') + '\n');
}

/** `quiver-admin backup inspect <path>`: the same listing as `database backup --inspect-path`. */
export function inspectCommand(run: (code: number) => void): Command {
  return new Command('inspect')
    .description('List backup artifacts with their metadata (reads only header and trailer).')
    .argument('<path>', 'A folder of artifacts or one artifact file.')
    .addOption(new Option('--format <format>', 'Output format.').choices(['text', 'json']).default('text'))
    .option('--verbose', 'Show every column.')
    .option('--additional-config <file>', 'Configuration file with additional configuration (backup.s3.* for s3:// paths).')
    .action(async (path: string, o: { format: 'text' | 'json'; verbose?: boolean; additionalConfig?: string }) => {
      const config = loadAdminConfig('quiver-admin.conf', o, (m) => process.stderr.write(`warning: ${m}\n`));
      const r = await inspectPathReport(path, { format: o.format === 'json' ? 'json' : 'table', verbose: Boolean(o.verbose), targetSettings: targetSettingsOf(config) });
      process.stdout.write(r.output.endsWith('\n') ? r.output : r.output + '\n');
      run(r.problems > 0 ? 1 : 0);
    });
}
