/**
 * `quiver-admin database restore`: options and output. Neo4j's syntax, plus --apply-metadata
 * and --format=json.
 */
import { Command, Option } from 'commander';
import { restoreDatabase, type RestoreResult } from '../backup/restore/restore.js';
import { parseRestoreUntil } from '../backup/plan/restore-until.js';
import { databaseSettingsOf, layoutOf } from '../server/home.js';
import { QuiverError } from '../util/errors.js';
import { databaseNotRunningCheck, localDatabaseState } from './local-server.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig, parseBool, targetSettingsOf } from './options.js';
import { adminLogger } from './output.js';

export const restoreBooleanFlags = ['--overwrite-destination', '--parallel-recovery'];

interface RestoreCliOptions extends CommonAdminOptions {
  fromPath?: string;
  restoreUntil?: string;
  overwriteDestination: boolean;
  sourceDatabase?: string;
  toPathData?: string;
  toPathTxn?: string;
  tempPath?: string;
  parallelRecovery: boolean;
  applyMetadata?: string;
  format: 'text' | 'json';
}

export function restoreCommand(run: (code: number) => void): Command {
  const cmd = new Command('restore')
    .description('Restore a database from a backup chain (full artifact plus differentials).')
    .argument('[database]', 'Name to restore as (default: the name in the artifacts).')
    .option('--from-path <path[,path...]>', 'A full or differential artifact, a folder of artifacts (newest chain), or a comma-separated list.')
    .option('--restore-until <tx id | "YYYY-MM-DD HH:MM:SS">', 'Restore every transaction before this transaction id, or committed before this UTC time.')
    .option('--overwrite-destination <true|false>', 'Replace an existing (stopped) database.', parseBool, false)
    .option('--source-database <name>', 'Which database to restore when --from-path holds several.')
    .option('--to-path-data <dir>', 'Base folder for stores (default: server.directories.data).')
    .option('--to-path-txn <dir>', 'Base folder for transaction logs (default: server.directories.transaction.logs.root).')
    .option('--temp-path <dir>', 'Staging folder (default: beside the destination).')
    .option('--parallel-recovery <true|false>', 'Decode differentials on a worker thread while applying (application itself is serial: the store has one writer).', parseBool, false)
    .option('--apply-metadata <bolt-uri>', 'After restoring, bring the database online on this server (the one whose data folder was restored into) and run restore_metadata.cypher there (e.g. bolt://localhost:7687; credentials from QUIVER_USER / QUIVER_PASSWORD).')
    .addOption(new Option('--format <format>', 'Output format of the result.').choices(['text', 'json']).default('text'));
  addCommonOptions(cmd);
  cmd.action(async (database: string | undefined, o: RestoreCliOptions) => {
    const json = o.format === 'json';
    const log = adminLogger(json);
    if (!o.fromPath) throw new QuiverError('UsageInvalid', 'missing required option --from-path', { hint: 'pass a .backup file or a folder of them' });
    const fromPaths = o.fromPath.split(',').map((s) => s.trim()).filter(Boolean);
    if (database && fromPaths.length > 1) throw new QuiverError('UsageInvalid', 'a new database name can only be given when --from-path names one source');
    const config = loadAdminConfig('quiver-admin-database-restore.conf', o, (m) => log('warn', m));
    const layout = layoutOf(config);
    const until = o.restoreUntil !== undefined ? parseRestoreUntil(o.restoreUntil) : null;
    const started = Date.now();
    const result = await restoreDatabase({
      fromPaths,
      database,
      sourceDatabase: o.sourceDatabase,
      until,
      overwrite: o.overwriteDestination,
      dataDir: layout.dataDir,
      txRoot: layout.txRoot,
      scriptsDir: layout.scriptsDir,
      toPathData: o.toPathData,
      toPathTxn: o.toPathTxn,
      tempPath: o.tempPath,
      settings: databaseSettingsOf(config),
      parallelRecovery: o.parallelRecovery,
      targetSettings: targetSettingsOf(config),
      assertNotRunning: databaseNotRunningCheck(config),
      log,
    });
    let metadataApplied = false;
    if (o.applyMetadata) {
      // Loaded only when asked for: the driver takes about 0.1 s to load, a tenth of a small restore.
      const { bringOnlineAndApplyMetadata } = await import('./apply-metadata.js');
      await bringOnlineAndApplyMetadata(o.applyMetadata, result.database, result.databaseId, result.metadataScript, log);
      metadataApplied = true;
    }
    // Whether the next step is CREATE or START depends on what the server knows, not on the files.
    const known = await localDatabaseState(config, result.database);
    if (json) process.stdout.write(JSON.stringify({ ...result, durationMs: Date.now() - started, metadataApplied }, null, 2) + '\n');
    else printNextSteps(result, known, metadataApplied, Date.now() - started);
    run(0);
  });
  return cmd;
}

function printNextSteps(r: RestoreResult, known: 'absent' | 'online' | 'stopped' | null, metadataApplied: boolean, ms: number): void {
  const create = `  1. Bring it online: run  CREATE DATABASE ${r.database}  against the system database (it adopts the restored store).`;
  const start = `  1. Start the database again: run  START DATABASE ${r.database}  against the system database.`;
  const first =
    known === 'absent' ? create
    : known === 'stopped' ? start
    : known === 'online' ? `  1. A database named ${r.database} is online on the local server and does not use this restored store: restore into the server's own folders under another name, or stop it and restore over it.`
    : r.replaced ? `  1. Start the server, then run  START DATABASE ${r.database}  against the system database (or  CREATE DATABASE ${r.database}  if the server never had it).`
    : create;
  const done = metadataApplied ? `  1. Done: the database is online and its users and roles${r.metadataScript ? '' : ' (none in the backup)'} were applied.` : first;
  const lines = [
    '',
    `Restored database '${r.database}' (id ${r.databaseId}) up to transaction ${r.lastTxId}${r.lastCommitTimeMs ? ` (committed ${new Date(r.lastCommitTimeMs).toISOString()})` : ''} in ${(ms / 1000).toFixed(1)} s:`,
    `  from ${r.fullArtifact}${r.diffArtifacts.length ? ` + ${r.diffArtifacts.length} differential(s), ${r.transactionsReplayed} transaction(s) replayed` : ''}`,
    `  store: ${r.storeDir}`,
    `  transaction log: ${r.logDir}`,
    '',
    'Next steps:',
    done,
  ];
  if (r.metadataScript && !metadataApplied) {
    lines.push(
      `  2. Recreate its users and roles: run the commands in ${r.metadataScript} against the system database, with $database bound to '${r.database}' (or pass --apply-metadata=bolt://host:7687 next time).`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
