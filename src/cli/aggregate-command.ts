/**
 * `quiver-admin database aggregate-backup` (also `quiver-admin backup aggregate`).
 */
import { Command, Option } from 'commander';
import { aggregateBackup } from '../backup/restore/aggregate.js';
import { QuiverError } from '../util/errors.js';
import { addCommonOptions, type CommonAdminOptions, loadAdminConfig, parseBool, targetSettingsOf } from './options.js';
import { adminLogger } from './output.js';

export const aggregateBooleanFlags = ['--keep-old-backup', '--parallel-recovery'];

interface AggregateCliOptions extends CommonAdminOptions {
  fromPath?: string;
  keepOldBackup: boolean;
  parallelRecovery: boolean;
  tempPath?: string;
  format: 'text' | 'json';
}

export function aggregateCommand(name: string, run: (code: number) => void): Command {
  const cmd = new Command(name)
    .description('Collapse a backup chain into one new full artifact; the old chain is removed once the new artifact is verified.')
    .argument('[database]', 'Database whose newest chain to aggregate (needed when the folder holds several).')
    .option('--from-path <dir|file>', 'Folder of artifacts, or an artifact of the chain to aggregate.')
    .option('--keep-old-backup <true|false>', 'Keep the old chain after aggregation.', parseBool, false)
    .option('--parallel-recovery <true|false>', 'Decode differentials on a worker thread while applying (application itself is serial: the store has one writer).', parseBool, false)
    .option('--temp-path <dir>', 'Staging folder for the replayed store (default: the system temp folder).')
    .addOption(new Option('--format <format>', 'Output format.').choices(['text', 'json']).default('text'));
  addCommonOptions(cmd);
  cmd.action(async (database: string | undefined, o: AggregateCliOptions) => {
    const json = o.format === 'json';
    const log = adminLogger(json);
    if (!o.fromPath) throw new QuiverError('UsageInvalid', 'missing required option --from-path', { hint: 'pass the folder that holds the chain' });
    const config = loadAdminConfig('quiver-admin-database-aggregate-backup.conf', o, (m) => log('warn', m));
    const r = await aggregateBackup({ fromPath: o.fromPath, database, keepOldBackup: o.keepOldBackup, tempPath: o.tempPath, parallelRecovery: o.parallelRecovery, targetSettings: targetSettingsOf(config), log });
    if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else if (!r.aggregated) process.stdout.write(`Nothing to aggregate: the chain of database '${r.database}' is already the single full artifact '${r.uri.replace(/^file:\/\//, '')}'.\n`);
    else process.stdout.write(`Successfully aggregated backup chain of database '${r.database}', new artifact: '${r.uri.replace(/^file:\/\//, '')}'.\n`);
    run(0);
  });
  return cmd;
}
